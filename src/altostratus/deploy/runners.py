"""What runs a variant's model: the ModelRunner seam, and the runner for models trained by predict.

A runner answers a request body: `formats` says which body and answer types it reads and writes (InvalidValue
naming ContentType or Accept otherwise, before the model runs), and `answer` runs the model on the body and
gives the answer's bytes with the outcomes that A/B tallies and shadow variants count (predicted labels, or
values for regression). Predict models read records (payloads.py, `PredictRunner` here); image models read
images (image_runner.py); model_loading.py picks the runner by what a registry version holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from altostratus.deploy.payloads import (
    Formats,
    answer_type,
    check_content_type,
    outcome_of,
    read_records,
    write_predictions,
)
from altostratus.predict.predictor import Predictor


@dataclasses.dataclass(frozen=True)
class Answer:
    """A model's answer to one request: its body and type, and each prediction's label or value."""

    body: bytes
    content_type: str
    outcomes: list[str | float]


class ModelRunner(Protocol):
    """A loaded model that answers request bodies."""

    def formats(self, content_type: str | None, accept: str | None) -> Formats:
        """The body's and the answer's types for these headers; InvalidValue if the model reads or writes neither."""
        ...

    def answer(self, body: bytes, formats: Formats) -> Answer:
        """The model's answer to the body (UnreadableBody if the body does not hold what the model reads)."""
        ...


ModelLoader = Callable[[str], ModelRunner]


class PredictRunner:
    """A predict model: CSV or JSON records in (columns in its schema's order, the target left out)."""

    def __init__(self, predictor: Predictor) -> None:
        self._predictor = predictor
        schema = predictor.model.schema
        self._columns = tuple(name for name in schema.names if name != schema.target)

    @property
    def columns(self) -> Sequence[str]:
        """The schema's attributes in column order, without the target."""
        return self._columns

    def formats(self, content_type: str | None, accept: str | None) -> Formats:
        """text/csv or application/json records (or sniffed), answered in JSON or CSV."""
        answer = answer_type(accept)
        return Formats(check_content_type(content_type), answer)

    def answer(self, body: bytes, formats: Formats) -> Answer:
        """Predictions of the body's records, scored together."""
        records = read_records(body, formats.body, self._columns)
        predictions = self.predict(records.rows)
        written = write_predictions(predictions, formats.answer, single=records.single)
        return Answer(written, formats.answer, [outcome_of(p) for p in predictions])

    def predict(self, records: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
        """Predictions for the records, in Amazon ML's shape."""
        if len(records) == 1:
            return [self._predictor.predict(records[0])]
        return list(self._predictor.predict_many(records))
