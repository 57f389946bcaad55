"""Lists of rows, one page at a time: the query every service's list takes, and the page it gets back.

A page's `next_offset` is where the next one starts (the API layer hands it out as NextToken); each
service checks a query's limit and field against its own parameters before the store applies it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Row, Select, Table, and_, func
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")
MAX_PAGE = 100
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """Which rows of a list, in which order, and which page of them.

    `field` names the column that eq, ne, gt, ge, lt, le and prefix compare, and the one the list is sorted
    by (creation time when None); `name_contains`, `created_after` and `created_before` filter by name and
    creation time; `by_name` sorts by name instead.
    """

    field: str | None = None
    eq: Any = None
    ne: Any = None
    gt: Any = None
    ge: Any = None
    lt: Any = None
    le: Any = None
    prefix: str | None = None
    name_contains: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    by_name: bool = False
    descending: bool = False
    limit: int = MAX_PAGE
    offset: int = 0


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the offset of the next page (None after the last)."""

    items: list[T]
    next_offset: int | None


@dataclasses.dataclass(frozen=True)
class Listed:
    """How a table is listed: its name and creation columns, and the columns that break ties in its order."""

    table: Table
    name: str = "name"
    created: str = "created_at"
    tiebreak: tuple[str, ...] = ("name",)


def fetch_page(
    db: Connection, statement: Select[Any], query: ListQuery, listed: Listed, item: Callable[[Row[Any]], T]
) -> Page[T]:
    """The page of the statement's rows that the query selects, each made an item."""
    columns = listed.table.c
    primary = query.field or (listed.name if query.by_name else listed.created)
    order = [columns[name] for name in (primary, *listed.tiebreak)]
    statement = statement.where(and_(True, *_conditions(listed, query)))
    statement = statement.order_by(*(column.desc() for column in order) if query.descending else order)
    # One row past the page tells whether another page follows.
    rows = db.execute(statement.offset(query.offset).limit(query.limit + 1)).all()
    more = len(rows) > query.limit
    return Page([item(row) for row in rows[: query.limit]], query.offset + query.limit if more else None)


def _conditions(listed: Listed, query: ListQuery) -> list[ColumnElement[bool]]:
    columns = listed.table.c
    conditions: list[ColumnElement[bool]] = []
    if query.field is not None:
        column = columns[query.field]
        given = {name: getattr(query, name) for name in COMPARISONS}
        conditions += [COMPARISONS[name](column, value) for name, value in given.items() if value is not None]
        if query.prefix is not None:
            # substr, not LIKE: a prefix matches byte for byte, whatever its case or wildcards.
            conditions.append(func.substr(column, 1, len(query.prefix)) == query.prefix)
    if query.name_contains:
        name = func.lower(columns[listed.name])
        conditions.append(name.contains(query.name_contains.lower(), autoescape=True))
    if query.created_after is not None:
        conditions.append(columns[listed.created] > query.created_after)
    if query.created_before is not None:
        conditions.append(columns[listed.created] < query.created_before)
    return conditions
