"""Experiment data in the metadata store: per-minute tallies, the inference log, outcomes, outcome files.

Tallies are summed into one row per endpoint, variant and minute, whichever server process flushed them;
the inference log holds one row per answered record (its inference id, variant and prediction) and the
outcomes one row per inference id, so online accuracy is one join, aggregated by the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from altostratus.deploy.tables import (
    endpoint_inferences,
    endpoint_outcome_files,
    endpoint_outcomes,
    endpoint_stats,
)
from altostratus.deploy.tallies import Tally
from altostratus.storage.metadata import MetadataStore

TallyKey = tuple[str, str, bool, dt.datetime]  # endpoint, variant, shadow, minute
VariantKey = tuple[str, bool]  # variant, shadow
CHUNK = 500


@dataclasses.dataclass(frozen=True)
class Joined:
    """A variant's predictions that have an outcome: classification hits, regression absolute errors."""

    labelled: int = 0
    correct: int = 0
    valued: int = 0
    abs_error_total: float = 0.0
    squared_error_total: float = 0.0


class ExperimentStore:
    """Reads and writes the experiment tables."""

    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

    def add(self, tallies: Mapping[TallyKey, Tally], log: Sequence[Mapping[str, Any]]) -> None:
        """Sum tallies into their minute rows and append inference log rows, in one transaction."""
        try:
            self._add(tallies, log)
        except IntegrityError:
            # Another process inserted one of these minute rows between our read and insert: now it is there.
            self._add(tallies, log)

    def _add(self, tallies: Mapping[TallyKey, Tally], log: Sequence[Mapping[str, Any]]) -> None:
        table = endpoint_stats
        with self._metadata.begin() as db:
            for (endpoint, variant, shadow, minute), tally in tallies.items():
                where = and_(
                    table.c.endpoint_name == endpoint, table.c.variant_name == variant, table.c.minute == minute
                )
                row = db.execute(select(table).where(where).with_for_update()).first()
                if row is None:
                    db.execute(
                        insert(table).values(
                            endpoint_name=endpoint,
                            variant_name=variant,
                            minute=minute,
                            shadow=shadow,
                            **_tally_values(tally),
                        )
                    )
                    continue
                merged = Tally.from_parts(row.requests, row.errors, row.latency_ms_total, row.parts)
                merged.merge(tally)
                db.execute(update(table).where(where).values(**_tally_values(merged)))
            for start in range(0, len(log), CHUNK):
                db.execute(insert(endpoint_inferences), list(log[start : start + CHUNK]))

    def totals(self, endpoint: str, since: dt.datetime | None = None) -> dict[VariantKey, Tally]:
        """Each variant's tally, summed over the minutes since `since` (None: all of them)."""
        table = endpoint_stats
        condition = table.c.endpoint_name == endpoint
        if since is not None:
            condition = and_(condition, table.c.minute >= since.replace(second=0, microsecond=0))
        with self._metadata.read() as db:
            rows = db.execute(select(table).where(condition).order_by(table.c.minute)).all()
        found: dict[VariantKey, Tally] = {}
        for row in rows:
            tally = Tally.from_parts(row.requests, row.errors, row.latency_ms_total, row.parts)
            found.setdefault((row.variant_name, row.shadow), Tally()).merge(tally)
        return found

    def joined(self, endpoint: str) -> dict[VariantKey, Joined]:
        """Each variant's predictions joined to their outcomes by inference id, summed up."""
        i, o = endpoint_inferences, endpoint_outcomes
        error = i.c.value - o.c.value
        both_values = and_(i.c.value.is_not(None), o.c.value.is_not(None))
        statement = (
            select(
                i.c.variant_name,
                i.c.shadow,
                func.sum(case((i.c.label.is_not(None), 1), else_=0)),
                func.sum(case((i.c.label == o.c.label, 1), else_=0)),
                func.sum(case((both_values, 1), else_=0)),
                func.sum(case((both_values, func.abs(error)), else_=0.0)),
                func.sum(case((both_values, error * error), else_=0.0)),
            )
            .select_from(i.join(o, and_(i.c.endpoint_name == o.c.endpoint_name, i.c.inference_id == o.c.inference_id)))
            .where(i.c.endpoint_name == endpoint, i.c.error.is_(False))
            .group_by(i.c.variant_name, i.c.shadow)
        )
        with self._metadata.read() as db:
            rows = db.execute(statement).all()
        return {
            (r[0], bool(r[1])): Joined(
                int(r[2] or 0), int(r[3] or 0), int(r[4] or 0), float(r[5] or 0), float(r[6] or 0)
            )
            for r in rows
        }

    def put_outcomes(self, endpoint: str, outcomes: Iterable[tuple[str, str]], source: str, at: dt.datetime) -> int:
        """Record (inference id, label) outcomes, replacing earlier ones for the same ids; how many."""
        rows = {inference_id: label for inference_id, label in outcomes}
        items = list(rows.items())
        table = endpoint_outcomes
        with self._metadata.begin() as db:
            for start in range(0, len(items), CHUNK):
                chunk = items[start : start + CHUNK]
                db.execute(
                    delete(table).where(
                        table.c.endpoint_name == endpoint, table.c.inference_id.in_([key for key, _ in chunk])
                    )
                )
                db.execute(
                    insert(table),
                    [
                        {
                            "endpoint_name": endpoint,
                            "inference_id": key,
                            "label": label,
                            "value": _number(label),
                            "source": source[:1100],
                            "at": at,
                        }
                        for key, label in chunk
                    ],
                )
        return len(items)

    def outcome_files_seen(self, bucket: str) -> dict[str, str]:
        """Key -> ETag of every outcome file of the bucket read so far."""
        table = endpoint_outcome_files
        with self._metadata.read() as db:
            rows = db.execute(select(table.c.key, table.c.etag).where(table.c.bucket == bucket)).all()
        return {row.key: row.etag for row in rows}

    def mark_outcome_file(self, bucket: str, key: str, etag: str, rows: int, problem: str, at: dt.datetime) -> None:
        """Remember that the file (at this ETag) was read: how many outcomes it gave, or what was wrong."""
        table = endpoint_outcome_files
        with self._metadata.begin() as db:
            db.execute(delete(table).where(table.c.bucket == bucket, table.c.key == key))
            db.execute(insert(table).values(bucket=bucket, key=key, etag=etag, rows=rows, problem=problem, at=at))


def _tally_values(tally: Tally) -> dict[str, Any]:
    return {
        "requests": tally.requests,
        "errors": tally.errors,
        "latency_ms_total": tally.latency_ms_total,
        "parts": tally.to_json(),
    }


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
