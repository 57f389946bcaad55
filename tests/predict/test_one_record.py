"""Predict's one-record table reads a record exactly as the general table_from_records does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from altostratus.predict import Attribute, AttributeType, InvalidInput, ReadOptions, Schema, TextSource
from altostratus.predict.table import load_table, table_from_record, table_from_records

TYPES = (AttributeType.NUMERIC, AttributeType.BINARY, AttributeType.CATEGORICAL, AttributeType.TEXT)
VALUES = st.sampled_from(
    ["", " ", "?", "NA", "NaN", "nan", "inf", "1", "0", "-999", " 2.5 ", "1e3", "1_0", "yes", "No", "t", "x", "a b"]
)


def outcome(read: Any) -> Any:
    """The table a reader makes (columns, labels) or its error message."""
    try:
        table = read()
    except InvalidInput as error:
        return ("error", str(error))
    columns = {
        name: [("nan" if np.isnan(v) else v) if isinstance(v, float) else v for v in column.tolist()]
        for name, column in table.columns.items()
    }
    return columns, None if table.labels is None else table.labels.tolist(), table.rows


@settings(max_examples=400, deadline=None)
@given(
    types=st.lists(st.sampled_from(TYPES), min_size=1, max_size=4),
    values=st.lists(VALUES | st.integers(), min_size=4, max_size=4),
    left_out=st.sets(st.integers(0, 3)),
    extra=st.none() | st.just("stranger"),
    target=st.booleans(),
    excluded=st.booleans(),
    markers=st.sampled_from([ReadOptions().missing_markers, frozenset({"-999", "x"})]),
)
def test_one_record_reads_as_table_from_records_reads_it(
    types: list[AttributeType],
    values: list[Any],
    left_out: set[int],
    extra: str | None,
    target: bool,
    excluded: bool,
    markers: frozenset[str],
) -> None:
    names = [f"f{index}" for index in range(len(types))]
    schema = Schema(
        tuple(Attribute(name, kind) for name, kind in zip(names, types, strict=True)),
        target=names[0] if target else None,
        excluded=(names[-1],) if excluded and len(names) > 1 else (),
    )
    record = {
        name: value for index, (name, value) in enumerate(zip(names, values, strict=False)) if index not in left_out
    }
    if extra:
        record[extra] = "1"
    expected = outcome(lambda: table_from_records(schema, [record], markers))
    assert outcome(lambda: table_from_record(schema, record, markers)) == expected


@pytest.mark.parametrize("value", ["-999", " -999 "])
def test_a_missing_marker_that_reads_as_a_number_is_missing_on_every_path(value: str) -> None:
    schema = Schema((Attribute("x", AttributeType.NUMERIC), Attribute("c", AttributeType.CATEGORICAL)))
    markers = frozenset({"-999"})
    assert np.isnan(table_from_record(schema, {"x": value}, markers).numeric("x")[0])
    assert np.isnan(table_from_records(schema, [{"x": value}], markers).numeric("x")[0])
    csv = TextSource("data.csv", f"{value},a\n1.5,b\n")
    loaded = load_table([csv], schema, ReadOptions(missing_markers=markers))
    assert loaded.table.numeric("x")[0] != loaded.table.numeric("x")[0]
    assert loaded.table.numeric("x")[1] == 1.5
