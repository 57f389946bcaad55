"""A trained model: its schema, features, estimator and label coding, and how it scores a table.

Linear models score straight from the recipe's sparse parts (one weighted bincount), which skips
building a matrix and scikit-learn's input checks: a single record costs microseconds. Gradient-boosted
trees score through `Forest` (forest.py), which skips those checks too.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit, softmax

from altostratus.predict.errors import InvalidInput
from altostratus.predict.forest import Forest
from altostratus.predict.models import Learner, ModelType, TrainingParameters
from altostratus.predict.recipes import RecipeFeatures
from altostratus.predict.schema import AttributeType, Schema
from altostratus.predict.table import Table
from altostratus.predict.trees import TreeFeatures

Scores = npt.NDArray[np.float64]
MAX_CLASSES = 100


@dataclasses.dataclass
class Target:
    """A table's target prepared for a model type: values (0/1, class index, number) of the rows that have one."""

    values: npt.NDArray[np.float64] | npt.NDArray[np.intp]
    keep: npt.NDArray[np.bool_]
    classes: list[str]


@dataclasses.dataclass
class FittedModel:
    """Everything needed to predict: schema, features, estimator, classes, and training facts for baselines."""

    model_type: ModelType
    schema: Schema
    learner: Learner
    features: RecipeFeatures | TreeFeatures
    estimator: Any
    classes: list[str]
    parameters: TrainingParameters
    recipe: str
    target_mean: float
    target_scale: float
    class_counts: list[int]
    report: dict[str, Any]

    def scores(self, table: Table) -> Scores:
        """Binary: P(class 1) per row; multiclass: class probabilities (rows x classes); regression: values."""
        if self.learner is Learner.GRADIENT_BOOSTING:
            assert isinstance(self.features, TreeFeatures)
            return self.forest.scores(self.features.transform(table))
        assert isinstance(self.features, RecipeFeatures)
        if self.model_type is ModelType.MULTICLASS:
            z = self.features.transform(table) @ self.estimator.coef_.T + self.estimator.intercept_
            return np.asarray(softmax(z, axis=1), dtype=np.float64)
        parts = self.features.encode(table)
        weights = self.estimator.coef_.ravel()
        contributions = weights[parts.columns] * parts.values
        z = np.bincount(parts.rows, weights=contributions, minlength=table.rows).astype(np.float64, copy=False)
        z += self.estimator.intercept_[0]
        if self.model_type is ModelType.BINARY:
            return np.asarray(expit(z), dtype=np.float64)
        return np.asarray(z * self.target_scale + self.target_mean, dtype=np.float64)

    @property
    def majority_class(self) -> int:
        """The index of the most frequent class in the training data."""
        return int(np.argmax(self.class_counts))

    @functools.cached_property
    def forest(self) -> Forest:
        """The gradient-boosted trees compiled for fast scoring (built on first use, never pickled)."""
        return Forest.compile(self.estimator)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("forest", None)
        return state


def prepare_target(table: Table, model_type: ModelType, classes: list[str] | None = None) -> Target:
    """The target of each row for this model type; InvalidInput when the target does not suit it.

    BINARY needs a BINARY target holding both 0 and 1; REGRESSION a NUMERIC one; MULTICLASS any target
    whose values are labels (2 to 100 of them). With `classes` (evaluation), labels must be among them.
    """
    name = table.schema.target
    if name is None:
        raise InvalidInput("the datasource has no target attribute (DataSchema targetAttributeName); a model needs one")
    kind = table.schema.type_of(name)
    if model_type is ModelType.MULTICLASS:
        return _labels(table, name, classes)
    expected = AttributeType.BINARY if model_type is ModelType.BINARY else AttributeType.NUMERIC
    if kind is not expected:
        hint = " (values 1/0, true/false, yes/no, y/n)" if expected is AttributeType.BINARY else ""
        raise InvalidInput(f"a {model_type} model needs a {expected} target{hint}; target {name!r} is {kind}")
    values = table.numeric(name)
    keep = np.isfinite(values)
    if not keep.any():
        raise InvalidInput(f"target {name!r} has no values in {table.rows} rows")
    if model_type is ModelType.BINARY and classes is None:
        present = np.unique(values[keep])
        if present.size < 2:
            raise InvalidInput(
                f"target {name!r} has one class ({int(present[0])!r}) in {int(keep.sum())} rows; "
                "a BINARY model needs rows of both 0 and 1"
            )
    return Target(values[keep], keep, ["0", "1"] if model_type is ModelType.BINARY else [])


def _labels(table: Table, name: str, classes: list[str] | None) -> Target:
    assert table.labels is not None
    keep = np.fromiter((label is not None for label in table.labels), bool, table.rows)
    labels = table.labels[keep]
    found = sorted(set(labels.tolist()))
    if classes is None:
        if len(found) < 2:
            raise InvalidInput(f"target {name!r} has one class ({found[:1]}); a MULTICLASS model needs at least 2")
        if len(found) > MAX_CLASSES:
            raise InvalidInput(
                f"target {name!r} has {len(found)} classes; a MULTICLASS model takes at most {MAX_CLASSES}"
            )
        classes = found
    index = {label: position for position, label in enumerate(classes)}
    codes = np.fromiter((index.get(label, -1) for label in labels), np.intp, labels.size)
    return Target(codes, keep, classes)
