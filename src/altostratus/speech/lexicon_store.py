"""Stored lexicons: PutLexicon's text kept in the metadata store, read again at synthesis."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from altostratus.core.clock import Clock
from altostratus.speech.errors import InvalidParameter, LexiconNotFound, MaxLexiconsNumberExceeded
from altostratus.speech.lexicons import Lexicon, Lexicons, parse_lexicon
from altostratus.speech.tables import lexicons
from altostratus.storage.metadata import MetadataStore

NAME = re.compile(r"^[0-9A-Za-z]{1,20}$")
# Polly's limits: 100 lexicons a region, 5 applied to one request.
MAX_LEXICONS = 100
MAX_PER_REQUEST = 5


@dataclasses.dataclass(frozen=True)
class StoredLexicon:
    """A lexicon as stored: its name, its PLS text and what was read from it."""

    name: str
    content: str
    alphabet: str
    language: str
    lexemes: int
    size: int
    modified_at: dt.datetime


class LexiconStore:
    """Lexicons by name, checked as PLS when they are put."""

    def __init__(self, store: MetadataStore, clock: Clock, languages: Collection[str]) -> None:
        self._store = store
        self._clock = clock
        self._languages = frozenset(languages)

    def put(self, name: str, content: str) -> StoredLexicon:
        """Store (or replace) the lexicon `name`."""
        _check_name(name)
        parsed = parse_lexicon(content, self._languages)
        row: dict[str, Any] = {
            "name": name,
            "content": content,
            "alphabet": parsed.alphabet,
            "language": parsed.language,
            "lexemes": parsed.lexemes,
            "size": parsed.size,
            "modified_at": self._clock.now(),
        }
        with self._store.begin() as db:
            exists = db.execute(select(lexicons.c.name).where(lexicons.c.name == name)).first() is not None
            if exists:
                db.execute(update(lexicons).where(lexicons.c.name == name).values(row))
            else:
                count = db.execute(select(func.count()).select_from(lexicons)).scalar_one()
                if count >= MAX_LEXICONS:
                    raise MaxLexiconsNumberExceeded(f"{count} lexicons are stored; at most {MAX_LEXICONS}")
                db.execute(insert(lexicons).values(row))
        return StoredLexicon(**row)

    def get(self, name: str) -> StoredLexicon:
        """The lexicon `name`; LexiconNotFound when there is none."""
        with self._store.begin() as db:
            row = db.execute(select(lexicons).where(lexicons.c.name == name)).first()
        if row is None:
            raise LexiconNotFound(f"Lexicon not found: {name!r}")
        return StoredLexicon(**row._mapping)

    def page(self, offset: int, limit: int) -> tuple[list[StoredLexicon], int | None]:
        """Lexicons by name from `offset`, at most `limit`, and where the next page starts (None: no more)."""
        query = select(lexicons).order_by(lexicons.c.name).offset(offset).limit(limit + 1)
        with self._store.begin() as db:
            rows = [StoredLexicon(**row._mapping) for row in db.execute(query)]
        return rows[:limit], (offset + limit if len(rows) > limit else None)

    def delete(self, name: str) -> None:
        """Delete the lexicon `name`; LexiconNotFound when there is none."""
        with self._store.begin() as db:
            deleted = db.execute(delete(lexicons).where(lexicons.c.name == name)).rowcount
        if not deleted:
            raise LexiconNotFound(f"Lexicon not found: {name!r}")

    def for_request(self, names: Sequence[str], language: str) -> Lexicons:
        """The named lexicons, in order, that apply to the voice's language (Polly skips the others)."""
        if len(names) > MAX_PER_REQUEST:
            raise MaxLexiconsNumberExceeded(
                f"LexiconNames names {len(names)} lexicons; at most {MAX_PER_REQUEST} apply to one request"
            )
        found: list[Lexicon] = []
        for name in names:
            stored = self.get(name)
            lexicon = parse_lexicon(stored.content, self._languages)
            if lexicon.applies_to(language):
                found.append(lexicon)
        return Lexicons(found)


def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise InvalidParameter(f"Name={name!r}; a lexicon name is 1 to 20 letters and digits ([0-9A-Za-z]{{1,20}})")
