"""What runs a variant's model: the ModelRunner seam, and the runner for models trained by predict.

The registry resolves a model package version to a loaded predict `Predictor` (its artifact read
from the model store and checked against its checksum); `PredictRunner` wraps it with what
endpoints need besides predictions: the order of the input columns a CSV request lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from altostratus.predict.predictor import Predictor


class ModelRunner(Protocol):
    """A loaded model that scores records."""

    @property
    def columns(self) -> Sequence[str]:
        """The input columns in the order a CSV row lists them."""
        ...

    def predict(self, records: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
        """One prediction per record, in Amazon ML's shape."""
        ...


ModelLoader = Callable[[str], ModelRunner]


class PredictorResolver(Protocol):
    """Resolves a model package version's ARN to a loaded predictor (the registry and its model store)."""

    def load(self, package_arn: str) -> Predictor:
        """The version's model, its artifact checked against the recorded checksum."""
        ...


class PredictRunner:
    """A predict model: CSV columns in its schema's order, the target left out."""

    def __init__(self, predictor: Predictor) -> None:
        self._predictor = predictor
        schema = predictor.model.schema
        self._columns = tuple(name for name in schema.names if name != schema.target)

    @property
    def columns(self) -> Sequence[str]:
        """The schema's attributes in column order, without the target."""
        return self._columns

    def predict(self, records: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
        """Predictions for the records, scored together."""
        if len(records) == 1:
            return [self._predictor.predict(records[0])]
        return list(self._predictor.predict_many(records))


def predict_loader(resolver: PredictorResolver) -> ModelLoader:
    """A loader of runners for the versions the resolver knows."""

    def load(package_arn: str) -> ModelRunner:
        return PredictRunner(resolver.load(package_arn))

    return load
