"""SageMaker List* requests as list queries: NameContains, CreationTime*, SortBy, SortOrder, MaxResults, NextToken."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from altostratus.api.paging import PageTokens
from altostratus.deploy.errors import InvalidValue
from altostratus.storage.paging import MAX_PAGE, ListQuery

TOKENS = PageTokens(InvalidValue)


def list_query(params: Mapping[str, Any], *, descending: bool = True) -> ListQuery:
    """A ListQuery from a List* request; without SortOrder, newest first unless `descending` is False."""
    order = params.get("SortOrder")
    return ListQuery(
        name_contains=params.get("NameContains"),
        created_after=params.get("CreationTimeAfter"),
        created_before=params.get("CreationTimeBefore"),
        by_name=params.get("SortBy") == "Name",
        descending=descending if order is None else order == "Descending",
        limit=int(params.get("MaxResults", MAX_PAGE)),
        offset=TOKENS.offset(params.get("NextToken")),
    )
