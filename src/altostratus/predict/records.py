"""How the predict service's entities (datasources, models, evaluations, batch predictions, endpoints) are
stored in its tables, read back, and listed a page at a time."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update

from altostratus.predict.entities import BatchPrediction, DataSource, Endpoint, Evaluation, Model, Status
from altostratus.predict.errors import InvalidInput, ResourceNotFound
from altostratus.predict.tables import (
    predict_batch_predictions,
    predict_datasources,
    predict_endpoints,
    predict_evaluations,
    predict_models,
)
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.paging import MAX_PAGE, Listed, ListQuery, Page, fetch_page


@dataclasses.dataclass(frozen=True)
class Kind:
    """How one kind of entity is stored: its table, its id column, its entity class and its noun."""

    table: Table
    id_column: str
    entity: type[Any]
    noun: str


DATASOURCES = Kind(predict_datasources, "datasource_id", DataSource, "DataSource")
MODELS = Kind(predict_models, "model_id", Model, "MLModel")
EVALUATIONS = Kind(predict_evaluations, "evaluation_id", Evaluation, "Evaluation")
BATCH_PREDICTIONS = Kind(predict_batch_predictions, "batch_prediction_id", BatchPrediction, "BatchPrediction")


class Records:
    """Reads and writes the predict tables."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def insert(self, kind: Kind, values: Mapping[str, Any]) -> None:
        """Add a row."""
        with self._store.begin() as db:
            db.execute(insert(kind.table).values(**values))

    def find(self, kind: Kind, entity_id: str) -> Any | None:
        """The entity with this id, or None."""
        with self._store.read() as db:
            return _fetch(db, kind, entity_id)

    def get(self, kind: Kind, entity_id: str) -> Any:
        """The entity with this id; ResourceNotFound when there is none."""
        entity = self.find(kind, entity_id)
        if entity is None:
            raise ResourceNotFound(f"{kind.noun} {entity_id!r} does not exist")
        return entity

    def update(self, kind: Kind, entity_id: str, values: Mapping[str, Any], *, only_if: Any = None) -> bool:
        """Change a row; with `only_if` (a status or statuses) only while it is in one of them. True if it changed."""
        column = kind.table.c[kind.id_column]
        query = update(kind.table).where(column == entity_id).values(**values)
        if only_if is not None:
            statuses = [only_if] if isinstance(only_if, Status) else list(only_if)
            query = query.where(kind.table.c.status.in_([status.value for status in statuses]))
        with self._store.begin() as db:
            return db.execute(query).rowcount == 1

    def list(self, kind: Kind, query: ListQuery) -> Page[Any]:
        """Records matching the query, sorted by its field (created_at when none), one page."""
        table = kind.table
        if not 1 <= query.limit <= MAX_PAGE:
            raise InvalidInput(f"Limit={query.limit!r}; expected 1 to {MAX_PAGE}")
        if query.field is not None and query.field not in table.c:
            raise InvalidInput(f"FilterVariable {query.field!r}; expected one of {sorted(table.c.keys())}")
        listed = Listed(table, tiebreak=(kind.id_column,))
        with self._store.read() as db:
            return fetch_page(db, select(table), query, listed, lambda row: _entity(kind, row._mapping))

    def endpoint(self, model_id: str) -> Endpoint | None:
        """The model's endpoint, or None."""
        with self._store.read() as db:
            row = db.execute(select(predict_endpoints).where(predict_endpoints.c.model_id == model_id)).first()
        return Endpoint(**row._mapping) if row is not None else None

    def put_endpoint(self, endpoint: Endpoint) -> None:
        """Create or replace the model's endpoint."""
        with self._store.begin() as db:
            db.execute(predict_endpoints.delete().where(predict_endpoints.c.model_id == endpoint.model_id))
            db.execute(insert(predict_endpoints).values(**dataclasses.asdict(endpoint)))

    def delete_endpoint(self, model_id: str) -> None:
        """Remove the model's endpoint, if any."""
        with self._store.begin() as db:
            db.execute(predict_endpoints.delete().where(predict_endpoints.c.model_id == model_id))


def _fetch(db: Connection, kind: Kind, entity_id: str) -> Any | None:
    row = db.execute(select(kind.table).where(kind.table.c[kind.id_column] == entity_id)).first()
    return _entity(kind, row._mapping) if row is not None else None


def _entity(kind: Kind, row: Mapping[Any, Any]) -> Any:
    values = dict(row)
    values["status"] = Status(values["status"])
    return kind.entity(**values)
