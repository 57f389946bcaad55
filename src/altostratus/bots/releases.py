"""Bot versions and aliases: what clients other than the test alias talk to.

A version freezes the DRAFT definition and the model each locale was last built into (Lex's CreateBotVersion
needs every locale built); an alias points at DRAFT or a version, and names the function each locale's code
hooks call. Moving an alias to a new version is how a bot is released; sessions keep their alias.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from altostratus.bots.definitions import BotDefinition
from altostratus.bots.store import BotNotFound
from altostratus.bots.tables import aliases, versions
from altostratus.bots.yaml_format import dump_bot, load_bot
from altostratus.core.clock import Clock
from altostratus.core.errors import Conflict
from altostratus.core.ids import short_id
from altostratus.storage.metadata import MetadataStore

DRAFT = "DRAFT"


@dataclasses.dataclass(frozen=True)
class BotVersion:
    """A numbered, frozen copy of a bot and its locales' models."""

    bot_id: str
    version: int
    definition: BotDefinition
    models: Mapping[str, str]  # locale id -> the blob key of its trained NLU
    description: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class AliasLocale:
    """An alias's settings for one locale."""

    enabled: bool = True
    function: str | None = None  # the code hooks' function; None: the definition's code_hook


@dataclasses.dataclass(frozen=True)
class BotAlias:
    """A name clients use, pointing at DRAFT or a version."""

    bot_id: str
    alias_id: str
    name: str
    version: str
    locales: Mapping[str, AliasLocale]
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime


