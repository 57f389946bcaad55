"""Gradient-boosted trees evaluated without scikit-learn's input checks: the fitted trees, compiled once.

HistGradientBoosting's `predict_proba` spends 3 to 7 ms on one record, nearly all of it validating and
encoding the input (a ColumnTransformer with an OrdinalEncoder, pandas/narwhals probes) and calling each
tree's predictor in turn. `Forest` reads the fitted model once: how columns are ordered and categories
encoded for the trees, and every tree's nodes stacked into flat arrays. Then:

- a few rows walk every tree at once with numpy, one level per step (rows x trees nodes in flight);
- many rows go through scikit-learn's own compiled tree walker (`TreePredictor.predict`), tree by tree,
  on the input encoded here, which skips only the validation.

Both give exactly the raw scores `_raw_predict` gives (tests check it on every model type); the loss's
inverse link turns them into probabilities or values, as scikit-learn does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]
# Up to this many (row, tree) pairs the numpy walk wins; past it the compiled walker does.
NUMPY_WALK_MAX_PAIRS = 20_000
BITSET_WORDS = 8  # scikit-learn's category bitsets: 8 x 32 bits, categories 0..255


@dataclasses.dataclass(frozen=True)
class Forest:
    """A fitted HistGradientBoosting model's trees as flat arrays, and how to encode its input."""

    estimator: Any
    order: Ints  # the trees' column j is input column order[j]
    categories: tuple[Floats | None, ...]  # per tree column: the known categories (sorted), or None
    feature: Ints
    threshold: Floats
    left: Ints  # a leaf points to itself, so walking past it changes nothing
    right: Ints
    missing_left: npt.NDArray[np.bool_]
    categorical: npt.NDArray[np.bool_]
    category_left: npt.NDArray[np.bool_]  # (categorical nodes + 1, 256): code goes left at that node
    category_row: Ints  # each node's row in category_left (0 for numeric nodes)
    value: Floats
    roots: Ints  # one per tree, iteration by iteration, class by class
    depth: int
    outputs: int  # trees per iteration: classes for multiclass, else 1
    baseline: Floats

    @classmethod
    def compile(cls, estimator: Any) -> Forest:
        """Read a fitted HistGradientBoostingClassifier or Regressor."""
        order, categories = _encoding(estimator)
        trees = [predictor for iteration in estimator._predictors for predictor in iteration]
        nodes = [tree.nodes for tree in trees]
        offsets = np.cumsum([0, *(len(n) for n in nodes)])[:-1]
        stacked = np.concatenate(nodes)
        shift = np.repeat(offsets, [len(n) for n in nodes]).astype(np.intp)
        own = np.arange(len(stacked), dtype=np.intp)
        leaf = stacked["is_leaf"].astype(bool)
        categorical = stacked["is_categorical"].astype(bool) & ~leaf
        category_left, category_row = _category_splits(trees, stacked, categorical, estimator)
        return cls(
            estimator=estimator,
            order=order,
            categories=categories,
            feature=np.where(leaf, 0, stacked["feature_idx"]).astype(np.intp),
            threshold=stacked["num_threshold"].astype(np.float64),
            left=np.where(leaf, own, stacked["left"].astype(np.intp) + shift),
            right=np.where(leaf, own, stacked["right"].astype(np.intp) + shift),
            missing_left=stacked["missing_go_to_left"].astype(bool),
            categorical=categorical,
            category_left=category_left,
            category_row=category_row,
            value=stacked["value"].astype(np.float64),
            roots=offsets.astype(np.intp),
            depth=int(stacked["depth"].max()) if len(stacked) else 0,
            outputs=int(estimator.n_trees_per_iteration_),
            baseline=np.asarray(estimator._baseline_prediction, dtype=np.float64).reshape(-1),
        )

    def encode(self, X: Floats) -> Floats:
        """The input as the trees see it: columns reordered, categories as their index among the known ones."""
        if X.ndim != 2 or X.shape[1] != len(self.order):
            raise ValueError(f"X has shape {X.shape}; the trees take {len(self.order)} columns")
        encoded = np.array(X[:, self.order], dtype=np.float64, order="C")
        for column, known in enumerate(self.categories):
            if known is not None:
                values = encoded[:, column]
                index = np.searchsorted(known, values)
                found = index < known.size
                found[found] = known[index[found]] == values[found]
                encoded[:, column] = np.where(found, index, np.nan)
        return encoded

    def raw(self, X: Floats) -> Floats:
        """The summed tree outputs plus the baseline, (rows, outputs): `_raw_predict` without its checks."""
        encoded = self.encode(X)
        if encoded.shape[0] * len(self.roots) > NUMPY_WALK_MAX_PAIRS:
            return self._compiled_sum(encoded)
        per_tree = self.value[self._walk(encoded)].reshape(encoded.shape[0], -1, self.outputs)
        # Added tree by tree from the baseline, as scikit-learn adds them, so the sums agree to the last bit.
        start = np.broadcast_to(self.baseline, (encoded.shape[0], 1, self.outputs))
        return np.cumsum(np.concatenate([start, per_tree], axis=1), axis=1)[:, -1, :]

    def scores(self, X: Floats) -> Floats:
        """P(class 1) (binary), class probabilities (multiclass) or values (regression), as scikit-learn's."""
        raw = self.raw(X)
        loss = self.estimator._loss
        if hasattr(self.estimator, "classes_"):
            probabilities = np.asarray(loss.predict_proba(raw if self.outputs > 1 else raw[:, 0]), dtype=np.float64)
            return probabilities[:, 1] if self.outputs == 1 else probabilities
        return np.asarray(loss.link.inverse(raw[:, 0]), dtype=np.float64)

    def _walk(self, X: Floats) -> Ints:
        """The leaf each row reaches in each tree, (rows, trees), walking all of them level by level."""
        rows = np.arange(X.shape[0])[:, None]
        node = np.broadcast_to(self.roots, (X.shape[0], self.roots.size)).copy()
        categorical = self.categorical.any()
        for _ in range(self.depth):
            x = X[rows, self.feature[node]]
            missing = np.isnan(x)
            go_left = np.where(missing, self.missing_left[node], x <= self.threshold[node])
            if categorical:
                split = self.categorical[node] & ~missing
                if split.any():
                    codes = x[split].astype(np.intp)
                    go_left[split] = self.category_left[self.category_row[node[split]], codes]
            node = np.where(go_left, self.left[node], self.right[node])
        return node

    def _compiled_sum(self, X: Floats) -> Floats:
        """`_raw_predict`'s own loop: scikit-learn's compiled walker, tree by tree, on one thread (the caller's)."""
        known, index = self.estimator._bin_mapper.make_known_categories_bitsets()
        raw = np.zeros((X.shape[0], self.outputs), dtype=np.float64, order="F")
        raw += self.baseline
        for iteration in self.estimator._predictors:
            for k, tree in enumerate(iteration):
                raw[:, k] += tree.predict(X, known, index, 1)
        return np.ascontiguousarray(raw)


