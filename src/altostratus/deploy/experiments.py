"""Experiment statistics: per-variant traffic counted in memory and flushed, and the report read back.

`ExperimentRecorder.record` costs a dictionary update and a list append under a lock; `flush` (every
second, from the server's heartbeat) sums the tallies into the metadata store and writes the inference
log in one transaction. A request with one record is logged under its inference id; a request with N
records logs `ID#0` .. `ID#N-1`, so each record's outcome can be fed back.

`ExperimentReports.report` reads it all back for one endpoint: requests, errors, latency percentiles and
prediction distributions per variant, and, where outcomes have been joined, online accuracy (or mean
absolute error for regression) with a confidence interval and a test against the champion: the canary's
champion while one runs, else the production variant with the most weight.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import threading
from typing import Any

from altostratus.core.clock import Clock
from altostratus.deploy.experiment_records import ExperimentStore, Joined, TallyKey, VariantKey
from altostratus.deploy.hosting import Endpoint
from altostratus.deploy.significance import (
    CONFIDENCE,
    Comparison,
    Interval,
    Sample,
    compare_means,
    compare_proportions,
    wilson,
)
from altostratus.deploy.tallies import Tally, value_range

log = logging.getLogger(__name__)
# Past this many unflushed log rows (the database is unreachable), new ones are dropped, not kept forever.
MAX_PENDING_LOG = 1_000_000


class ExperimentRecorder:
    """Counts every request in memory; `flush` writes the counts and the inference log."""

    def __init__(self, store: ExperimentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._tallies: dict[TallyKey, Tally] = {}
        self._log: list[dict[str, Any]] = []
        self.dropped = 0

    def record(
        self,
        endpoint: str,
        variant: str,
        *,
        shadow: bool,
        inference_id: str,
        outcomes: list[str | float] | None,
        latency_ms: float,
    ) -> None:
        """Count one request of a variant: its predictions' labels or values (None: it failed) and latency."""
        now = self._clock.now()
        key = (endpoint, variant, shadow, now.replace(second=0, microsecond=0))
        base = {
            "endpoint_name": endpoint,
            "variant_name": variant,
            "shadow": shadow,
            "latency_ms": latency_ms,
            "at": now,
        }
        if outcomes is None:
            rows = [{**base, "inference_id": inference_id, "label": None, "value": None, "error": True}]
        else:
            rows = [
                {
                    **base,
                    "inference_id": inference_id if len(outcomes) == 1 else f"{inference_id}#{n}",
                    "label": outcome if isinstance(outcome, str) else None,
                    "value": None if isinstance(outcome, str) else outcome,
                    "error": False,
                }
                for n, outcome in enumerate(outcomes)
            ]
        with self._lock:
            tally = self._tallies.get(key)
            if tally is None:
                tally = self._tallies[key] = Tally()
            tally.add(latency_ms, outcomes)
            if len(self._log) < MAX_PENDING_LOG:
                self._log.extend(rows)
            else:
                self.dropped += len(rows)

    def flush(self) -> int:
        """Write what was counted since the last flush; how many log rows. Kept for the next try on failure."""
        with self._flush_lock:
            with self._lock:
                tallies, self._tallies = self._tallies, {}
                rows, self._log = self._log, []
            if not tallies and not rows:
                return 0
            try:
                self._store.add(tallies, rows)
            except Exception:
                with self._lock:
                    for key, tally in tallies.items():
                        self._tallies.setdefault(key, Tally()).merge(tally)
                    self._log[:0] = rows
                raise
            return len(rows)


@dataclasses.dataclass(frozen=True)
class OnlineMetric:
    """A variant's predictions scored against outcomes: accuracy (classification) or MAE (regression)."""

    metric: str
    outcomes: int
    value: float
    interval: Interval


@dataclasses.dataclass(frozen=True)
class VariantReport:
    """One variant's experiment statistics."""

    name: str
    shadow: bool
    weight: float | None
    tally: Tally
    online: OnlineMetric | None
    versus_champion: Comparison | None
    joined: Joined

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        tally = self.tally
        data: dict[str, Any] = {
            "variant": self.name,
            "shadow": self.shadow,
            "weight": self.weight,
            "requests": tally.requests,
            "errors": tally.errors,
            "error_rate": round(tally.error_rate, 6),
            "latency_ms": {
                "mean": round(tally.latency_ms_total / tally.requests, 3) if tally.requests else None,
                **{name: _rounded(tally.percentile(q)) for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))},
            },
            "predictions": _distribution(tally),
            "online": None,
            "versus_champion": None,
        }
        if self.online is not None:
            data["online"] = {
                "metric": self.online.metric,
                "outcomes": self.online.outcomes,
                "value": round(self.online.value, 6),
                "interval": [round(self.online.interval.low, 6), round(self.online.interval.high, 6)],
                "confidence": CONFIDENCE,
            }
        if self.versus_champion is not None:
            c = self.versus_champion
            data["versus_champion"] = {
                "difference": round(c.difference, 6),
                "interval": [round(c.interval.low, 6), round(c.interval.high, 6)],
                "p_value": c.p_value,
                "test": c.test,
                "significant": c.significant,
                "worse": self.worse,
            }
        return data

    @property
    def worse(self) -> bool:
        """Whether this variant is significantly worse than the champion."""
        c = self.versus_champion
        if c is None or not c.significant or self.online is None:
            return False
        return c.difference < 0 if self.online.metric == "accuracy" else c.difference > 0