class Releases:
    """Versions and aliases of bots, in the metadata store."""

    def __init__(self, store: MetadataStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # ---- versions -------------------------------------------------------------------------------------

    def create_version(
        self, bot_id: str, definition: BotDefinition, models: Mapping[str, str], description: str = ""
    ) -> BotVersion:
        """Freeze `definition` with its models as the bot's next version (1, 2, ...)."""
        now = self._clock.now()
        with self._store.begin() as db:
            last = db.execute(select(func.max(versions.c.version)).where(versions.c.bot_id == bot_id)).scalar()
            number = int(last or 0) + 1
            values = {"bot_id": bot_id, "version": number, "definition": dump_bot(definition)}
            db.execute(insert(versions).values(**values, models=dict(models), description=description, created_at=now))
        return BotVersion(bot_id, number, definition, dict(models), description, now)

    def version(self, bot_id: str, version: str | int) -> BotVersion:
        """One version; BotNotFound when there is none."""
        number = _number(version)
        with self._store.read() as db:
            row = db.execute(select(versions).where(_version_key(bot_id, number))).first()
        if row is None:
            raise BotNotFound(f"Bot version {version!r} of bot {bot_id!r} does not exist")
        return _version(row)

    def versions(self, bot_id: str) -> list[BotVersion]:
        """The bot's versions, newest first."""
        with self._store.read() as db:
            rows = db.execute(select(versions).where(versions.c.bot_id == bot_id).order_by(versions.c.version.desc()))
            return [_version(row) for row in rows]

    def delete_version(self, bot_id: str, version: str | int) -> None:
        """Remove a version no alias points at; Conflict otherwise."""
        number = _number(version)
        with self._store.begin() as db:
            using = db.execute(
                select(aliases.c.name).where((aliases.c.bot_id == bot_id) & (aliases.c.version == str(number)))
            )
            names = [row.name for row in using]
            if names:
                raise Conflict(f"Bot version {number} is used by the aliases {names}")
            if db.execute(delete(versions).where(_version_key(bot_id, number))).rowcount == 0:
                raise BotNotFound(f"Bot version {version!r} of bot {bot_id!r} does not exist")

    # ---- aliases --------------------------------------------------------------------------------------

    def create_alias(
        self, bot_id: str, name: str, version: str, locales: Mapping[str, AliasLocale], description: str = ""
    ) -> BotAlias:
        """A new alias; Conflict when the bot has one of that name."""
        now = self._clock.now()
        alias = BotAlias(bot_id, short_id(10), name, version, dict(locales), description, now, now)
        with self._store.begin() as db:
            taken = db.execute(
                select(aliases.c.alias_id).where((aliases.c.bot_id == bot_id) & (aliases.c.name == name))
            )
            if taken.first() is not None:
                raise Conflict(f"Bot alias {name!r} already exists")
            db.execute(insert(aliases).values(**_alias_row(alias)))
        return alias

    def alias(self, bot_id: str, alias_id: str) -> BotAlias:
        """One alias; BotNotFound when there is none."""
        with self._store.read() as db:
            row = db.execute(select(aliases).where(_alias_key(bot_id, alias_id))).first()
        if row is None:
            raise BotNotFound(f"Bot alias {alias_id!r} of bot {bot_id!r} does not exist")
        return _alias(row)

    def aliases(self, bot_id: str) -> list[BotAlias]:
        """The bot's aliases, by name."""
        with self._store.read() as db:
            rows = db.execute(select(aliases).where(aliases.c.bot_id == bot_id).order_by(aliases.c.name))
            return [_alias(row) for row in rows]

    def update_alias(self, alias: BotAlias) -> BotAlias:
        """Replace an alias's name, version, locales and description."""
        changed = dataclasses.replace(alias, updated_at=self._clock.now())
        with self._store.begin() as db:
            taken = db.execute(
                select(aliases.c.alias_id).where(
                    (aliases.c.bot_id == alias.bot_id)
                    & (aliases.c.name == alias.name)
                    & (aliases.c.alias_id != alias.alias_id)
                )
            )
            if taken.first() is not None:
                raise Conflict(f"Bot alias {alias.name!r} already exists")
            row = _alias_row(changed)
            if db.execute(update(aliases).where(_alias_key(alias.bot_id, alias.alias_id)).values(**row)).rowcount == 0:
                raise BotNotFound(f"Bot alias {alias.alias_id!r} of bot {alias.bot_id!r} does not exist")
        return changed

    def delete_alias(self, bot_id: str, alias_id: str) -> None:
        """Remove an alias; BotNotFound when there is none."""
        with self._store.begin() as db:
            if db.execute(delete(aliases).where(_alias_key(bot_id, alias_id))).rowcount == 0:
                raise BotNotFound(f"Bot alias {alias_id!r} of bot {bot_id!r} does not exist")

    def forget_bot(self, bot_id: str) -> None:
        """Remove every version and alias of a deleted bot."""
        with self._store.begin() as db:
            for table in (aliases, versions):
                db.execute(delete(table).where(table.c.bot_id == bot_id))


def _number(version: str | int) -> int:
    try:
        number = int(version)
    except ValueError:
        raise BotNotFound(f"Bot version {version!r} does not exist: versions are DRAFT or numbers") from None
    return number


def _version_key(bot_id: str, number: int) -> Any:
    return (versions.c.bot_id == bot_id) & (versions.c.version == number)


def _alias_key(bot_id: str, alias_id: str) -> Any:
    return (aliases.c.bot_id == bot_id) & (aliases.c.alias_id == alias_id)


def _version(row: Any) -> BotVersion:
    return BotVersion(
        row.bot_id, row.version, load_bot(row.definition), dict(row.models), row.description, row.created_at
    )


def _alias_row(alias: BotAlias) -> dict[str, Any]:
    locales = {k: {"enabled": v.enabled, "function": v.function} for k, v in alias.locales.items()}
    return {
        "bot_id": alias.bot_id,
        "alias_id": alias.alias_id,
        "name": alias.name,
        "version": alias.version,
        "locales": locales,
        "description": alias.description,
        "created_at": alias.created_at,
        "updated_at": alias.updated_at,
    }


def _alias(row: Any) -> BotAlias:
    locales = {k: AliasLocale(bool(v.get("enabled", True)), v.get("function")) for k, v in (row.locales or {}).items()}
    return BotAlias(
        row.bot_id, row.alias_id, row.name, row.version, locales, row.description, row.created_at, row.updated_at
    )
