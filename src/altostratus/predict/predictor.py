"""Predictions in Amazon ML's shape, for one record (real time) or many (batch).

    BINARY:     {"predictedLabel": "1", "predictedScores": {"1": 0.83},
                 "details": {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}}
    MULTICLASS: {"predictedLabel": "b", "predictedScores": {"a": 0.1, "b": 0.7, "c": 0.2}, "details": {...}}
    REGRESSION: {"predictedValue": 12.5, "details": {...}}

For a binary model the score is the probability of class 1, keyed by the predicted label as Amazon ML
does, and the label is "1" when the score reaches the score threshold. A record is a mapping of
attribute names to string values: a field the model's schema does not know is an error naming it;
a field left out is a missing value, as in Amazon ML.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import numpy as np

from altostratus.predict.errors import InvalidInput
from altostratus.predict.fitted import FittedModel, Scores
from altostratus.predict.models import Learner, ModelType
from altostratus.predict.table import Table, table_from_record, table_from_records, table_from_rows
from altostratus.predict.values import DEFAULT_MISSING_MARKERS

BATCH_ROWS = 8192
ALGORITHM_NAMES = {Learner.SGD: "SGD", Learner.GRADIENT_BOOSTING: "GradientBoosting"}


class Predictor:
    """Scores records with one trained model and a score threshold."""

    def __init__(
        self,
        model: FittedModel,
        *,
        score_threshold: float = 0.5,
        missing_markers: Collection[str] = DEFAULT_MISSING_MARKERS,
    ) -> None:
        if not 0.0 <= score_threshold <= 1.0:
            raise InvalidInput(f"ScoreThreshold={score_threshold!r}; expected a number from 0 to 1")
        self.model = model
        self.score_threshold = score_threshold
        self._missing = frozenset(missing_markers)
        self._details = {"PredictiveModelType": model.model_type.value, "Algorithm": ALGORITHM_NAMES[model.learner]}

    def predict(self, record: Mapping[str, str]) -> dict[str, Any]:
        """The prediction for one record."""
        table = table_from_record(self.model.schema, record, self._missing)
        return next(self._format(self.model.scores(table)))

    def predict_many(self, rows: Iterable[Mapping[str, str] | Sequence[str]]) -> Iterator[dict[str, Any]]:
        """Predictions for many records (mappings, or rows in the schema's column order), scored in blocks."""
        iterator = iter(rows)
        while block := list(islice(iterator, BATCH_ROWS)):
            yield from self._format(self.scores(self.table(block)))

    def table(self, rows: Sequence[Mapping[str, str] | Sequence[str]]) -> Table:
        """A table of records (mappings are checked strictly; rows in column order count invalid values as missing)."""
        if rows and isinstance(rows[0], Mapping):
            return table_from_records(self.model.schema, rows, self._missing)  # type: ignore[arg-type]
        return table_from_rows(self.model.schema, rows, self._missing)[0]  # type: ignore[arg-type]

    def scores(self, table: Table) -> Scores:
        """Raw scores: P(1) (binary), class probabilities (multiclass) or values (regression)."""
        return self.model.scores(table)

    def labels(self, scores: Scores) -> list[str]:
        """The predicted label of each row of classification scores."""
        if self.model.model_type is ModelType.BINARY:
            binary: list[str] = np.where(scores >= self.score_threshold, "1", "0").tolist()
            return binary
        classes = np.array(self.model.classes, dtype=object)
        labels: list[str] = classes[scores.argmax(axis=1)].tolist()
        return labels

    def _format(self, scores: Scores) -> Iterator[dict[str, Any]]:
        details = self._details
        if self.model.model_type is ModelType.REGRESSION:
            for value in scores.tolist():
                yield {"predictedValue": value, "details": dict(details)}
            return
        labels = self.labels(scores)
        if self.model.model_type is ModelType.BINARY:
            for label, score in zip(labels, scores.tolist(), strict=True):
                yield {"predictedLabel": label, "predictedScores": {label: score}, "details": dict(details)}
            return
        classes = self.model.classes
        for label, row in zip(labels, scores.tolist(), strict=True):
            yield {
                "predictedLabel": label,
                "predictedScores": dict(zip(classes, row, strict=True)),
                "details": dict(details),
            }
