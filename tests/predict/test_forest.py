"""Forest: the fitted trees evaluated without scikit-learn's checks give exactly scikit-learn's outputs."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from altostratus.predict import forest
from altostratus.predict.forest import Forest


def data(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two numbers (with missing values) and two categories (codes 0..k), and a signal they carry."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    x[:, 2] = rng.integers(0, 6, rows)
    x[:, 3] = rng.integers(0, 40, rows)
    x[rng.random(rows) < 0.1, 0] = np.nan
    x[rng.random(rows) < 0.05, 2] = np.nan
    signal = np.nan_to_num(x[:, 0]) + (x[:, 2] == 3) * 1.5 - (x[:, 3] % 7 == 0) + x[:, 1] * 0.5
    return x, signal


def probe(rows: int) -> np.ndarray:
    """Rows to predict, with missing values and category codes the trees never saw."""
    x, _ = data(rows, seed=1)
    x[::7, 2] = 17.0  # unknown category
    x[::11, 3] = np.nan
    x[::13, 1] = np.nan  # missing where training had none
    return x


CATEGORIES = np.array([False, False, True, True])
ESTIMATORS = {
    "binary": lambda: HistGradientBoostingClassifier(max_iter=60, categorical_features=CATEGORIES, random_state=0),
    "multiclass": lambda: HistGradientBoostingClassifier(max_iter=40, categorical_features=CATEGORIES, random_state=0),
    "regression": lambda: HistGradientBoostingRegressor(max_iter=60, categorical_features=CATEGORIES, random_state=0),
    "numbers only": lambda: HistGradientBoostingRegressor(max_iter=30, random_state=0),
}


@functools.cache
def fitted(kind: str) -> object:
    """A fitted estimator of the kind, on one OpenMP thread (several crawl on a busy machine)."""
    x, signal = data(3000)
    y = {"binary": signal > 0.3, "multiclass": np.digitize(signal, [-0.5, 0.5, 1.5])}.get(kind, signal)
    with threadpool_limits(1):
        return ESTIMATORS[kind]().fit(x, y)


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
@pytest.mark.parametrize("rows", [1, 3, 2000])  # the numpy walk, and scikit-learn's compiled walker
def test_raw_scores_equal_scikit_learn_to_the_bit(kind: str, rows: int) -> None:
    estimator = fitted(kind)
    compiled = Forest.compile(estimator)
    X = probe(rows)
    assert np.array_equal(compiled.raw(X), estimator._raw_predict(X))  # type: ignore[attr-defined]
    if kind in ("binary", "multiclass"):
        expected = estimator.predict_proba(X)  # type: ignore[attr-defined]
        assert np.array_equal(compiled.scores(X), expected[:, 1] if kind == "binary" else expected)
    else:
        assert np.array_equal(compiled.scores(X), estimator.predict(X))  # type: ignore[attr-defined]


def test_both_walks_agree_on_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = Forest.compile(fitted("multiclass"))
    X = probe(300)
    walked = compiled.raw(X)
    monkeypatch.setattr(forest, "NUMPY_WALK_MAX_PAIRS", 0)
    assert np.array_equal(compiled.raw(X), walked)


def test_the_column_count_is_checked() -> None:
    with pytest.raises(ValueError, match="the trees take 4 columns"):
        Forest.compile(fitted("binary")).raw(np.zeros((1, 3)))
