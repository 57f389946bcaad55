"""Model types, training parameters (Amazon ML's `sgd.*` and our `algorithm`), and the estimators they build.

Amazon ML trains a linear model by stochastic gradient descent; so does `algorithm=sgd` here:
- BINARY: logistic loss, scikit-learn's SGDClassifier, one `partial_fit` per pass over the data, so
  progress is reported and cancellation checked after every pass;
- REGRESSION: squared loss, SGDRegressor, likewise, on a standardized target (SGD's step sizes then
  suit every target scale; predictions are scaled back);
- MULTICLASS: the multinomial logistic loss. SGDClassifier only fits one-vs-rest, so this uses
  LogisticRegression's SAGA solver, the stochastic average gradient: SGD with variance reduction,
  one epoch per `max_iter`, on the true multinomial loss.
Regularization maps Amazon ML's amounts onto scikit-learn's: alpha = amount (the penalty weight per
sample), and for SAGA C = 1 / (alpha * rows). Amazon ML allows L1 or L2, not both.

`algorithm=auto` also fits HistGradientBoosting with early stopping and keeps the better model by
validation score (see training.py).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, SGDClassifier, SGDRegressor

from altostratus.predict.errors import InvalidInput

RANDOM_STATE = 0
MAX_PASSES = (1, 10_000)
MODEL_SIZE = (100_000, 2_147_483_648)
BOOSTING_MAX_ITER = 500
BOOSTING_PATIENCE = 20


class ModelType(enum.StrEnum):
    """Amazon ML's model types."""

    BINARY = "BINARY"
    MULTICLASS = "MULTICLASS"
    REGRESSION = "REGRESSION"


class Algorithm(enum.StrEnum):
    """The training parameter `algorithm`: SGD only, or also gradient boosting with the better one kept."""

    SGD = "sgd"
    AUTO = "auto"


class Learner(enum.StrEnum):
    """What a trained model is: a linear model fitted by SGD, or gradient-boosted trees."""

    SGD = "SGD"
    GRADIENT_BOOSTING = "GRADIENT_BOOSTING"


@dataclasses.dataclass(frozen=True)
class TrainingParameters:
    """Amazon ML's training parameters (sgd.*) and `algorithm`."""

    max_passes: int = 10
    max_model_size: int = 33_554_432
    l1: float = 0.0
    l2: float = 1e-6
    shuffle: bool = True
    algorithm: Algorithm = Algorithm.SGD

    @classmethod
    def from_mapping(cls, parameters: Mapping[str, str] | None) -> TrainingParameters:
        """Read CreateMLModel's Parameters map (string values); InvalidInput naming a bad key or value."""
        parameters = dict(parameters or {})
        unknown = sorted(set(parameters) - set(PARAMETER_KEYS))
        if unknown:
            raise InvalidInput(f"Parameters {unknown} are not known; expected some of {sorted(PARAMETER_KEYS)}")
        l1 = _float(parameters, "sgd.l1RegularizationAmount", None)
        l2 = _float(parameters, "sgd.l2RegularizationAmount", None)
        if l1 and l2:
            raise InvalidInput(
                "sgd.l1RegularizationAmount and sgd.l2RegularizationAmount are both set; Amazon ML allows one of them"
            )
        shuffle = parameters.get("sgd.shuffleType", "auto")
        if shuffle not in ("auto", "none"):
            raise InvalidInput(f"sgd.shuffleType={shuffle!r}; expected one of ['auto', 'none']")
        algorithm = parameters.get("algorithm", Algorithm.SGD.value)
        if algorithm not in Algorithm._value2member_map_:
            raise InvalidInput(f"algorithm={algorithm!r}; expected one of {[a.value for a in Algorithm]}")
        return cls(
            max_passes=_int(parameters, "sgd.maxPasses", 10, MAX_PASSES),
            max_model_size=_int(parameters, "sgd.maxMLModelSizeInBytes", 33_554_432, MODEL_SIZE),
            l1=l1 or 0.0,
            l2=(l2 or 0.0) if l1 else (1e-6 if l2 is None else l2),
            shuffle=shuffle == "auto",
            algorithm=Algorithm(algorithm),
        )

    def to_mapping(self) -> dict[str, str]:
        """The parameters as Amazon ML lists them (TrainingParameters), with `algorithm` beside them."""
        return {
            "sgd.maxPasses": str(self.max_passes),
            "sgd.maxMLModelSizeInBytes": str(self.max_model_size),
            "sgd.l1RegularizationAmount": repr(self.l1),
            "sgd.l2RegularizationAmount": repr(self.l2),
            "sgd.shuffleType": "auto" if self.shuffle else "none",
            "algorithm": self.algorithm.value,
        }


PARAMETER_KEYS = tuple(TrainingParameters().to_mapping())


def linear_estimator(
    model_type: ModelType, parameters: TrainingParameters, rows: int
) -> SGDClassifier | SGDRegressor | LogisticRegression:
    """The SGD-family estimator for a model type, configured from the parameters (fit one pass at a time)."""
    alpha = parameters.l1 + parameters.l2
    l1_ratio = parameters.l1 / alpha if alpha > 0 else 0.0
    if model_type is ModelType.MULTICLASS:
        return LogisticRegression(
            solver="saga",
            C=1.0 / (alpha * rows) if alpha > 0 else math.inf,
            l1_ratio=l1_ratio,
            max_iter=parameters.max_passes,
            tol=1e-6,
            random_state=RANDOM_STATE,
        )
    common = {
        "penalty": "elasticnet" if alpha > 0 else None,
        "alpha": alpha if alpha > 0 else 0.0001,
        "l1_ratio": l1_ratio,
        "shuffle": parameters.shuffle,
        "random_state": RANDOM_STATE,
        "average": True,
    }
    if model_type is ModelType.BINARY:
        return SGDClassifier(loss="log_loss", learning_rate="adaptive", eta0=0.05, **common)
    return SGDRegressor(loss="squared_error", learning_rate="adaptive", eta0=0.01, **common)


def boosting_estimator(
    model_type: ModelType, categorical: np.ndarray
) -> HistGradientBoostingClassifier | HistGradientBoostingRegressor:
    """Gradient-boosted trees with early stopping on an internal 10% validation split."""
    common = {
        "max_iter": BOOSTING_MAX_ITER,
        "learning_rate": 0.1,
        "early_stopping": True,
        "validation_fraction": 0.1,
        "n_iter_no_change": BOOSTING_PATIENCE,
        "categorical_features": categorical if categorical.any() else None,
        "random_state": RANDOM_STATE,
    }
    if model_type is ModelType.REGRESSION:
        return HistGradientBoostingRegressor(**common)
    return HistGradientBoostingClassifier(**common)


def _float(parameters: Mapping[str, str], key: str, default: float | None) -> float | None:
    if key not in parameters:
        return default
    try:
        value = float(parameters[key])
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{key}={parameters[key]!r}; expected a number from 0 to MAX_DOUBLE")
    return value


def _int(parameters: Mapping[str, str], key: str, default: int, bounds: tuple[int, int]) -> int:
    if key not in parameters:
        return default
    text = parameters[key]
    if not isinstance(text, str) or not text.strip().isdigit() or not bounds[0] <= int(text) <= bounds[1]:
        raise InvalidInput(f"{key}={text!r}; expected an integer from {bounds[0]} to {bounds[1]}")
    return int(text)
