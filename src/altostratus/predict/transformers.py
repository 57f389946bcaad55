"""Amazon ML's recipe transformations as scikit-learn transformers.

Each takes a 2-D array with one column per input variable: float64 (NaN for missing) for numeric
variables, objects for text and categorical ones (str, None for missing), and lists of strings for
token sets. Text functions (`Lowercase`, `NoPunct`), `QuantileBinner`, `CartesianProduct` and the
tokenizers return such arrays again, so they compose; the encoders (`Standardizer`,
`VocabularyEncoder`) return sparse feature matrices, and also their parts (`encode`), so that a recipe
builds one matrix for all its outputs at once.

They follow scikit-learn's contract: `__init__` only stores keyword-only parameters, `fit` validates
them and returns self, fitted attributes end in `_`, and `transform` checks it is fitted and that the
number of input columns did not change. Checks are kept light because one record is transformed per
real-time prediction.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import string
from collections.abc import Iterable
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from altostratus.predict.errors import InvalidInput

Matrix = npt.NDArray[Any]
_PUNCTUATION = str.maketrans({char: " " for char in string.punctuation})


@dataclasses.dataclass
class SparseParts:
    """The non-zero entries of a feature block: row and column indices, values, and the block's width."""

    rows: npt.NDArray[np.intp]
    columns: npt.NDArray[np.intp]
    values: npt.NDArray[np.float64]
    width: int

    def to_csr(self, n_rows: int) -> sp.csr_matrix:
        """The block as a CSR matrix of `n_rows` rows (no entry may repeat a (row, column) pair)."""
        order = np.argsort(self.rows, kind="stable")
        indptr = np.zeros(n_rows + 1, dtype=np.intp)
        np.cumsum(np.bincount(self.rows, minlength=n_rows), out=indptr[1:])
        return sp.csr_matrix((self.values[order], self.columns[order], indptr), shape=(n_rows, self.width))


class _Base(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):  # type: ignore[misc, call-arg]
    """Shared input checks: a 2-D array, fitted state, the same number of columns as in fit.

    Output wrapping (`set_output`) is off: it costs more than a one-record transform itself.
    """

    _fitted_attribute = "n_features_in_"

    def _start_fit(self, X: Matrix, dtype: type) -> Matrix:
        X = _two_d(X, dtype)
        self.n_features_in_ = X.shape[1]
        return X

    def _check(self, X: Matrix, dtype: type) -> Matrix:
        if not hasattr(self, self._fitted_attribute):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments first."
            )
        X = _two_d(X, dtype)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X


class _Stateless(_Base):
    """A transformation of each value that learns nothing from the data."""

    def fit(self, X: Matrix, y: object = None) -> _Stateless:
        """Record the number of input columns."""
        self._start_fit(X, object)
        return self

    def transform(self, X: Matrix) -> Matrix:
        """Apply the transformation to every value."""
        X = self._check(X, object)
        out = np.empty(X.shape, dtype=object)
        apply = self._apply
        for j in range(X.shape[1]):
            out[:, j] = [None if value is None else apply(value) for value in X[:, j]]
        return out

    def _apply(self, value: Any) -> Any:
        raise NotImplementedError


class Lowercase(_Stateless):
    """lowercase(text): every letter in lower case."""

    def _apply(self, value: str) -> str:
        return value.lower()


class NoPunct(_Stateless):
    """no_punct(text): punctuation characters become spaces, so they also split words."""

    def _apply(self, value: str) -> str:
        return no_punct(value)


def no_punct(value: str) -> str:
    """The text with each punctuation character replaced by a space."""
    return value.translate(_PUNCTUATION)


class NgramTokenizer(_Stateless):
    """ngram(text, n): the word n-grams of every size from 1 to n (words split on whitespace)."""

    def __init__(self, *, n: int = 2) -> None:
        self.n = n

    def fit(self, X: Matrix, y: object = None) -> NgramTokenizer:
        """Check n and record the number of input columns."""
        _check_int("ngram size n", self.n, 1, 10)
        super().fit(X)
        return self

    def _apply(self, value: str) -> list[str]:
        words = value.split()
        return [" ".join(words[i : i + size]) for size in range(1, self.n + 1) for i in range(len(words) - size + 1)]


