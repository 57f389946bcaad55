"""Statistics of a datasource, as Amazon ML shows them: counts, missing and invalid values, distributions,
and each attribute's correlation with the target.

Correlation with the target, from 0 (none) to 1, by the pair of types:
- numeric or binary attribute, numeric or binary target: |Pearson r| (the sign is kept in `signed`);
- categorical attribute, numeric or binary target, or numeric attribute, categorical target:
  the correlation ratio (eta), how much of the variance the categories explain;
- categorical attribute, categorical target: Cramér's V;
- text attributes: none (None).
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from altostratus.predict.schema import AttributeType
from altostratus.predict.table import InvalidValues, LoadedData, Objects, Table, factorize

HISTOGRAM_BINS = 10
TOP_VALUES = 10
TEXT_SAMPLE = 50_000
MAX_CONTINGENCY_CELLS = 4_000_000
NUMERIC_TYPES = (AttributeType.NUMERIC, AttributeType.BINARY)


@dataclasses.dataclass(frozen=True)
class ValueCount:
    """A value and how many rows have it."""

    value: str
    count: int


@dataclasses.dataclass(frozen=True)
class HistogramBin:
    """Rows whose value is in [low, high) (the last bin includes high)."""

    low: float
    high: float
    count: int


@dataclasses.dataclass(frozen=True)
class NumericSummary:
    """The distribution of a numeric attribute."""

    minimum: float
    maximum: float
    mean: float
    median: float
    stddev: float
    histogram: list[HistogramBin]


@dataclasses.dataclass(frozen=True)
class CategoricalSummary:
    """The distribution of a categorical or binary attribute: distinct values and the most frequent ones."""

    distinct: int
    top: list[ValueCount]


@dataclasses.dataclass(frozen=True)
class TextSummary:
    """The distribution of a text attribute: words per value and the most frequent words."""

    distinct: int
    mean_words: float
    max_words: int
    top_words: list[ValueCount]


@dataclasses.dataclass(frozen=True)
class Correlation:
    """An attribute's correlation with the target, from 0 to 1, and how it was measured."""

    value: float
    method: str
    signed: float | None = None


@dataclasses.dataclass(frozen=True)
class AttributeStatistics:
    """One attribute: its type, how many values are present, missing and invalid, and its distribution."""

    name: str
    type: str
    present: int
    missing: int
    invalid: int
    invalid_examples: list[str]
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None
    text: TextSummary | None = None
    target_correlation: Correlation | None = None


@dataclasses.dataclass(frozen=True)
class DataStatistics:
    """A datasource's statistics: rows kept after the split, rows and bytes read, files, and every attribute."""

    rows: int
    rows_read: int
    bytes_read: int
    files: int
    target: str | None
    attributes: list[AttributeStatistics]

    def to_dict(self) -> dict[str, Any]:
        """The statistics as JSON-able dicts and lists."""
        return dataclasses.asdict(self)


def compute_statistics(data: LoadedData) -> DataStatistics:
    """Statistics of a loaded datasource (after its split)."""
    table = data.table
    target = _target_values(table)
    attributes = [
        _attribute(table, attribute.name, attribute.type, data.invalid.get(attribute.name), target)
        for attribute in table.schema.attributes
        if attribute.name in table.columns
    ]
    return DataStatistics(
        rows=table.rows,
        rows_read=data.rows_read,
        bytes_read=data.bytes_read,
        files=data.files,
        target=table.schema.target,
        attributes=attributes,
    )


def _attribute(
    table: Table,
    name: str,
    kind: AttributeType,
    invalid: InvalidValues | None,
    target: npt.NDArray[np.float64] | npt.NDArray[np.intp] | None,
) -> AttributeStatistics:
    column = table.columns[name]
    present = np.isfinite(column) if kind in NUMERIC_TYPES else np.fromiter((v is not None for v in column), bool)
    correlation = None
    if target is not None and name != table.schema.target:
        correlation = _correlation(table, name, kind, target)
    return AttributeStatistics(
        name=name,
        type=kind.value,
        present=int(present.sum()),
        missing=int(table.rows - present.sum()),
        invalid=invalid.count if invalid else 0,
        invalid_examples=[f"{where}: {value!r}" for where, value in invalid.examples] if invalid else [],
        numeric=_numeric(table.numeric(name)) if kind is AttributeType.NUMERIC else None,
        categorical=_categorical(table, name, kind),
        text=_text(table.strings(name)) if kind is AttributeType.TEXT else None,
        target_correlation=correlation,
    )


