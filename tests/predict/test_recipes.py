"""Recipes: parsing Amazon ML's recipe JSON, groups and assignments, type checks, the default recipe."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from altostratus.predict import InvalidInput
from altostratus.predict.recipes import Recipe, RecipeFeatures, default_recipe
from altostratus.predict.table import table_from_records
from tests.predict.conftest import synthetic_csv, table_of

TABLE = table_of(synthetic_csv(60), target="y")


def recipe(**document: object) -> str:
    return json.dumps(document)


def keys(text: str) -> list[str]:
    return [node.key for node in Recipe.from_json(text).compile(TABLE.schema)]


def test_default_recipe_bins_and_normalizes_numbers_and_splits_text() -> None:
    assert [node.key for node in default_recipe(TABLE.schema).compile(TABLE.schema)] == [
        "color",
        "quantile_bin(x, 10)",
        "normalize(x)",
        "ngram(lowercase(no_punct(note)), 2)",
    ]


def test_groups_assignments_and_functions() -> None:
    text = recipe(
        groups={"CATS": "group(color)", "NOTES": "group_remove(ALL_TEXT, nothing)"},
        assignments={"xbins": "quantile_bin(x, 5)", "cross": "cartesian(xbins, color)"},
        outputs=["CATS", "xbins", "cross", "osb(lowercase(NOTES), 3)", "note", "x"],
    )
    assert keys(text) == [
        "color",
        "quantile_bin(x, 5)",
        "cartesian(quantile_bin(x, 5), color)",
        "osb(lowercase(note), 3)",
        "ngram(note, 1)",
        "x",
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"outputs": ["log(x)"]}, "unknown function 'log'; expected one of"),
        ({"outputs": ["quantile_bin(color, 10)"]}, "quantile_bin does not take 'color' of type CATEGORICAL"),
        ({"outputs": ["ngram(note)"]}, "ngram takes 2 arguments; got 1"),
        ({"outputs": ["ngram(note, two)"]}, "last argument of ngram must be a whole number"),
        ({"outputs": ["y"]}, "'y' is not an input attribute, group or assignment"),
        ({"outputs": ["cartesian(ALL_INPUTS, color)"]}, "two single variables, not groups"),
        ({"assignments": {"a": "lowercase(a)"}, "outputs": ["a"]}, "defined in terms of itself"),
        ({"outputs": ["ngram(note, 2"]}, "missing '\\)'"),
        ({"outputs": ["x) ("]}, "unexpected"),
        ({"outputs": []}, "expected a non-empty list"),
        ({"outputs": ["x"], "extra": {}}, "only the sections"),
    ],
)
def test_bad_recipes_name_what_is_wrong(document: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        keys(json.dumps(document))


def test_recipe_features_is_a_transformer_of_tables() -> None:
    features = RecipeFeatures(recipe=None)
    with pytest.raises(NotFittedError):
        features.transform(TABLE)
    assert features.fit(TABLE) is features
    matrix = features.transform(TABLE)
    assert matrix.shape == (60, features.n_features_out_)
    assert clone(features).get_params() == {"recipe": None}
    record = table_from_records(TABLE.schema, [{"x": "0.5", "color": "red", "note": "Good, w1!"}], ())
    assert features.transform(record).nnz >= 5  # color, x's bin, x, "good", "w1" (and "good w1" if seen)
    unknown = table_from_records(TABLE.schema, [{"color": "purple"}], ())
    assert features.transform(unknown).nnz == 0  # unknown category, missing number and text give no feature
    parts = features.encode(TABLE)
    assert np.array_equal(parts.to_csr(60).toarray(), matrix.toarray())
