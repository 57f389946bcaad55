"""Training: a table and a model type in, a FittedModel out, with progress reports and cancellation.

`algorithm=sgd` fits the recipe's features with the SGD-family estimator of models.py. `algorithm=auto`
holds out a random 20% of the training rows, fits both the SGD model and gradient-boosted trees (with
early stopping) on the rest, keeps the one with the better validation score (AUC, macro F1 or RMSE),
and refits it on every row (the trees with the number of iterations early stopping found). Both
validation scores are kept in the model's report.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from altostratus.predict.errors import Cancelled, InvalidInput
from altostratus.predict.evaluation import higher_is_better, primary_metric
from altostratus.predict.fitted import FittedModel, Target, prepare_target
from altostratus.predict.models import (
    Algorithm,
    Learner,
    ModelType,
    TrainingParameters,
    boosting_estimator,
    linear_estimator,
)
from altostratus.predict.recipes import RecipeFeatures
from altostratus.predict.table import Table
from altostratus.predict.trees import TreeFeatures

ProgressCallback = Callable[[float, str], None]
CancelCheck = Callable[[], bool]
# The worker pool already runs one job per core; OpenMP threads inside training would oversubscribe
# the cores (HistGradientBoosting on Adult: 20 s of CPU with 2 threads on a busy machine, 1.2 s with 1).
TRAINING_THREADS = 1
VALIDATION_SHARE = 0.2
MIN_VALIDATION_ROWS = 20
SEED = 0


def _no_progress(fraction: float, message: str) -> None:
    return None


def _never() -> bool:
    return False


def train(
    table: Table,
    model_type: ModelType,
    parameters: TrainingParameters,
    recipe: str | None = None,
    *,
    progress: ProgressCallback = _no_progress,
    cancelled: CancelCheck = _never,
) -> FittedModel:
    """Fit a model of `model_type` on the rows of `table` that have a target (with one thread: see above)."""
    with threadpool_limits(TRAINING_THREADS):
        return _train(table, model_type, parameters, recipe, progress, cancelled)


def _train(
    table: Table,
    model_type: ModelType,
    parameters: TrainingParameters,
    recipe: str | None,
    progress: ProgressCallback,
    cancelled: CancelCheck,
) -> FittedModel:
    started = time.monotonic()
    target = prepare_target(table, model_type)
    data = table.select(target.keep)
    target.keep = np.ones(data.rows, dtype=bool)
    progress(0.05, f"training on {data.rows} rows")
    if parameters.algorithm is Algorithm.SGD:
        model = _fit_linear(data, target, model_type, parameters, recipe, _span(progress, 0.05, 0.95), cancelled)
        model.report = {"algorithm": Algorithm.SGD.value, "learner": Learner.SGD.value}
    else:
        model = _fit_auto(data, target, model_type, parameters, recipe, progress, cancelled)
    model.report.update(training_rows=data.rows, rows_without_target=table.rows - data.rows)
    model.report["seconds"] = round(time.monotonic() - started, 3)
    progress(0.95, "trained")
    return model


def _fit_auto(
    data: Table,
    target: Target,
    model_type: ModelType,
    parameters: TrainingParameters,
    recipe: str | None,
    progress: ProgressCallback,
    cancelled: CancelCheck,
) -> FittedModel:
    fit, held = _validation_split(data.rows)
    fit_target = Target(target.values[fit], np.ones(fit.size, dtype=bool), target.classes)
    truth = target.values[held]
    linear = _fit_linear(
        data.select(fit), fit_target, model_type, parameters, recipe, _span(progress, 0.05, 0.3), cancelled
    )
    linear_score = primary_metric(model_type, truth, linear.scores(data.select(held)))
    _check(cancelled)
    progress(0.3, "fitting gradient-boosted trees")
    trees = _fit_trees(data.select(fit), fit_target, model_type, parameters, None)
    trees_score = primary_metric(model_type, truth, trees.scores(data.select(held)))
    metric = {ModelType.BINARY: "AUC", ModelType.MULTICLASS: "macro_f1", ModelType.REGRESSION: "RMSE"}[model_type]
    better = trees_score > linear_score if higher_is_better(model_type) else trees_score < linear_score
    _check(cancelled)
    progress(0.6, f"refitting {'gradient-boosted trees' if better else 'SGD'} on every row")
    if better:
        model = _fit_trees(data, target, model_type, parameters, int(trees.estimator.n_iter_))
    else:
        model = _fit_linear(data, target, model_type, parameters, recipe, _span(progress, 0.6, 0.95), cancelled)
    model.report = {
        "algorithm": Algorithm.AUTO.value,
        "learner": model.learner.value,
        "validation_metric": metric,
        "validation_rows": int(held.size),
        "candidates": {Learner.SGD.value: linear_score, Learner.GRADIENT_BOOSTING.value: trees_score},
        "boosting_iterations": int(trees.estimator.n_iter_),
    }
    return model


def _fit_linear(
    data: Table,
    target: Target,
    model_type: ModelType,
    parameters: TrainingParameters,
    recipe: str | None,
    progress: ProgressCallback,
    cancelled: CancelCheck,
) -> FittedModel:
    features = RecipeFeatures(recipe=recipe).fit(data)
    X = features.transform(data)
    y: np.ndarray[Any, Any] = target.values
    mean, scale = 0.0, 1.0
    if model_type is ModelType.REGRESSION:
        mean, scale = float(y.mean()), float(y.std()) or 1.0
        y = (y - mean) / scale
    estimator = linear_estimator(model_type, parameters, data.rows)
    if model_type is ModelType.MULTICLASS:
        _check(cancelled)
        with warnings.catch_warnings():
            # sgd.maxPasses caps the epochs on purpose, as in Amazon ML: hitting the cap is no news.
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
    else:
        for done in range(parameters.max_passes):
            _check(cancelled)
            estimator.partial_fit(
                X, y, classes=np.array([0.0, 1.0])
            ) if model_type is ModelType.BINARY else estimator.partial_fit(X, y)
            progress((done + 1) / parameters.max_passes, f"SGD pass {done + 1} of {parameters.max_passes}")
    return _fitted(
        model_type, data, target, features, estimator, Learner.SGD, parameters, mean, scale, features.recipe_text_
    )


def _fit_trees(
    data: Table, target: Target, model_type: ModelType, parameters: TrainingParameters, iterations: int | None
) -> FittedModel:
    features = TreeFeatures().fit(data)
    estimator = boosting_estimator(model_type, features.categorical_mask_)
    if iterations is not None:
        estimator.set_params(max_iter=max(1, iterations), early_stopping=False)
    estimator.fit(features.transform(data), target.values)
    mean = float(target.values.mean()) if model_type is ModelType.REGRESSION else 0.0
    return _fitted(model_type, data, target, features, estimator, Learner.GRADIENT_BOOSTING, parameters, mean, 1.0, "")


def _fitted(
    model_type: ModelType,
    data: Table,
    target: Target,
    features: RecipeFeatures | TreeFeatures,
    estimator: Any,
    learner: Learner,
    parameters: TrainingParameters,
    mean: float,
    scale: float,
    recipe: str,
) -> FittedModel:
    counts = (
        np.bincount(target.values.astype(np.intp), minlength=len(target.classes)) if target.classes else np.zeros(0)
    )
    if model_type is ModelType.REGRESSION:
        mean = float(target.values.mean()) if learner is Learner.GRADIENT_BOOSTING else mean
    return FittedModel(
        model_type=model_type,
        schema=data.schema,
        learner=learner,
        features=features,
        estimator=estimator,
        classes=target.classes,
        parameters=parameters,
        recipe=recipe,
        target_mean=mean,
        target_scale=scale,
        class_counts=[int(count) for count in counts],
        report={},
    )


def _validation_split(rows: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    held_count = int(rows * VALIDATION_SHARE)
    if held_count < MIN_VALIDATION_ROWS:
        raise InvalidInput(
            f"algorithm=auto holds out {VALIDATION_SHARE:.0%} of the rows to choose a model; "
            f"{rows} rows leave {held_count}, fewer than {MIN_VALIDATION_ROWS}: use algorithm=sgd"
        )
    order = np.random.default_rng(SEED).permutation(rows)
    return np.sort(order[held_count:]), np.sort(order[:held_count])


def _span(progress: ProgressCallback, low: float, high: float) -> ProgressCallback:
    """A progress callback mapping 0..1 onto low..high of the caller's."""
    return lambda fraction, message: progress(low + (high - low) * fraction, message)


def _check(cancelled: CancelCheck) -> None:
    if cancelled():
        raise Cancelled("training was cancelled")
