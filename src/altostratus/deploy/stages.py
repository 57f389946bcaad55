"""Stages of a registered model version, the events that move it between them, and the production timeline.

A version is registered in `test` (a candidate), reaches `prod` only through the promotion gate (or a
rollback), and leaves it for `archived`. SageMaker names the same three states by approval status:
PendingManualApproval, Approved and Rejected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any


class Stage(enum.StrEnum):
    """Where a version is in its life."""

    TEST = "test"
    PROD = "prod"
    ARCHIVED = "archived"

    @property
    def approval_status(self) -> str:
        """SageMaker's ModelApprovalStatus for this stage."""
        return APPROVAL_STATUS[self]


APPROVAL_STATUS = {Stage.TEST: "PendingManualApproval", Stage.PROD: "Approved", Stage.ARCHIVED: "Rejected"}
STAGE_OF_STATUS = {status: stage for stage, status in APPROVAL_STATUS.items()}


class EventKind(enum.StrEnum):
    """What a history row records."""

    GROUP_CREATED = "group-created"
    GROUP_DELETED = "group-deleted"
    POLICY_SET = "policy-set"
    REGISTERED = "registered"
    PROMOTION_REQUESTED = "promotion-requested"
    PROMOTION_CANCELLED = "promotion-cancelled"
    PROMOTED = "promoted"
    REFUSED = "promotion-refused"
    REPLACED = "replaced"
    REJECTED = "rejected"
    REOPENED = "reopened"
    ROLLED_BACK = "rolled-back"
    RESTORED = "restored"
    DELETED = "deleted"


@dataclasses.dataclass(frozen=True)
class Event:
    """One row of a group's append-only history."""

    event_id: int
    group_name: str
    version: int | None
    event: EventKind
    from_stage: Stage | None
    to_stage: Stage | None
    at: dt.datetime
    actor: str
    reason: str
    details: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-able values (the time in ISO 8601)."""
        values = dataclasses.asdict(self)
        values["at"] = self.at.isoformat()
        return values


@dataclasses.dataclass(frozen=True)
class ProdInterval:
    """A version that was in production from `since` until `until` (None: it still is)."""

    version: int
    since: dt.datetime
    until: dt.datetime | None


def prod_timeline(events: Iterable[Event]) -> list[ProdInterval]:
    """Which version was in production when, replayed from the history in order."""
    intervals: list[ProdInterval] = []
    current: tuple[int, dt.datetime] | None = None
    for event in events:
        leaves = current is not None and event.version == current[0] and event.from_stage is Stage.PROD
        if leaves and event.to_stage is not Stage.PROD:
            assert current is not None
            intervals.append(ProdInterval(current[0], current[1], event.at))
            current = None
        if event.to_stage is Stage.PROD and event.from_stage is not Stage.PROD and event.version is not None:
            if current is not None:
                intervals.append(ProdInterval(current[0], current[1], event.at))
            current = (event.version, event.at)
    if current is not None:
        intervals.append(ProdInterval(current[0], current[1], None))
    return intervals


def prod_at(timeline: Iterable[ProdInterval], moment: dt.datetime) -> int | None:
    """The version in production at `moment`, or None."""
    found = None
    for interval in timeline:
        if interval.since <= moment and (interval.until is None or moment < interval.until):
            found = interval.version
    return found