def _encoding(estimator: Any) -> tuple[Ints, tuple[Floats | None, ...]]:
    """The column order and category lists the fitted model's preprocessing applies."""
    columns = int(estimator.n_features_in_)
    preprocessor = estimator._preprocessor
    if preprocessor is None:
        return np.arange(columns, dtype=np.intp), (None,) * columns
    mask = np.asarray(estimator.is_categorical_, dtype=bool)
    encoder = preprocessor.named_transformers_["encoder"]
    known = [np.asarray(c[~np.isnan(c)] if c.dtype.kind == "f" else c, dtype=np.float64) for c in encoder.categories_]
    order = np.concatenate([np.flatnonzero(mask), np.flatnonzero(~mask)]).astype(np.intp)
    return order, (*known, *([None] * int((~mask).sum())))


def _category_splits(
    trees: list[Any], stacked: Any, categorical: npt.NDArray[np.bool_], estimator: Any
) -> tuple[npt.NDArray[np.bool_], Ints]:
    """For each categorical split, which category codes go left (a code the model never saw goes as missing)."""
    row = np.zeros(len(stacked), dtype=np.intp)
    tables = [np.zeros(256, dtype=bool)]
    if not categorical.any():
        return np.array(tables), row
    known_sets, feature_index = estimator._bin_mapper.make_known_categories_bitsets()
    bits = np.arange(256)
    owner = np.repeat(np.arange(len(trees)), [len(t.nodes) for t in trees])
    for position in np.flatnonzero(categorical):
        node = stacked[position]
        left = _bits(trees[owner[position]].raw_left_cat_bitsets[node["bitset_idx"]], bits)
        known = _bits(known_sets[feature_index[node["feature_idx"]]], bits)
        row[position] = len(tables)
        tables.append(np.where(known, left, bool(node["missing_go_to_left"])))
    return np.array(tables), row


def _bits(bitset: npt.NDArray[np.uint32], codes: Ints) -> npt.NDArray[np.bool_]:
    """Which of the codes are in a 256-bit bitset of 8 uint32 words."""
    words = bitset[codes // 32].astype(np.uint64)
    return ((words >> (codes % 32).astype(np.uint64)) & np.uint64(1)).astype(bool)
