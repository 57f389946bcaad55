"""The function registry: functions, numbered versions, aliases and invocation records in the metadata store.

Every change to a version or alias row is conditional on the revision id it was read with, so two writers
racing on one function never overwrite each other: the loser gets PreconditionFailedException.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from altostratus.functions.definitions import LATEST, FunctionConfig, FunctionState
from altostratus.functions.errors import FunctionExists, FunctionNotFound, ResourceConflict, revision_mismatch
from altostratus.functions.tables import function_aliases, function_invocations, function_versions, functions
from altostratus.storage.metadata import MetadataStore

log = logging.getLogger(__name__)

# What must differ from the newest published version for PublishVersion to make a new one.
PUBLISHED_FIELDS = (
    "code_sha256",
    "handler",
    "runtime",
    "timeout",
    "memory",
    "environment",
    "dead_letter_target",
    "ephemeral_storage",
    "vpc_config",
)


def new_revision_id() -> str:
    """A fresh RevisionId (a UUID, as Lambda's)."""
    return str(uuid.uuid4())


@dataclasses.dataclass(frozen=True)
class Alias:
    """A name for a version, optionally sending a share of invocations to a second version."""

    function_name: str
    name: str
    function_version: str
    description: str = ""
    routing: Mapping[str, float] = dataclasses.field(default_factory=dict)
    revision_id: str = ""


@dataclasses.dataclass(frozen=True)
class Unused:
    """What no version refers to any more after a change: code blobs, and code (by CodeSha256) unpacked on disk."""

    blob_keys: list[str]
    code_sha256s: list[str]


@dataclasses.dataclass(frozen=True)
class InvocationRecord:
    """One invocation as recorded: who ran, when, how long, how it ended, and the (bounded) log."""

    request_id: str
    function_name: str
    version: str
    invocation_type: str
    started_at: dt.datetime
    duration_ms: float
    cold_start: bool
    memory_mb: int
    max_memory_mb: int
    status: str
    error_type: str | None
    log: str
    id: int = 0


# A synchronous invoke's record is written by a background thread within this many seconds, in batches, so
# the request does not wait for a write transaction (records of Event invocations are written at once).
RECORD_BATCH_SECONDS = 0.05


class RecordBatcher:
    """Inserts invocation records in batches from one background thread."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, values: dict[str, Any]) -> None:
        """Queue one record (once closed: write it at once)."""
        if self._closed:
            self.flush(also=values)
            return
        with self._lock:
            self._pending.append(values)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="invocation-records", daemon=True)
                self._thread.start()
        self._wake.set()

    def flush(self, also: dict[str, Any] | None = None) -> None:
        """Write what is queued, then `also`, in one transaction: records keep the order they were made in."""
        with self._lock:
            batch, self._pending = self._pending, []
            if also is not None:
                batch.append(also)
            if batch:
                with self._store.begin() as db:
                    db.execute(insert(function_invocations), batch)

    def close(self) -> None:
        """Stop the background thread and write what is queued (the server is stopping: nothing is lost)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            time.sleep(RECORD_BATCH_SECONDS)
            try:
                self.flush()
            except Exception:
                log.exception("could not write invocation records")


P = ParamSpec("P")
R = TypeVar("R")


def _changes(method: Callable[Concatenate[FunctionRegistry, P], R]) -> Callable[Concatenate[FunctionRegistry, P], R]:
    """Marks a registry method that writes: listeners hear of it afterwards, even when it fails half-way."""

    @functools.wraps(method)
    def write(self: FunctionRegistry, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._changed()

    return write  # type: ignore[return-value]  # functools.wraps's _Wrapped is the same callable


class FunctionRegistry:
    """Functions, versions, aliases and invocation records, read and written in single transactions."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        self._records = RecordBatcher(store)
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call listener after every change to a function, version or alias (read caches clear themselves)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    # Functions and versions

    @_changes
    def create(self, latest: FunctionConfig, access_key_id: str, now: dt.datetime) -> None:
        """Add a function with its $LATEST version; FunctionExists if the name is taken."""
        try:
            with self._store.begin() as db:
                db.execute(
                    insert(functions).values(
                        name=latest.name, access_key_id=access_key_id, last_version=0, created_at=now
                    )
                )
                db.execute(insert(function_versions).values(**_row(latest)))
        except IntegrityError:
            raise FunctionExists(f"Function already exist: {latest.name}") from None

    def access_key_id(self, name: str) -> str:
        """The id of the function's own access key; FunctionNotFound if there is no such function."""
        with self._store.read() as db:
            found = db.execute(select(functions.c.access_key_id).where(functions.c.name == name)).scalar()
        if found is None:
            raise FunctionNotFound(f"Function not found: {name}")
        return str(found)

    @_changes
    def set_access_key(self, name: str, access_key_id: str) -> None:
        """Give the function another access key (its old one was deleted)."""
        with self._store.begin() as db:
            db.execute(update(functions).where(functions.c.name == name).values(access_key_id=access_key_id))

    def owner_of_key(self, access_key_id: str) -> tuple[str, Mapping[str, Any] | None] | None:
        """(name, access policy) of the function whose own key this is; None when it is no function's."""
        with self._store.read() as db:
            row = db.execute(
                select(functions.c.name, functions.c.access_policy).where(functions.c.access_key_id == access_key_id)
            ).first()
        return None if row is None else (str(row.name), row.access_policy)

    @_changes
    def set_access_policy(self, name: str, document: Mapping[str, Any] | None) -> None:
        """Replace the function's access policy (None removes it); FunctionNotFound if there is no such function."""
        with self._store.begin() as db:
            changed = db.execute(
                update(functions).where(functions.c.name == name).values(access_policy=document)
            ).rowcount
        if not changed:
            raise FunctionNotFound(f"Function not found: {name}")

    def access_policy(self, name: str) -> Mapping[str, Any] | None:
        """The function's access policy, None when it has none; FunctionNotFound if there is no such function."""
        with self._store.read() as db:
            row = db.execute(select(functions.c.access_policy).where(functions.c.name == name)).first()
        if row is None:
            raise FunctionNotFound(f"Function not found: {name}")
        return row.access_policy  # type: ignore[no-any-return]

    def unused(self, configs: Iterable[FunctionConfig]) -> Unused:
        """Those of the versions' code blobs and code hashes that no version refers to any more."""
        with self._store.read() as db:
            return _unreferenced(db, configs)

    def version(self, name: str, version: str) -> FunctionConfig | None:
        """One version of a function, or None."""
        with self._store.read() as db:
            return _version(db, name, version)

    def versions(self, name: str) -> list[FunctionConfig]:
        """Every version of a function: $LATEST, then the published ones by number."""
        with self._store.read() as db:
            rows = db.execute(select(function_versions).where(function_versions.c.function_name == name)).all()
        return sorted((_config(r._mapping) for r in rows), key=_version_order)

    def functions(self, *, all_versions: bool = False) -> list[FunctionConfig]:
        """The $LATEST version of every function (or every version), by name."""
        query = select(function_versions)
        if not all_versions:
            query = query.where(function_versions.c.version == LATEST)
        with self._store.read() as db:
            rows = db.execute(query).all()
        return sorted((_config(r._mapping) for r in rows), key=lambda c: (c.name, _version_order(c)))

    @_changes
    def replace(self, config: FunctionConfig, expected_revision: str) -> FunctionConfig:
        """Write config over its version row if that row still has expected_revision; PreconditionFailed if not."""
        values = _row(config)
        with self._store.begin() as db:
            done = db.execute(
                update(function_versions)
                .where(
                    function_versions.c.function_name == config.name,
                    function_versions.c.version == config.version,
                    function_versions.c.revision_id == expected_revision,
                )
                .values(**values)
            )
        if done.rowcount != 1:
            raise revision_mismatch()
        return config

    @_changes
    def publish(self, name: str, description: str | None, now: dt.datetime) -> FunctionConfig:
        """A new numbered version from $LATEST, or the newest published one when nothing changed since it."""
        with self._store.begin() as db:
            latest = _version(db, name, LATEST)
            if latest is None:
                raise FunctionNotFound(f"Function not found: {name}")
            last = db.execute(select(functions.c.last_version).where(functions.c.name == name)).scalar_one()
            newest = _newest_published(db, name)
            if newest is not None and all(getattr(newest, f) == getattr(latest, f) for f in PUBLISHED_FIELDS):
                return newest
            number = int(last) + 1
            published = dataclasses.replace(
                latest,
                version=str(number),
                description=latest.description if description is None else description,
                revision_id=new_revision_id(),
                last_modified=now,
            )
            db.execute(update(functions).where(functions.c.name == name).values(last_version=number))
            db.execute(insert(function_versions).values(**_row(published)))
        return published

    @_changes
    def delete(self, name: str) -> tuple[str, Unused]:
        """Remove the function with all its versions and aliases; (its access key id, the code now unused)."""
        with self._store.begin() as db:
            key = db.execute(select(functions.c.access_key_id).where(functions.c.name == name)).scalar()
            if key is None:
                raise FunctionNotFound(f"Function not found: {name}")
            rows = db.execute(select(function_versions).where(function_versions.c.function_name == name)).all()
            db.execute(delete(function_aliases).where(function_aliases.c.function_name == name))
            db.execute(delete(function_versions).where(function_versions.c.function_name == name))
            db.execute(delete(functions).where(functions.c.name == name))
            return str(key), _unreferenced(db, [_config(row._mapping) for row in rows])

    @_changes
    def delete_version(self, name: str, version: str) -> Unused:
        """Remove one published version; ResourceConflict while an alias points at it. The code now unused."""
        with self._store.begin() as db:
            found = _version(db, name, version)
            if found is None:
                raise FunctionNotFound(f"Function not found: {name}:{version}")
            users = [a.name for a in _aliases(db, name) if version in (a.function_version, *a.routing)]
            if users:
                raise ResourceConflict(f"Unable to delete version because the following aliases reference it: {users}")
            db.execute(
                delete(function_versions).where(
                    function_versions.c.function_name == name, function_versions.c.version == version
                )
            )
            return _unreferenced(db, [found])

    @_changes
    def settle_pending(
        self, name: str, requirements_key: str, resolve: Callable[[FunctionConfig], tuple[FunctionState, str, str]]
    ) -> int:
        """Give each Pending version of the function with these requirements the state resolve(version) returns.

        resolve maps a version to (state, reason, reason code) and runs outside any transaction; a version
        that changed meanwhile keeps its new state. The count of versions settled.
        """
        with self._store.read() as db:
            rows = db.execute(
                select(function_versions).where(
                    function_versions.c.function_name == name,
                    function_versions.c.requirements_key == requirements_key,
                    function_versions.c.state == FunctionState.PENDING,
                )
            ).all()
        settled = 0
        for config in [_config(r._mapping) for r in rows]:
            state, reason, code = resolve(config)
            with self._store.begin() as db:
                done = db.execute(
                    update(function_versions)
                    .where(
                        function_versions.c.function_name == name,
                        function_versions.c.version == config.version,
                        function_versions.c.revision_id == config.revision_id,
                        function_versions.c.state == FunctionState.PENDING,
                    )
                    .values(state=state, state_reason=reason, state_reason_code=code)
                )
            settled += done.rowcount
        return settled

    # Aliases

    @_changes
    def create_alias(self, alias: Alias) -> Alias:
        """Add an alias; ResourceConflict if the function has one of that name."""
        try:
            with self._store.begin() as db:
                db.execute(insert(function_aliases).values(**_alias_row(alias)))
        except IntegrityError:
            raise ResourceConflict(f"Alias already exists: {alias.function_name}:{alias.name}") from None
        return alias

    def alias(self, name: str, alias: str) -> Alias | None:
        """One alias of a function, or None."""
        with self._store.read() as db:
            row = db.execute(
                select(function_aliases).where(
                    function_aliases.c.function_name == name, function_aliases.c.name == alias
                )
            ).first()
        return _alias(row._mapping) if row is not None else None

    def aliases(self, name: str) -> list[Alias]:
        """Every alias of a function, by name."""
        with self._store.read() as db:
            return _aliases(db, name)

    @_changes
    def replace_alias(self, alias: Alias, expected_revision: str) -> Alias:
        """Write alias over its row if that row still has expected_revision; PreconditionFailed if not."""
        with self._store.begin() as db:
            done = db.execute(
                update(function_aliases)
                .where(
                    function_aliases.c.function_name == alias.function_name,
                    function_aliases.c.name == alias.name,
                    function_aliases.c.revision_id == expected_revision,
                )
                .values(**_alias_row(alias))
            )
        if done.rowcount != 1:
            raise revision_mismatch()
        return alias

    @_changes
    def delete_alias(self, name: str, alias: str) -> bool:
        """Remove an alias; whether there was one."""
        with self._store.begin() as db:
            done = db.execute(
                delete(function_aliases).where(
                    function_aliases.c.function_name == name, function_aliases.c.name == alias
                )
            )
        return done.rowcount == 1

    # Invocations

    def record(self, invocation: InvocationRecord, *, durable: bool = True) -> None:
        """Keep the record of one invocation; durable=False batches it (written within RECORD_BATCH_SECONDS)."""
        values = {field.name: getattr(invocation, field.name) for field in dataclasses.fields(invocation)}
        values.pop("id")
        if durable:
            self._records.flush(also=values)
        else:
            self._records.add(values)

    def flush(self) -> None:
        """Write every batched record now."""
        self._records.flush()

    def close(self) -> None:
        """Write every batched record and stop the thread that batches them."""
        self._records.close()

    def invocations(
        self,
        name: str,
        *,
        limit: int,
        newest_first: bool = True,
        after_id: int | None = None,
        before_id: int | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        request_ids: Sequence[str] | None = None,
    ) -> list[InvocationRecord]:
        """A function's invocation records in the order they were recorded (or the reverse), filtered."""
        self._records.flush()
        table = function_invocations
        query = select(table).where(table.c.function_name == name)
        if after_id is not None:
            query = query.where(table.c.id > after_id)
        if before_id is not None:
            query = query.where(table.c.id < before_id)
        if since is not None:
            query = query.where(table.c.started_at >= since)
        if until is not None:
            query = query.where(table.c.started_at <= until)
        if request_ids is not None:
            query = query.where(table.c.request_id.in_(list(request_ids)))
        query = query.order_by(table.c.id.desc() if newest_first else table.c.id).limit(limit)
        with self._store.read() as db:
            rows = db.execute(query).all()
        return [InvocationRecord(**dict(r._mapping)) for r in rows]


def _version_order(config: FunctionConfig) -> int:
    return 0 if config.version == LATEST else int(config.version)


def _version(db: Connection, name: str, version: str) -> FunctionConfig | None:
    row = db.execute(
        select(function_versions).where(
            function_versions.c.function_name == name, function_versions.c.version == version
        )
    ).first()
    return _config(row._mapping) if row is not None else None


def _newest_published(db: Connection, name: str) -> FunctionConfig | None:
    rows = db.execute(
        select(function_versions).where(
            function_versions.c.function_name == name, function_versions.c.version != LATEST
        )
    ).all()
    published = [_config(r._mapping) for r in rows]
    return max(published, key=_version_order) if published else None


def _unreferenced(db: Connection, configs: Iterable[FunctionConfig]) -> Unused:
    """Which of the configs' blob keys and code hashes no version row (of any function) refers to."""
    configs = list(configs)
    return Unused(
        _unused(db, function_versions.c.code_blob_key, {c.code_blob_key for c in configs}),
        _unused(db, function_versions.c.code_sha256, {c.code_sha256 for c in configs}),
    )


def _unused(db: Connection, column: Any, values: set[str]) -> list[str]:
    wanted = sorted(value for value in values if value)
    if not wanted:
        return []
    used = set(db.execute(select(column).where(column.in_(wanted))).scalars())
    return [value for value in wanted if value not in used]


def _aliases(db: Connection, name: str) -> list[Alias]:
    rows = db.execute(
        select(function_aliases).where(function_aliases.c.function_name == name).order_by(function_aliases.c.name)
    ).all()
    return [_alias(r._mapping) for r in rows]


def _row(config: FunctionConfig) -> dict[str, Any]:
    values = dataclasses.asdict(config)
    values["function_name"] = values.pop("name")
    values["environment"] = dict(config.environment)
    values["vpc_config"] = dict(config.vpc_config)
    return values


def _config(row: Mapping[Any, Any]) -> FunctionConfig:
    values = dict(row)
    values["name"] = values.pop("function_name")
    values["state"] = FunctionState(values["state"])
    return FunctionConfig(**values)


def _alias_row(alias: Alias) -> dict[str, Any]:
    values = dataclasses.asdict(alias)
    values["routing"] = dict(alias.routing)
    return values


def _alias(row: Mapping[Any, Any]) -> Alias:
    return Alias(**dict(row))
