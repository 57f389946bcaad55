"""Training, parameters, artifacts, predictions and evaluations on small generated data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from altostratus.predict import (
    Algorithm,
    ArtifactCorrupt,
    Attribute,
    AttributeType,
    Cancelled,
    InvalidInput,
    Learner,
    ModelType,
    Predictor,
    ReadOptions,
    Schema,
    TextSource,
    TrainingParameters,
)
from altostratus.predict.artifacts import dump_model, load_model
from altostratus.predict.evaluation import evaluate
from altostratus.predict.table import load_table
from altostratus.predict.training import train
from tests.predict.conftest import synthetic_csv, table_of

BINARY = table_of(synthetic_csv(400, kind="binary"), target="y")
REGRESSION = table_of(synthetic_csv(400, kind="regression"), target="y")
MULTICLASS = table_of(synthetic_csv(400, kind="multiclass"), target="y")
RECORD = {"x": "1.2", "color": "red", "note": "good w3 w4"}


def test_parameters_follow_amazon_ml() -> None:
    defaults = TrainingParameters.from_mapping(None)
    assert (defaults.max_passes, defaults.l1, defaults.l2, defaults.shuffle, defaults.algorithm) == (
        10,
        0.0,
        1e-6,
        True,
        Algorithm.SGD,
    )
    given = TrainingParameters.from_mapping(
        {"sgd.maxPasses": "3", "sgd.l1RegularizationAmount": "1e-8", "algorithm": "auto"}
    )
    assert (given.max_passes, given.l1, given.l2, given.algorithm) == (3, 1e-8, 0.0, Algorithm.AUTO)
    assert TrainingParameters.from_mapping(given.to_mapping()) == given


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"sgd.maxPasses": "0"}, "sgd.maxPasses='0'; expected an integer from 1 to 10000"),
        ({"sgd.maxMLModelSizeInBytes": "5"}, "from 100000 to 2147483648"),
        ({"sgd.l1RegularizationAmount": "1e-6", "sgd.l2RegularizationAmount": "1e-6"}, "allows one of them"),
        ({"sgd.l2RegularizationAmount": "-1"}, "expected a number from 0"),
        ({"sgd.shuffleType": "always"}, "sgd.shuffleType='always'; expected one of \\['auto', 'none'\\]"),
        ({"algorithm": "xgboost"}, "algorithm='xgboost'; expected one of \\['sgd', 'auto'\\]"),
        ({"sgd.learningRate": "1"}, "\\['sgd.learningRate'\\] are not known"),
    ],
)
def test_bad_parameters_name_key_value_and_allowed(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        TrainingParameters.from_mapping(parameters)


@pytest.mark.parametrize(
    ("table", "model_type", "bound"),
    [(BINARY, ModelType.BINARY, 0.9), (REGRESSION, ModelType.REGRESSION, 1.0), (MULTICLASS, ModelType.MULTICLASS, 0.6)],
    ids=["binary", "regression", "multiclass"],
)
@pytest.mark.parametrize("algorithm", ["sgd", "auto"])
def test_each_model_type_learns_and_beats_its_baseline(table, model_type, bound, algorithm) -> None:  # type: ignore[no-untyped-def]
    steps: list[float] = []
    model = train(
        table,
        model_type,
        TrainingParameters.from_mapping({"algorithm": algorithm}),
        progress=lambda f, m: steps.append(f),
    )
    result = evaluate(model, table)
    if model_type is ModelType.REGRESSION:
        assert result.value < bound < result.baseline
    else:
        assert result.value > bound > result.baseline
    assert steps == sorted(steps) and steps[0] > 0 and steps[-1] <= 1
    if algorithm == "auto":
        assert set(model.report["candidates"]) == {Learner.SGD.value, Learner.GRADIENT_BOOSTING.value}


def test_targets_that_do_not_suit_the_model_type_are_refused() -> None:
    schema = Schema((Attribute("x", AttributeType.NUMERIC), Attribute("y", AttributeType.BINARY)), target="y")
    rows = [TextSource("one.csv", "".join(f"{i},1\n" for i in range(20)))]
    one_class = load_table(rows, schema, ReadOptions()).table
    with pytest.raises(InvalidInput, match="target 'y' has one class \\(1\\) in 20 rows; a BINARY model needs"):
        train(one_class, ModelType.BINARY, TrainingParameters())
    labels = table_of("x,y\n" + "".join(f"{i},{'ab'[i % 2]}x\n" for i in range(20)), target="y")
    with pytest.raises(InvalidInput, match=r"a BINARY model needs a BINARY target .* target 'y' is CATEGORICAL"):
        train(labels, ModelType.BINARY, TrainingParameters())
    with pytest.raises(InvalidInput, match="a REGRESSION model needs a NUMERIC target"):
        train(labels, ModelType.REGRESSION, TrainingParameters())
    with pytest.raises(InvalidInput, match="a MULTICLASS model needs at least 2"):
        train(table_of("x,y\n1,a\n2,a\n", target="y"), ModelType.MULTICLASS, TrainingParameters())
    with pytest.raises(InvalidInput, match="no target attribute"):
        train(table_of("x,y\n1,a\n2,b\n"), ModelType.MULTICLASS, TrainingParameters())


def test_training_stops_when_cancelled() -> None:
    with pytest.raises(Cancelled):
        train(BINARY, ModelType.BINARY, TrainingParameters(), cancelled=lambda: True)


def test_artifacts_round_trip_and_detect_corruption() -> None:
    model = train(BINARY, ModelType.BINARY, TrainingParameters(max_passes=2))
    data, digest = dump_model(model)
    loaded = load_model(data, digest)
    assert np.allclose(loaded.scores(BINARY), model.scores(BINARY))
    with pytest.raises(ArtifactCorrupt, match="checksum"):
        load_model(data[:-1] + bytes([data[-1] ^ 1]), digest)
    with pytest.raises(ArtifactCorrupt, match="checksum"):
        load_model(data, "0" * 64)
    header, _, payload = data.partition(b"\n")
    old = json.dumps({**json.loads(header), "format": 0}).encode()
    with pytest.raises(ArtifactCorrupt, match="format"):
        load_model(old + b"\n" + payload)


def test_predictions_have_amazon_ml_shapes() -> None:
    binary = Predictor(train(BINARY, ModelType.BINARY, TrainingParameters()))
    prediction = binary.predict(RECORD)
    assert prediction["predictedLabel"] == "1" and list(prediction["predictedScores"]) == ["1"]
    assert prediction["details"] == {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}
    score = prediction["predictedScores"]["1"]
    strict = Predictor(binary.model, score_threshold=min(1.0, score + 0.01))
    assert strict.predict(RECORD)["predictedLabel"] == "0"
    assert strict.predict(RECORD)["predictedScores"] == {"0": score}

    multiclass = Predictor(train(MULTICLASS, ModelType.MULTICLASS, TrainingParameters()))
    scores = multiclass.predict(RECORD)["predictedScores"]
    assert set(scores) == {"high", "low", "mid"} and abs(sum(scores.values()) - 1) < 1e-9

    regression = Predictor(train(REGRESSION, ModelType.REGRESSION, TrainingParameters()))
    value = regression.predict(RECORD)
    assert set(value) == {"predictedValue", "details"} and value["predictedValue"] > 0


def test_records_with_unknown_or_missing_fields() -> None:
    predictor = Predictor(train(BINARY, ModelType.BINARY, TrainingParameters()))
    with pytest.raises(InvalidInput, match="Record field 'colour' is not an attribute of the model"):
        predictor.predict({"colour": "red"})
    assert predictor.predict({})["predictedLabel"] in {"0", "1"}
    assert predictor.predict({"y": "1", "x": ""})["predictedLabel"] in {"0", "1"}
    with pytest.raises(InvalidInput, match="Record field 'x'='big' is not a valid NUMERIC value"):
        predictor.predict({"x": "big"})


def test_predict_many_matches_predict() -> None:
    predictor = Predictor(train(REGRESSION, ModelType.REGRESSION, TrainingParameters()))
    records = [RECORD, {"x": "-2", "color": "blue"}]
    assert list(predictor.predict_many(records)) == [predictor.predict(record) for record in records]
    rows = [["1.2", "red", "good w3 w4", ""], ["-2", "blue", "", ""]]
    assert list(predictor.predict_many(rows)) == [predictor.predict(record) for record in records]


def test_evaluation_reports_baselines_and_curves() -> None:
    model = train(BINARY, ModelType.BINARY, TrainingParameters())
    result = evaluate(model, BINARY, score_threshold=0.5).to_dict()
    assert result["metric"] == "BinaryAUC" and result["baseline"] == 0.5
    details = result["details"]
    assert len(details["thresholds"]) == 101 and details["thresholds"][50]["threshold"] == 0.5
    assert sum(details["confusion_matrix"].values()) == BINARY.rows
    assert 2 <= len(details["roc_curve"]) <= 101
    multi = evaluate(train(MULTICLASS, ModelType.MULTICLASS, TrainingParameters()), MULTICLASS).to_dict()
    assert multi["metric"] == "MulticlassAvgFScore" and len(multi["details"]["confusion_matrix"]) == 3
    regression = evaluate(train(REGRESSION, ModelType.REGRESSION, TrainingParameters()), REGRESSION).to_dict()
    assert regression["metric"] == "RegressionRMSE" and len(regression["details"]["residual_histogram"]) == 20
    json.dumps([result, multi, regression], allow_nan=False)