class OsbTokenizer(_Stateless):
    """osb(text, window): orthogonal sparse bigrams, each word paired with each of the next window-1 words.

    A pair of words d positions apart is written with d underscores: "the quick brown" with window 3 gives
    the_quick, the__brown, quick_brown.
    """

    def __init__(self, *, window: int = 4) -> None:
        self.window = window

    def fit(self, X: Matrix, y: object = None) -> OsbTokenizer:
        """Check the window and record the number of input columns."""
        _check_int("osb window", self.window, 2, 10)
        super().fit(X)
        return self

    def _apply(self, value: str) -> list[str]:
        words = value.split()
        return [
            words[i] + "_" * gap + words[i + gap]
            for i in range(len(words))
            for gap in range(1, self.window)
            if i + gap < len(words)
        ]


class CartesianProduct(_Stateless):
    """cartesian(a, b): one categorical value per combination of the inputs' values ("a_b"), missing if any is."""

    def transform(self, X: Matrix) -> Matrix:
        """Join each row's values into one."""
        X = self._check(X, object)
        out = np.empty((X.shape[0], 1), dtype=object)
        out[:, 0] = [None if any(value is None for value in row) else "_".join(row) for row in X]
        return out


class QuantileBinner(_Base):
    """quantile_bin(numeric, n): n bins holding about equal numbers of training values, as categories.

    Bins that would repeat an edge (many equal values) merge. Values become the categories "bin0" ...;
    a missing value stays missing.
    """

    _fitted_attribute = "bin_edges_"

    def __init__(self, *, n_bins: int = 10) -> None:
        self.n_bins = n_bins

    def fit(self, X: Matrix, y: object = None) -> QuantileBinner:
        """Find each column's inner bin edges from the quantiles of its present values."""
        _check_int("quantile_bin n_bins", self.n_bins, 2, 1000)
        X = self._start_fit(X, np.float64)
        quantiles = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        self.bin_edges_ = []
        self.bin_labels_ = []
        for j in range(X.shape[1]):
            values = X[:, j][np.isfinite(X[:, j])]
            edges = np.unique(np.quantile(values, quantiles)) if values.size else np.empty(0)
            self.bin_edges_.append(edges)
            self.bin_labels_.append(np.array([f"bin{b}" for b in range(edges.size + 1)] + [None], dtype=object))
        return self

    def transform(self, X: Matrix) -> Matrix:
        """Each value's bin as a category (None for missing)."""
        X = self._check(X, np.float64)
        out = np.empty(X.shape, dtype=object)
        for j, (edges, labels) in enumerate(zip(self.bin_edges_, self.bin_labels_, strict=True)):
            index = np.searchsorted(edges, X[:, j], side="right")
            index[~np.isfinite(X[:, j])] = len(labels) - 1
            out[:, j] = labels[index]
        return out


class Standardizer(_Base):
    """normalize(numeric): (value - mean) / standard deviation, 0 for missing; also the raw pass-through.

    With `with_mean=False, with_std=False` it passes values (binary 0/1) through, missing as 0.
    """

    _fitted_attribute = "mean_"

    def __init__(self, *, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: Matrix, y: object = None) -> Standardizer:
        """Learn each column's mean and standard deviation over its present values."""
        X = self._start_fit(X, np.float64)
        present = np.isfinite(X)
        counts = np.maximum(present.sum(axis=0), 1)
        filled = np.where(present, X, 0.0)
        mean = filled.sum(axis=0) / counts
        spread = np.sqrt((np.where(present, X - mean, 0.0) ** 2).sum(axis=0) / counts)
        self.mean_ = mean if self.with_mean else np.zeros(X.shape[1])
        self.scale_ = np.where(spread > 0, spread, 1.0) if self.with_std else np.ones(X.shape[1])
        self.n_output_features_ = X.shape[1]
        return self

    def transform(self, X: Matrix) -> sp.csr_matrix:
        """The standardized values as a sparse matrix."""
        X = self._check(X, np.float64)
        return self.encode(X).to_csr(X.shape[0])

    def encode(self, X: Matrix) -> SparseParts:
        """The standardized values as sparse parts (missing values and exact zeros are left out)."""
        X = self._check(X, np.float64)
        values = (X - self.mean_) / self.scale_
        rows, columns = np.nonzero(np.isfinite(values) & (values != 0))
        return SparseParts(rows, columns, values[rows, columns], X.shape[1])