def _numeric(column: npt.NDArray[np.float64]) -> NumericSummary | None:
    values = column[np.isfinite(column)]
    if values.size == 0:
        return None
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
    return NumericSummary(
        minimum=float(values.min()),
        maximum=float(values.max()),
        mean=float(values.mean()),
        median=float(np.median(values)),
        stddev=float(values.std()),
        histogram=[
            HistogramBin(float(low), float(high), int(n))
            for low, high, n in zip(edges[:-1], edges[1:], counts, strict=True)
        ],
    )


def _categorical(table: Table, name: str, kind: AttributeType) -> CategoricalSummary | None:
    if kind is AttributeType.BINARY:
        column = table.numeric(name)
        both = [ValueCount("1", int((column == 1).sum())), ValueCount("0", int((column == 0).sum()))]
        return CategoricalSummary(distinct=sum(1 for c in both if c.count), top=sorted(both, key=lambda c: -c.count))
    if kind is not AttributeType.CATEGORICAL:
        return None
    codes, values = factorize(table.strings(name))
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    order = np.argsort(-counts, kind="stable")[:TOP_VALUES]
    return CategoricalSummary(distinct=len(values), top=[ValueCount(values[i], int(counts[i])) for i in order])


def _text(column: Objects) -> TextSummary | None:
    values = [value for value in column[:TEXT_SAMPLE] if value is not None]
    if not values:
        return None
    words = [value.lower().split() for value in values]
    lengths = [len(split) for split in words]
    counter = collections.Counter(word for split in words for word in split)
    return TextSummary(
        distinct=len(set(values)),
        mean_words=float(np.mean(lengths)),
        max_words=max(lengths),
        top_words=[ValueCount(word, count) for word, count in counter.most_common(TOP_VALUES)],
    )


def _target_values(table: Table) -> npt.NDArray[np.float64] | npt.NDArray[np.intp] | None:
    """The target as floats (NUMERIC, BINARY; NaN missing) or as class codes (CATEGORICAL; -1 missing)."""
    target = table.schema.target
    if target is None or target not in table.columns:
        return None
    if table.schema.type_of(target) in NUMERIC_TYPES:
        return table.numeric(target)
    if table.schema.type_of(target) is AttributeType.CATEGORICAL:
        return factorize(table.strings(target))[0]
    return None


def _correlation(
    table: Table, name: str, kind: AttributeType, target: npt.NDArray[np.float64] | npt.NDArray[np.intp]
) -> Correlation | None:
    numeric_target = target.dtype == np.float64
    if kind is AttributeType.TEXT:
        return None
    if kind in NUMERIC_TYPES:
        values = table.numeric(name)
        if numeric_target:
            return _pearson(values, target.astype(np.float64))
        return _correlation_ratio(target.astype(np.intp), values)
    codes = factorize(table.strings(name))[0]
    if numeric_target:
        return _correlation_ratio(codes, target.astype(np.float64))
    return _cramers_v(codes, target.astype(np.intp))


def _pearson(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> Correlation | None:
    both = np.isfinite(x) & np.isfinite(y)
    if both.sum() < 2 or x[both].std() == 0 or y[both].std() == 0:
        return None
    r = float(np.corrcoef(x[both], y[both])[0, 1])
    return Correlation(value=abs(r), method="pearson", signed=r)


def _correlation_ratio(groups: npt.NDArray[np.intp], values: npt.NDArray[np.float64]) -> Correlation | None:
    """eta: the share of the values' spread that the groups explain, as a square root."""
    both = (groups >= 0) & np.isfinite(values)
    if both.sum() < 2:
        return None
    groups, values = groups[both], values[both]
    total = float(((values - values.mean()) ** 2).sum())
    if total == 0:
        return None
    counts = np.bincount(groups)
    sums = np.bincount(groups, weights=values)
    present = counts > 0
    between = float((sums[present] ** 2 / counts[present]).sum() - values.sum() ** 2 / values.size)
    return Correlation(value=float(np.sqrt(max(0.0, min(1.0, between / total)))), method="correlation_ratio")


def _cramers_v(x: npt.NDArray[np.intp], y: npt.NDArray[np.intp]) -> Correlation | None:
    both = (x >= 0) & (y >= 0)
    if both.sum() < 2:
        return None
    x, y = x[both], y[both]
    rows, cols = int(x.max()) + 1, int(y.max()) + 1
    if min(rows, cols) < 2 or rows * cols > MAX_CONTINGENCY_CELLS:
        return None
    observed = np.bincount(x * cols + y, minlength=rows * cols).reshape(rows, cols).astype(np.float64)
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    nonzero = expected > 0
    chi2 = float(((observed - expected)[nonzero] ** 2 / expected[nonzero]).sum())
    return Correlation(value=float(np.sqrt(chi2 / (observed.sum() * (min(rows, cols) - 1)))), method="cramers_v")
