"""The inputs gradient-boosted trees see: the raw attributes, not a recipe.

Trees need no binning, scaling or crossing: numeric and binary attributes go in as they are (NaN for
missing, which HistGradientBoosting routes on its own); categorical ones as category codes, which it
splits natively (the `max_categories - 1` most frequent values keep a code, the rest share one); text
as the presence of its `text_words` most frequent words.
"""

from __future__ import annotations

import collections
from itertools import repeat

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from altostratus.predict.schema import AttributeType
from altostratus.predict.table import Table
from altostratus.predict.transformers import no_punct

NUMERIC_TYPES = (AttributeType.NUMERIC, AttributeType.BINARY)


class TreeFeatures(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):  # type: ignore[misc, call-arg]
    """A Table in, a dense float matrix for HistGradientBoosting out, with `categorical_mask_` for its splits."""

    def __init__(self, *, max_categories: int = 255, text_words: int = 20) -> None:
        self.max_categories = max_categories
        self.text_words = text_words

    def fit(self, X: Table, y: object = None) -> TreeFeatures:
        """Learn the category codes and the frequent words of the table's input attributes."""
        self.inputs_ = [(attribute.name, attribute.type) for attribute in X.schema.inputs]
        self.n_features_in_ = len(self.inputs_)
        self.codes_: dict[str, dict[str | None, float]] = {}
        self.words_: dict[str, dict[str, int]] = {}
        mask: list[bool] = []
        for name, kind in self.inputs_:
            if kind is AttributeType.CATEGORICAL:
                counts = collections.Counter(value for value in X.strings(name) if value is not None)
                kept = [value for value, _ in counts.most_common(self.max_categories - 1)]
                self.codes_[name] = {value: float(code) for code, value in enumerate(kept)} | {None: np.nan}
                mask.append(True)
            elif kind is AttributeType.TEXT:
                counts = collections.Counter(word for words in _words(X.strings(name)) for word in words)
                top = [word for word, _ in counts.most_common(self.text_words)]
                self.words_[name] = {word: index for index, word in enumerate(top)}
                mask.extend([False] * len(top))
            else:
                mask.append(False)
        self.categorical_mask_ = np.array(mask, dtype=bool)
        return self

    def transform(self, X: Table) -> npt.NDArray[np.float64]:
        """The dense feature matrix."""
        if not hasattr(self, "categorical_mask_"):
            raise NotFittedError("This TreeFeatures instance is not fitted yet. Call 'fit' first.")
        blocks = []
        for name, kind in self.inputs_:
            if name not in X.columns:
                raise ValueError(f"X lacks the attribute {name!r} that TreeFeatures was fitted with.")
            if kind in NUMERIC_TYPES:
                blocks.append(X.numeric(name).reshape(-1, 1))
            elif kind is AttributeType.CATEGORICAL:
                codes = self.codes_[name]
                other = float(len(codes) - 1)
                values = np.fromiter(map(codes.get, X.strings(name), repeat(other)), np.float64, X.rows)
                blocks.append(values.reshape(-1, 1))
            else:
                blocks.append(_presence(X.strings(name), self.words_[name]))
        return np.hstack(blocks) if blocks else np.empty((X.rows, 0))


def _words(column: npt.NDArray[np.object_]) -> list[set[str]]:
    return [set() if value is None else set(no_punct(value).lower().split()) for value in column]


def _presence(column: npt.NDArray[np.object_], vocabulary: dict[str, int]) -> npt.NDArray[np.float64]:
    out = np.zeros((len(column), len(vocabulary)))
    for row, words in enumerate(_words(column)):
        for word in words & vocabulary.keys():
            out[row, vocabulary[word]] = 1.0
    return out
