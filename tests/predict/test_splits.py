"""DataRearrangement: sequential and random splits, complements, seeds, and bad JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from altostratus.predict import InvalidInput, Rearrangement


def split(**splitting: object) -> Rearrangement:
    return Rearrangement.from_json(json.dumps({"splitting": splitting}))


def test_sequential_takes_the_range_in_file_order() -> None:
    mask = split(percentBegin=0, percentEnd=70).mask(10)
    assert mask.tolist() == [True] * 7 + [False] * 3
    assert split(percentBegin=70, percentEnd=100, strategy="sequential").mask(10).tolist() == [False] * 7 + [True] * 3


def test_complement_takes_the_rest_without_overlap() -> None:
    for strategy in ("sequential", "random"):
        kept = split(percentBegin=20, percentEnd=45, strategy=strategy, strategyParams={"randomSeed": "s"}).mask(1000)
        rest = split(percentBegin=20, percentEnd=45, strategy=strategy, complement="true", randomSeed="s").mask(1000)
        assert not (kept & rest).any() and (kept | rest).all()


def test_random_split_is_deterministic_by_seed_and_near_the_share() -> None:
    first = split(percentBegin=0, percentEnd=70, strategy="random", strategyParams={"randomSeed": "abc"}).mask(10_000)
    again = split(percentBegin=0, percentEnd=70, strategy="random", strategyParams={"randomSeed": "abc"}).mask(10_000)
    other = split(percentBegin=0, percentEnd=70, strategy="random", strategyParams={"randomSeed": "xyz"}).mask(10_000)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert 0.68 < first.mean() < 0.72
    assert not np.array_equal(first[:7000], np.ones(7000, bool))


def test_a_block_of_rows_gets_the_same_answer_as_the_whole() -> None:
    rule = split(percentBegin=10, percentEnd=60, strategy="random", randomSeed="k")
    whole = rule.mask(500)
    assert np.array_equal(
        np.concatenate([rule.mask(500, start=0, count=200), rule.mask(500, start=200, count=300)]), whole
    )


def test_no_rearrangement_keeps_everything() -> None:
    assert Rearrangement.from_json(None).is_everything
    assert split(percentBegin=30, percentEnd=30, complement=True).is_everything
    assert json.loads(split(strategy="random", randomSeed="q").to_json())["splitting"]["strategyParams"] == {
        "randomSeed": "q"
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"splitting": {"strategy": "stratified"}}', "Unknown strategy type: 'stratified'"),
        ('{"splitting": {"percentBegin": 80, "percentEnd": 20}}', "percentBegin=80 is above percentEnd=20"),
        ('{"splitting": {"percentEnd": 120}}', "percentEnd=120; expected a number from 0 to 100"),
        ('{"splitting": {"percentEnd": "50"}}', "percentEnd='50'"),
        ('{"splitting": {"shuffle": true}}', "unknown fields \\['shuffle'\\]"),
        ('{"split": {}}', 'expected {"splitting"'),
        ("{", "not valid JSON"),
        ('{"splitting": {"complement": "perhaps"}}', "complement='perhaps'; expected true or false"),
    ],
)
def test_bad_rearrangements_name_the_field(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Rearrangement.from_json(text)