@dataclasses.dataclass(frozen=True)
class ExperimentReport:
    """An endpoint's experiment: every variant's statistics, and which one is the champion."""

    endpoint: str
    champion: str | None
    variants: tuple[VariantReport, ...]

    def variant(self, name: str) -> VariantReport | None:
        """The report of the variant called name (production first), or None."""
        return next((v for v in self.variants if v.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "endpoint": self.endpoint,
            "champion": self.champion,
            "variants": [variant.to_dict() for variant in self.variants],
        }


class ExperimentReports:
    """Builds experiment reports from the store."""

    def __init__(self, store: ExperimentStore) -> None:
        self._store = store

    def report(
        self,
        endpoint: Endpoint,
        *,
        champion: str | None = None,
        since: dt.datetime | None = None,
        alpha: float = 1 - CONFIDENCE,
    ) -> ExperimentReport:
        """The endpoint's statistics; `champion` defaults to the production variant with the most weight."""
        tallies = self._store.totals(endpoint.name, since)
        joined = self._store.joined(endpoint.name)
        if champion is None and endpoint.production:
            champion = max(endpoint.production, key=lambda v: v.current_weight).name
        keys: list[VariantKey] = [(v.name, v.shadow) for v in endpoint.variants]
        keys += sorted(set(tallies) - set(keys))
        weights = {v.name: v.current_weight for v in endpoint.production}
        champion_joined = joined.get((champion, False), Joined()) if champion else Joined()
        variants = []
        for name, shadow in keys:
            mine = joined.get((name, shadow), Joined())
            is_champion = name == champion and not shadow
            variants.append(
                VariantReport(
                    name,
                    shadow,
                    None if shadow else weights.get(name),
                    tallies.get((name, shadow), Tally()),
                    _online(mine),
                    None if is_champion or champion is None else _compare(champion_joined, mine, alpha),
                    mine,
                )
            )
        return ExperimentReport(endpoint.name, champion, tuple(variants))


def _online(joined: Joined) -> OnlineMetric | None:
    if joined.labelled:
        accuracy = joined.correct / joined.labelled
        return OnlineMetric("accuracy", joined.labelled, accuracy, wilson(joined.correct, joined.labelled))
    if joined.valued:
        sample = _abs_errors(joined)
        return OnlineMetric("mean_absolute_error", joined.valued, sample.mean, sample.interval())
    return None


def _compare(champion: Joined, challenger: Joined, alpha: float) -> Comparison | None:
    if champion.labelled and challenger.labelled:
        return compare_proportions(
            (champion.correct, champion.labelled), (challenger.correct, challenger.labelled), alpha=alpha
        )
    if champion.valued and challenger.valued:
        return compare_means(_abs_errors(champion), _abs_errors(challenger), alpha=alpha)
    return None


def _abs_errors(joined: Joined) -> Sample:
    # The squares of the absolute errors are the squared errors: sum |e| and sum e^2 give their variance.
    return Sample.of_sums(joined.valued, joined.abs_error_total, joined.squared_error_total)


def _distribution(tally: Tally) -> dict[str, Any]:
    if tally.labels:
        return {"labels": dict(sorted(tally.labels.items(), key=lambda item: -item[1]))}
    if not tally.values:
        return {}
    mean = tally.value_total / tally.values
    variance = max(0.0, tally.value_squares / tally.values - mean * mean)
    return {
        "values": {
            "count": tally.values,
            "mean": round(mean, 6),
            "std": round(math.sqrt(variance), 6),
            "min": tally.value_min,
            "max": tally.value_max,
            "histogram": [
                {"low": round(low, 6), "high": round(high, 6), "count": tally.value_histogram[bucket]}
                for bucket in sorted(tally.value_histogram)
                for low, high in [value_range(bucket)]
            ],
        }
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
