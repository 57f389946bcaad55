"""The recipe transformers follow scikit-learn's estimator contract, and compute what Amazon ML's functions do."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_dont_overwrite_parameters,
    check_fit_idempotent,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from altostratus.predict import InvalidInput
from altostratus.predict.transformers import (
    CartesianProduct,
    Lowercase,
    NgramTokenizer,
    NoPunct,
    OsbTokenizer,
    QuantileBinner,
    Standardizer,
    VocabularyEncoder,
)

TEXT = np.array([["Hello, World!"], [None], ["the quick brown fox"]], dtype=object)
NUMBERS = np.array([[1.0, 10.0], [2.0, np.nan], [3.0, 30.0], [4.0, 40.0]])
CATEGORIES = np.array([["a", "x"], ["b", None], ["a", "y"]], dtype=object)
CASES: list[tuple[Any, np.ndarray]] = [
    (Lowercase(), TEXT),
    (NoPunct(), TEXT),
    (NgramTokenizer(n=2), TEXT),
    (OsbTokenizer(window=3), TEXT),
    (CartesianProduct(), CATEGORIES),
    (QuantileBinner(n_bins=2), NUMBERS),
    (Standardizer(), NUMBERS),
    (VocabularyEncoder(), CATEGORIES),
]
NUMERIC_ESTIMATORS = [QuantileBinner(n_bins=3), Standardizer()]


@pytest.mark.parametrize(("estimator", "X"), CASES, ids=lambda case: type(case).__name__)
def test_contract(estimator: Any, X: np.ndarray) -> None:
    parameters = inspect.signature(type(estimator).__init__).parameters
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    assert not [name for name, p in parameters.items() if name != "self" and p.kind in positional]
    before = set(vars(estimator))
    with pytest.raises(NotFittedError):
        estimator.transform(X)
    assert estimator.fit(X) is estimator
    learned = set(vars(estimator)) - before
    assert learned and all(name.endswith("_") for name in learned)
    first = estimator.transform(X)
    assert first.shape[0] == X.shape[0]
    assert repr(clone(estimator).fit(X).transform(X)) == repr(first)  # fitting again gives the same result
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params() and not hasattr(copy, "n_features_in_")
    with pytest.raises(ValueError, match="features, but"):
        estimator.transform(np.hstack([X, X]))


@pytest.mark.parametrize("estimator", NUMERIC_ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
        check_dont_overwrite_parameters,
    ],
    ids=lambda check: check.__name__,
)
def test_scikit_learn_checks(estimator: Any, check: Any) -> None:
    check(type(estimator).__name__, estimator)


def test_standardizer_fit_is_idempotent() -> None:
    check_fit_idempotent("Standardizer", Standardizer())


def test_text_functions() -> None:
    assert Lowercase().fit_transform(TEXT)[0, 0] == "hello, world!"
    assert NoPunct().fit_transform(TEXT)[0, 0].split() == ["Hello", "World"]
    assert NgramTokenizer(n=2).fit_transform(TEXT)[2, 0] == [
        "the",
        "quick",
        "brown",
        "fox",
        "the quick",
        "quick brown",
        "brown fox",
    ]
    assert OsbTokenizer(window=3).fit_transform(TEXT)[2, 0] == [
        "the_quick",
        "the__brown",
        "quick_brown",
        "quick__fox",
        "brown_fox",
    ]
    assert NgramTokenizer(n=1).fit_transform(TEXT)[1, 0] is None


def test_quantile_bins_hold_about_equal_counts_and_keep_missing() -> None:
    values = np.concatenate([np.arange(100.0), [np.nan]]).reshape(-1, 1)
    bins = QuantileBinner(n_bins=4).fit_transform(values)[:, 0]
    labels, counts = np.unique(bins[:100].astype(str), return_counts=True)
    assert labels.tolist() == ["bin0", "bin1", "bin2", "bin3"] and counts.tolist() == [25, 25, 25, 25]
    assert bins[100] is None
    constant = QuantileBinner(n_bins=10).fit_transform(np.zeros((20, 1)))
    assert set(constant[:, 0]) == {"bin1"}


def test_standardizer_centres_scales_and_zeroes_missing() -> None:
    out = Standardizer().fit_transform(NUMBERS).toarray()
    assert np.allclose(out[:, 0], (NUMBERS[:, 0] - 2.5) / np.std(NUMBERS[:, 0]))
    assert out[1, 1] == 0.0
    passthrough = Standardizer(with_mean=False, with_std=False).fit_transform(NUMBERS).toarray()
    assert passthrough[3, 1] == 40.0


def test_vocabulary_encoder_one_hot_and_tokens() -> None:
    encoder = VocabularyEncoder().fit(CATEGORIES)
    assert encoder.n_output_features_ == 4
    matrix = encoder.transform(np.array([["b", "y"], ["z", None]], dtype=object)).toarray()
    assert matrix.sum(axis=1).tolist() == [2.0, 0.0]
    tokens = np.array([[["a", "b", "a"]], [["c"]], [None]], dtype=object)
    bag = VocabularyEncoder(min_count=1).fit(tokens)
    assert bag.transform(tokens).toarray().tolist() == [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    limited = VocabularyEncoder(max_size=1).fit(tokens)
    assert limited.n_output_features_ == 1


def test_cartesian_joins_values() -> None:
    out = CartesianProduct().fit_transform(CATEGORIES)
    assert out[:, 0].tolist() == ["a_x", None, "a_y"]


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (QuantileBinner(n_bins=1), "quantile_bin n_bins=1; expected an integer from 2 to 1000"),
        (NgramTokenizer(n=11), "ngram size n=11"),
        (OsbTokenizer(window=1), "osb window=1"),
        (VocabularyEncoder(min_count=0), "min_count=0"),
    ],
)
def test_parameters_are_validated_in_fit(estimator: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        estimator.fit(NUMBERS if isinstance(estimator, QuantileBinner) else TEXT)