class VocabularyEncoder(_Base):
    """One feature per category or token seen in training: 1 when the row has it (one-hot, or bag of tokens).

    A cell holds a category (str), a token list, or None. Per column, categories seen fewer than
    `min_count` times are dropped, and only the `max_size` most frequent are kept (None: all).
    Unknown and missing values give no feature.
    """

    _fitted_attribute = "vocabulary_"

    def __init__(self, *, min_count: int = 1, max_size: int | None = None) -> None:
        self.min_count = min_count
        self.max_size = max_size

    def fit(self, X: Matrix, y: object = None) -> VocabularyEncoder:
        """Learn each column's vocabulary."""
        _check_int("min_count", self.min_count, 1, 2**31)
        if self.max_size is not None:
            _check_int("max_size", self.max_size, 1, 2**31)
        X = self._start_fit(X, object)
        self.vocabulary_: list[dict[str, int]] = []
        offset = 0
        for j in range(X.shape[1]):
            counts = collections.Counter(_tokens(X[:, j]))
            kept = [token for token, count in counts.most_common(self.max_size) if count >= self.min_count]
            self.vocabulary_.append({token: offset + i for i, token in enumerate(sorted(kept))})
            offset += len(kept)
        self.n_output_features_ = offset
        return self

    def transform(self, X: Matrix) -> sp.csr_matrix:
        """The indicator features as a sparse matrix."""
        X = self._check(X, object)
        return self.encode(X).to_csr(X.shape[0])

    def encode(self, X: Matrix) -> SparseParts:
        """The indicator features as sparse parts."""
        X = self._check(X, object)
        n, k = X.shape
        if n and k and isinstance(X[0, 0], list):
            rows, columns = _lookup_tokens(X, self.vocabulary_)
        else:
            # One C-level pass over every column's lookups: no Python code runs per cell.
            lookups = (map(vocabulary.get, X[:, j], repeat(-1)) for j, vocabulary in enumerate(self.vocabulary_))
            found = np.fromiter(itertools.chain.from_iterable(lookups), np.intp, n * k)
            hits = np.flatnonzero(found >= 0)
            rows, columns = hits % max(n, 1), found[hits]
        return SparseParts(rows, columns, np.ones(rows.size), self.n_output_features_)


def _lookup_tokens(X: Matrix, vocabularies: list[dict[str, int]]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Row and feature indices of every known token in columns of token lists."""
    pairs = [
        (row, vocabulary[token])
        for j, vocabulary in enumerate(vocabularies)
        for row, tokens in enumerate(X[:, j])
        if tokens
        for token in set(tokens)
        if token in vocabulary
    ]
    if not pairs:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    array: npt.NDArray[np.intp] = np.array(pairs, dtype=np.intp)
    return array[:, 0], array[:, 1]


def _tokens(cells: Iterable[Any]) -> Iterable[str]:
    for cell in cells:
        if cell is None:
            continue
        if isinstance(cell, list):
            yield from set(cell)
        else:
            yield cell


def _two_d(X: Matrix, dtype: type) -> Matrix:
    array: Matrix = np.asarray(X, dtype=dtype)
    if array.ndim != 2:
        raise ValueError(f"Expected a 2-D array, got an array of shape {array.shape} instead.")
    return array


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise InvalidInput(f"{name}={value!r}; expected an integer from {low} to {high}")
