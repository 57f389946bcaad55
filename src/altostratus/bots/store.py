"""Stored bots, the builds of their locales and their conversation sessions, all in the metadata store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert, select, update

from altostratus.bots.definitions import BotDefinition
from altostratus.bots.session import Session
from altostratus.bots.tables import bots, builds, sessions
from altostratus.bots.yaml_format import dump_bot, load_bot
from altostratus.core.clock import Clock
from altostratus.core.errors import Conflict, NotFound
from altostratus.core.ids import short_id
from altostratus.storage.metadata import MetadataStore


class BotNotFound(NotFound):
    """No bot, alias, locale or session by that name (Lex: ResourceNotFoundException)."""


@dataclasses.dataclass(frozen=True)
class StoredBot:
    """A bot as stored: its id and its definition."""

    bot_id: str
    definition: BotDefinition
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class BuildRecord:
    """One locale's latest build: its job, the definition it trained on, its findings, and its model."""

    bot_id: str
    locale_id: str
    job_id: str
    definition: BotDefinition
    faults: tuple[str, ...]
    warnings: tuple[str, ...]
    model_key: str | None
    updated_at: dt.datetime


class BotStore:
    """Bots by id and name, their builds, and their sessions."""

    def __init__(self, store: MetadataStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def put(self, definition: BotDefinition) -> StoredBot:
        """Store a bot, replacing the one of the same name (which keeps its id)."""
        now, text = self._clock.now(), dump_bot(definition)
        with self._store.begin() as db:
            row = db.execute(select(bots).where(bots.c.name == definition.name)).first()
            if row is None:
                bot_id = short_id(10)
                values = {"bot_id": bot_id, "name": definition.name, "definition": text}
                db.execute(insert(bots).values(**values, created_at=now, updated_at=now))
                return StoredBot(bot_id, definition, now, now)
            db.execute(update(bots).where(bots.c.bot_id == row.bot_id).values(definition=text, updated_at=now))
            return StoredBot(row.bot_id, definition, row.created_at, now)

    def create(self, definition: BotDefinition) -> StoredBot:
        """Store a new bot; Conflict when one of that name exists."""
        now, text = self._clock.now(), dump_bot(definition)
        with self._store.begin() as db:
            if db.execute(select(bots.c.bot_id).where(bots.c.name == definition.name)).first() is not None:
                raise Conflict(f"A bot named {definition.name!r} already exists")
            bot_id = short_id(10)
            values = {"bot_id": bot_id, "name": definition.name, "definition": text}
            db.execute(insert(bots).values(**values, created_at=now, updated_at=now))
            return StoredBot(bot_id, definition, now, now)

    def change(self, bot_id: str, edit: Callable[[BotDefinition], BotDefinition]) -> StoredBot:
        """Apply `edit` to the bot's definition in one transaction (the row locked where the database can)."""
        with self._store.begin() as db:
            row = db.execute(select(bots).where(bots.c.bot_id == bot_id).with_for_update()).first()
            if row is None:
                raise BotNotFound(f"Bot {bot_id!r} does not exist")
            changed = edit(_parsed(row.definition))
            if (
                changed.name != row.name
                and db.execute(select(bots.c.bot_id).where(bots.c.name == changed.name)).first()
            ):
                raise Conflict(f"A bot named {changed.name!r} already exists")
            now = self._clock.now()
            values = {"name": changed.name, "definition": dump_bot(changed), "updated_at": now}
            db.execute(update(bots).where(bots.c.bot_id == bot_id).values(**values))
            return StoredBot(bot_id, changed, row.created_at, now)

    def get(self, bot_id: str) -> StoredBot:
        """The bot with this id; BotNotFound when there is none."""
        with self._store.begin() as db:
            row = db.execute(select(bots).where(bots.c.bot_id == bot_id)).first()
        if row is None:
            raise BotNotFound(f"Bot {bot_id!r} does not exist")
        return _stored(row)

    def find(self, name_or_id: str) -> StoredBot:
        """The bot with this name or id; BotNotFound when there is none."""
        with self._store.begin() as db:
            row = db.execute(select(bots).where((bots.c.name == name_or_id) | (bots.c.bot_id == name_or_id))).first()
        if row is None:
            raise BotNotFound(f"Bot {name_or_id!r} does not exist")
        return _stored(row)

    def list(self) -> list[StoredBot]:
        """Every bot, by name."""
        with self._store.begin() as db:
            return [_stored(row) for row in db.execute(select(bots).order_by(bots.c.name))]

    def delete(self, bot_id: str) -> None:
        """Remove a bot with its builds and sessions."""
        with self._store.begin() as db:
            for table in (sessions, builds, bots):
                db.execute(delete(table).where(table.c.bot_id == bot_id))

    # ---- builds ---------------------------------------------------------------------------------------

    def put_build(self, record: BuildRecord) -> None:
        """Record a locale's newest build (replacing the last)."""
        values: dict[str, Any] = {
            "job_id": record.job_id,
            "definition": dump_bot(record.definition),
            "faults": list(record.faults),
            "warnings": list(record.warnings),
            "model_key": record.model_key,
            "updated_at": record.updated_at,
        }
        key = (builds.c.bot_id == record.bot_id) & (builds.c.locale_id == record.locale_id)
        with self._store.begin() as db:
            if db.execute(select(builds.c.job_id).where(key)).first() is None:
                db.execute(insert(builds).values(bot_id=record.bot_id, locale_id=record.locale_id, **values))
            else:
                db.execute(update(builds).where(key).values(**values))

    def build(self, bot_id: str, locale_id: str) -> BuildRecord | None:
        """The locale's latest build, or None when it was never built."""
        key = (builds.c.bot_id == bot_id) & (builds.c.locale_id == locale_id)
        with self._store.begin() as db:
            row = db.execute(select(builds).where(key)).first()
        if row is None:
            return None
        return BuildRecord(
            row.bot_id,
            row.locale_id,
            row.job_id,
            _parsed(row.definition),
            tuple(row.faults),
            tuple(row.warnings),
            row.model_key,
            row.updated_at,
        )

    # ---- sessions -------------------------------------------------------------------------------------

    def session(self, where: SessionKey) -> Session | None:
        """The session, or None when there is none or it has expired (an expired one is deleted)."""
        with self._store.begin() as db:
            row = db.execute(select(sessions).where(where.clause())).first()
            if row is not None and row.expires_at <= self._clock.now():
                db.execute(delete(sessions).where(where.clause()))
                return None
        return None if row is None else Session.from_json(row.state)

    def save_session(self, where: SessionKey, session: Session, idle_seconds: int) -> None:
        """Keep the session for `idle_seconds` after its last turn."""
        expires = self._clock.now() + dt.timedelta(seconds=idle_seconds)
        state = session.to_json()
        with self._store.begin() as db:
            row = db.execute(select(sessions.c.turns).where(where.clause())).first()
            if row is None:
                db.execute(insert(sessions).values(**where.columns(), state=state, turns=1, expires_at=expires))
            else:
                changes = {"state": state, "turns": row.turns + 1, "expires_at": expires}
                db.execute(update(sessions).where(where.clause()).values(**changes))

    def delete_session(self, where: SessionKey) -> bool:
        """Forget the session; whether there was one."""
        with self._store.begin() as db:
            return bool(db.execute(delete(sessions).where(where.clause())).rowcount)


@dataclasses.dataclass(frozen=True)
class SessionKey:
    """Which session: a bot, an alias, a locale and the client's session id."""

    bot_id: str
    alias_id: str
    locale_id: str
    session_id: str

    def columns(self) -> dict[str, str]:
        """The key as column values."""
        return dataclasses.asdict(self)

    def clause(self) -> Any:
        """The key as a WHERE clause."""
        c = sessions.c
        return (
            (c.bot_id == self.bot_id)
            & (c.alias_id == self.alias_id)
            & (c.locale_id == self.locale_id)
            & (c.session_id == self.session_id)
        )


def _stored(row: Any) -> StoredBot:
    return StoredBot(row.bot_id, _parsed(row.definition), row.created_at, row.updated_at)


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> BotDefinition:
    """A stored definition, parsed once: every turn reads its bot, and parsing took two thirds of a turn."""
    return load_bot(text)
