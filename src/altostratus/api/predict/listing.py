"""Amazon ML's Describe* requests as list queries: FilterVariable, comparators, SortOrder, Limit, NextToken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from altostratus.api.paging import PageTokens
from altostratus.predict import InvalidInput, ListQuery

TOKENS = PageTokens(InvalidInput)
COMMON_FILTERS = {"CreatedAt": "created_at", "LastUpdatedAt": "updated_at", "Status": "status", "Name": "name"}
FILTERS = {
    "DataSource": {**COMMON_FILTERS, "DataLocationS3": "data_location"},
    "MLModel": {**COMMON_FILTERS, "TrainingDataSourceId": "training_datasource_id", "MLModelType": "model_type"},
    "Evaluation": {**COMMON_FILTERS, "MLModelId": "model_id", "DataSourceId": "datasource_id"},
    "BatchPrediction": {**COMMON_FILTERS, "MLModelId": "model_id", "DataSourceId": "datasource_id"},
}
COMPARATORS = {"EQ": "eq", "NE": "ne", "GT": "gt", "GE": "ge", "LT": "lt", "LE": "le", "Prefix": "prefix"}


def list_query(params: Mapping[str, Any], fields: Mapping[str, str]) -> ListQuery:
    """A ListQuery from a Describe* request, whose FilterVariable may name one of `fields`."""
    variable = params.get("FilterVariable")
    given = {COMPARATORS[name]: params[name] for name in COMPARATORS if params.get(name) is not None}
    if variable is None and given:
        raise InvalidInput(f"{sorted(given)} need a FilterVariable; expected one of {sorted(fields)}")
    if variable is not None and variable not in fields:
        raise InvalidInput(
            f"FilterVariable={variable!r} is not supported by this server; expected one of {sorted(fields)}"
        )
    field = fields[variable] if variable else None
    if field in ("created_at", "updated_at"):
        given = {name: value if name == "prefix" else _time(variable or "", value) for name, value in given.items()}
    return ListQuery(
        field=field,
        descending=params.get("SortOrder") == "dsc",
        limit=params.get("Limit", 100),
        offset=TOKENS.offset(params.get("NextToken")),
        **given,
    )


def _time(variable: str, value: str) -> dt.datetime:
    """A comparator value for CreatedAt or LastUpdatedAt: epoch seconds or ISO 8601."""
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{variable} comparator {value!r}; expected epoch seconds or an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
