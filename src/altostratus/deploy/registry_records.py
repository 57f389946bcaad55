"""How the registry's groups, versions and history events are read from and written to its tables.

Every function takes a connection, so the registry composes them into one transaction where a change
must be atomic (a promotion moves two versions, the production pointer and the history together).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from altostratus.deploy.stages import Event, EventKind, Stage
from altostratus.deploy.tables import registry_events, registry_groups, registry_versions
from altostratus.deploy.versions import GateStatus, ModelGroup, ModelVersion
from altostratus.storage.paging import Listed, ListQuery, Page, fetch_page

GROUPS = Listed(registry_groups)
# A version's name is its group's: by name, a group's versions follow each other in order.
VERSIONS = Listed(registry_versions, name="group_name", tiebreak=("version",))


# ---- groups -----------------------------------------------------------------------------------------


def insert_group(db: Connection, group: ModelGroup) -> None:
    """Add a group row (IntegrityError if the name is taken)."""
    db.execute(insert(registry_groups).values(**dataclasses.asdict(group)))


def find_group(db: Connection, name: str) -> ModelGroup | None:
    """The group, or None."""
    row = db.execute(select(registry_groups).where(registry_groups.c.name == name)).first()
    return ModelGroup(**row._mapping) if row is not None else None


def list_groups(db: Connection, query: ListQuery) -> Page[ModelGroup]:
    """Groups matching the query, one page."""
    return fetch_page(db, select(registry_groups), query, GROUPS, lambda row: ModelGroup(**row._mapping))


def set_policy(db: Connection, name: str, policy: Mapping[str, Any] | None) -> None:
    """Replace the group's gate policy."""
    db.execute(update(registry_groups).where(registry_groups.c.name == name).values(policy=policy))


def take_version_number(db: Connection, name: str) -> int:
    """The group's next version number, taken (the UPDATE comes first, so it also takes the row's lock)."""
    table = registry_groups
    db.execute(update(table).where(table.c.name == name).values(next_version=table.c.next_version + 1))
    number = db.execute(select(table.c.next_version).where(table.c.name == name)).scalar_one()
    return int(number) - 1


def swap_prod(db: Connection, name: str, expected: int | None, new: int | None) -> bool:
    """Point the group's production version at `new` if it is still `expected`; False if it moved meanwhile."""
    column = registry_groups.c.prod_version
    still = column.is_(None) if expected is None else column == expected
    result = db.execute(update(registry_groups).where(registry_groups.c.name == name, still).values(prod_version=new))
    return result.rowcount == 1


def count_versions(db: Connection, name: str) -> int:
    """How many versions the group holds."""
    statement = select(func.count()).select_from(registry_versions).where(registry_versions.c.group_name == name)
    return int(db.execute(statement).scalar_one())


def delete_group(db: Connection, name: str) -> None:
    """Remove the group row."""
    db.execute(delete(registry_groups).where(registry_groups.c.name == name))


def last_version_number(db: Connection, name: str) -> int:
    """The highest version number this group name ever had (history outlives deleted groups), or 0."""
    statement = select(func.max(registry_events.c.version)).where(registry_events.c.group_name == name)
    return int(db.execute(statement).scalar_one() or 0)


# ---- versions ---------------------------------------------------------------------------------------


def insert_version(db: Connection, version: ModelVersion) -> None:
    """Add a version row."""
    db.execute(insert(registry_versions).values(**dataclasses.asdict(version)))


def find_version(db: Connection, group: str, number: int) -> ModelVersion | None:
    """The version, or None."""
    table = registry_versions
    row = db.execute(select(table).where(table.c.group_name == group, table.c.version == number)).first()
    return _version(row._mapping) if row is not None else None


def list_versions(db: Connection, group: str | None, stage: Stage | None, query: ListQuery) -> Page[ModelVersion]:
    """Versions matching the query (of one group, in one stage), one page."""
    table = registry_versions
    statement = select(table)
    if group is not None:
        statement = statement.where(table.c.group_name == group)
    if stage is not None:
        statement = statement.where(table.c.stage == stage.value)
    return fetch_page(db, statement, query, VERSIONS, lambda row: _version(row._mapping))


def update_version(
    db: Connection, group: str, number: int, values: Mapping[str, Any], *, promotion_id: str | None = None
) -> bool:
    """Change a version; with `promotion_id`, only while that promotion is its current one. True if it changed."""
    table = registry_versions
    statement = update(table).where(table.c.group_name == group, table.c.version == number).values(**values)
    if promotion_id is not None:
        statement = statement.where(table.c.promotion_id == promotion_id)
    return db.execute(statement).rowcount == 1


def archive_prod(db: Connection, group: str, values: Mapping[str, Any]) -> None:
    """Move the group's production version(s) to archived."""
    table = registry_versions
    db.execute(
        update(table)
        .where(table.c.group_name == group, table.c.stage == Stage.PROD.value)
        .values(stage=Stage.ARCHIVED.value, **values)
    )


def delete_version(db: Connection, group: str, number: int) -> None:
    """Remove the version row."""
    table = registry_versions
    db.execute(delete(table).where(table.c.group_name == group, table.c.version == number))


# ---- history ----------------------------------------------------------------------------------------


def append_event(
    db: Connection,
    group: str,
    version: int | None,
    kind: EventKind,
    at: dt.datetime,
    actor: str,
    *,
    from_stage: Stage | None = None,
    to_stage: Stage | None = None,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    """Add one row to the group's history."""
    db.execute(
        insert(registry_events).values(
            group_name=group,
            version=version,
            event=kind.value,
            from_stage=from_stage.value if from_stage else None,
            to_stage=to_stage.value if to_stage else None,
            at=at,
            actor=actor,
            reason=reason,
            details=details,
        )
    )


@dataclasses.dataclass(frozen=True)
class Change:
    """When, by whom and why a version changes: its row's update stamp and its history event share these."""

    at: dt.datetime
    actor: str
    reason: str = ""
    details: Mapping[str, Any] | None = None


def move(
    db: Connection, version: ModelVersion, kind: EventKind, to_stage: Stage, values: Mapping[str, Any], change: Change
) -> None:
    """Change the version's row and append the history event that says it went from its stage to `to_stage`."""
    stamped = {**values, "updated_at": change.at, "updated_by": change.actor}
    update_version(db, version.group_name, version.version, stamped)
    append_event(
        db,
        version.group_name,
        version.version,
        kind,
        change.at,
        change.actor,
        from_stage=version.stage,
        to_stage=to_stage,
        reason=change.reason,
        details=change.details,
    )


def events(db: Connection, group: str) -> list[Event]:
    """The group's history, oldest first."""
    table = registry_events
    rows = db.execute(select(table).where(table.c.group_name == group).order_by(table.c.event_id)).all()
    return [
        Event(
            event_id=row.event_id,
            group_name=row.group_name,
            version=row.version,
            event=EventKind(row.event),
            from_stage=Stage(row.from_stage) if row.from_stage else None,
            to_stage=Stage(row.to_stage) if row.to_stage else None,
            at=row.at,
            actor=row.actor,
            reason=row.reason,
            details=row.details,
        )
        for row in rows
    ]


# ---- shared -----------------------------------------------------------------------------------------


def _version(row: Mapping[Any, Any]) -> ModelVersion:
    values = dict(row)
    values["stage"] = Stage(values["stage"])
    values["gate_status"] = GateStatus(values["gate_status"])
    return ModelVersion(**values)
