"""Pipeline files: a valid file parses; a bad one is refused with a message naming the step and field."""

from __future__ import annotations

import pytest

from altostratus.pipelines import InvalidPipeline, parse

VALID = """
name: adult
on_new_data: true
source: {bucket: lake, prefix: raw/}
preprocess: {function: cleaner, output_prefix: clean/}
train:
  target: income
  candidates: [{name: fast, algorithm: sgd}, {algorithm: auto}]
gate: {group: adult-models, policy: {metric: auc, min: 0.8}}
deploy: {endpoint: adult, challenger_weight: 10}
promote: {when: experiment, min_outcomes: 300}
"""


def test_a_valid_file_parses_with_defaults() -> None:
    spec = parse(VALID)

    assert spec.steps == ["source", "preprocess", "train", "gate", "deploy", "promote"]
    assert [(c.name, c.algorithm) for c in spec.train.candidates] == [("fast", "sgd"), ("auto", "auto")]
    assert (spec.train.model_type, spec.train.split, spec.gate.metric) == ("BINARY", 0.7, "auc")
    assert spec.deploy is not None and spec.deploy.challenger_weight == 10
    assert spec.promote is not None and spec.promote.min_outcomes == 300
    assert spec.on_new_data


def test_optional_steps_may_be_left_out() -> None:
    spec = parse("name: p\nsource: {bucket: b, prefix: in/}\ntrain: {target: y}\ngate: {group: g}\n")

    assert spec.steps == ["source", "train", "gate"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("algorithm: auto", "algorithm: svm"),
            r"train.candidates\[1\].algorithm='svm'; expected one of \['auto', 'sgd'\]",
        ),
        (("target: income", "targt: income"), r"train has unknown fields \['targt'\]"),
        (("gate: {group: adult-models, ", "gate: {"), r"gate.group is missing"),
        (("challenger_weight: 10", "challenger_weight: 150"), r"deploy.challenger_weight=150.0; expected a percentage"),
        (("when: experiment", "when: later"), r"promote.when='later'; expected one of"),
        (("output_prefix: clean/", "output_prefix: raw/clean/"), r"preprocess.output_prefix='raw/clean/' lies under"),
        (("prefix: raw/}", "prefix: raw}"), r"source.prefix='raw'; expected a prefix ending in '/'"),
        (("name: adult", "name: 'no spaces'"), r"name='no spaces'; expected 1 to 63 letters"),
        (("on_new_data: true", "on_new_data: sometimes"), r"pipeline.on_new_data='sometimes'; expected true or false"),
        (("source: {bucket: lake, prefix: raw/}\n", ""), r"the pipeline has no source step"),
    ],
)
def test_a_bad_file_names_the_step_and_field(change: tuple[str, str], message: str) -> None:
    text = VALID.replace(*change)
    assert text != VALID

    with pytest.raises(InvalidPipeline, match=message):
        parse(text)


def test_not_yaml_and_not_a_mapping() -> None:
    with pytest.raises(InvalidPipeline, match="not valid YAML"):
        parse("name: [unclosed")
    with pytest.raises(InvalidPipeline, match=r"pipeline=.*expected a mapping"):
        parse("- a list")
    with pytest.raises(InvalidPipeline, match="promote needs a deploy step"):
        parse(VALID.replace("deploy: {endpoint: adult, challenger_weight: 10}\n", ""))
