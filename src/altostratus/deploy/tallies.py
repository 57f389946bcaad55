"""A variant's traffic summed up cheaply: counts, a latency histogram, the predictions' distribution.

Tallies add in memory on every request (a few dictionary updates) and merge with tallies flushed by
other processes, so every part is a sum or a histogram with fixed buckets:
- latency: buckets 5% wide on a log scale from 10 microseconds, so a percentile is read to within 5%;
- classification: the count of each predicted label (at most `MAX_LABELS`, the rest as "(other)");
- regression: count, sum, sum of squares, minimum, maximum, and a histogram of asinh(value) in steps of
  1/4 (about 28% wide for large values, 0.25 wide near zero, either sign).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

LATENCY_FLOOR_MS = 0.01
LATENCY_RATIO = 1.05
VALUE_STEPS = 4.0
MAX_LABELS = 100
OTHER_LABEL = "(other)"
_LOG_RATIO = math.log(LATENCY_RATIO)


def latency_bucket(ms: float) -> int:
    """The histogram bucket of a latency: bucket i holds (10 us * 1.05**(i-1), 10 us * 1.05**i]."""
    if ms <= LATENCY_FLOOR_MS:
        return 0
    return math.ceil(math.log(ms / LATENCY_FLOOR_MS) / _LOG_RATIO)


def latency_bound(bucket: int) -> float:
    """The upper bound (ms) of a latency bucket."""
    return LATENCY_FLOOR_MS * LATENCY_RATIO**bucket


def value_bucket(value: float) -> int:
    """The histogram bucket of a predicted value."""
    return round(math.asinh(value) * VALUE_STEPS)


def value_range(bucket: int) -> tuple[float, float]:
    """The values a value bucket holds."""
    return math.sinh((bucket - 0.5) / VALUE_STEPS), math.sinh((bucket + 0.5) / VALUE_STEPS)


@dataclasses.dataclass
class Tally:
    """One variant's requests over some time: counts, latencies, and what it predicted."""

    requests: int = 0
    errors: int = 0
    latency_ms_total: float = 0.0
    latency: dict[int, int] = dataclasses.field(default_factory=dict)
    labels: dict[str, int] = dataclasses.field(default_factory=dict)
    values: int = 0
    value_total: float = 0.0
    value_squares: float = 0.0
    value_min: float = math.inf
    value_max: float = -math.inf
    value_histogram: dict[int, int] = dataclasses.field(default_factory=dict)

    def add(self, latency_ms: float, outcomes: list[str | float] | None) -> None:
        """Count one request: its latency and its predictions (None: it failed)."""
        self.requests += 1
        self.latency_ms_total += latency_ms
        bucket = latency_bucket(latency_ms)
        self.latency[bucket] = self.latency.get(bucket, 0) + 1
        if outcomes is None:
            self.errors += 1
            return
        for outcome in outcomes:
            if isinstance(outcome, str):
                self._add_label(outcome, 1)
            else:
                self._add_value(outcome)

    def merge(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.requests += other.requests
        self.errors += other.errors
        self.latency_ms_total += other.latency_ms_total
        _add_counts(self.latency, other.latency)
        for label, count in other.labels.items():
            self._add_label(label, count)
        self.values += other.values
        self.value_total += other.value_total
        self.value_squares += other.value_squares
        self.value_min = min(self.value_min, other.value_min)
        self.value_max = max(self.value_max, other.value_max)
        _add_counts(self.value_histogram, other.value_histogram)

    def percentile(self, fraction: float) -> float | None:
        """The latency (ms) that `fraction` of the requests stayed within; None without requests."""
        total = sum(self.latency.values())
        if total == 0:
            return None
        rank = max(1, math.ceil(fraction * total))
        seen = 0
        for bucket in sorted(self.latency):
            seen += self.latency[bucket]
            if seen >= rank:
                return latency_bound(bucket)
        return latency_bound(max(self.latency))

    @property
    def error_rate(self) -> float:
        """Errors per request (0 without requests)."""
        return self.errors / self.requests if self.requests else 0.0

    def to_json(self) -> dict[str, Any]:
        """The tally as JSON-ready parts (histogram keys as strings)."""
        return {
            "latency": {str(k): v for k, v in self.latency.items()},
            "labels": dict(self.labels),
            "values": {
                "count": self.values,
                "sum": self.value_total,
                "squares": self.value_squares,
                "min": self.value_min if self.values else None,
                "max": self.value_max if self.values else None,
                "histogram": {str(k): v for k, v in self.value_histogram.items()},
            },
        }

    @classmethod
    def from_parts(cls, requests: int, errors: int, latency_ms_total: float, parts: Mapping[str, Any]) -> Tally:
        """A tally from its counts and the parts `to_json` gave."""
        values = parts.get("values") or {}
        return cls(
            requests=requests,
            errors=errors,
            latency_ms_total=latency_ms_total,
            latency={int(k): int(v) for k, v in (parts.get("latency") or {}).items()},
            labels={str(k): int(v) for k, v in (parts.get("labels") or {}).items()},
            values=int(values.get("count", 0)),
            value_total=float(values.get("sum", 0.0)),
            value_squares=float(values.get("squares", 0.0)),
            value_min=math.inf if values.get("min") is None else float(values["min"]),
            value_max=-math.inf if values.get("max") is None else float(values["max"]),
            value_histogram={int(k): int(v) for k, v in (values.get("histogram") or {}).items()},
        )

    def _add_label(self, label: str, count: int) -> None:
        if label not in self.labels and len(self.labels) >= MAX_LABELS:
            label = OTHER_LABEL
        self.labels[label] = self.labels.get(label, 0) + count

    def _add_value(self, value: float) -> None:
        if not math.isfinite(value):
            return
        self.values += 1
        self.value_total += value
        self.value_squares += value * value
        self.value_min = min(self.value_min, value)
        self.value_max = max(self.value_max, value)
        bucket = value_bucket(value)
        self.value_histogram[bucket] = self.value_histogram.get(bucket, 0) + 1


def _add_counts(into: dict[int, int], other: Mapping[int, int]) -> None:
    for key, count in other.items():
        into[key] = into.get(key, 0) + count
