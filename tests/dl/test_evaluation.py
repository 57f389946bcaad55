"""Evaluation: its figures against scikit-learn's on real predictions, the threshold trade-off, operating points."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn import metrics

from altostratus.dl.evaluation import (
    Evaluation,
    InvalidEvaluation,
    choose_threshold,
    choose_thresholds,
    evaluate,
    precision_recall_curve,
    threshold_tradeoff,
)
from altostratus.dl.families.linear import LinearClassifier
from altostratus.dl.families.nearest import NearestNeighbour
from tests.dl.conftest import Split

Scored = tuple[tuple[str, ...], NDArray[np.int64], NDArray[np.float32]]
Call = Callable[[NDArray[np.int64], NDArray[np.float32]], object]


@pytest.fixture(scope="module", params=["linear", "nearest k=5"])
def scored(request: pytest.FixtureRequest, digits: Split) -> Scored:
    """The digits' test classes, truth and probabilities of a real classifier: a softmax, or votes with ties."""
    train, test = digits
    model = LinearClassifier(epochs=10) if request.param == "linear" else NearestNeighbour(k=5)
    return test.classes, test.labels, model.fit(train).predict_proba(test.pixels)


def test_figures_match_scikit_learn(scored: Scored) -> None:
    classes, truth, probabilities = scored
    evaluation = evaluate(classes, truth, probabilities)
    predicted = probabilities.argmax(axis=1)
    labels = list(range(len(classes)))
    assert evaluation.accuracy == pytest.approx(metrics.accuracy_score(truth, predicted))
    assert (evaluation.confusion == metrics.confusion_matrix(truth, predicted, labels=labels)).all()
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    np.testing.assert_allclose(evaluation.precision, precision)
    np.testing.assert_allclose(evaluation.recall, recall)
    np.testing.assert_allclose(evaluation.f1, f1)
    assert (evaluation.support == support).all()
    assert evaluation.macro_f1 == pytest.approx(metrics.f1_score(truth, predicted, average="macro"))
    assert 0.8 < evaluation.accuracy < 1.0


def test_mistakes_are_the_wrong_images_most_confident_first(scored: Scored) -> None:
    classes, truth, probabilities = scored
    evaluation = evaluate(classes, truth, probabilities)
    assert set(evaluation.mistakes.tolist()) == set(np.flatnonzero(probabilities.argmax(axis=1) != truth).tolist())
    confidence = probabilities[evaluation.mistakes, evaluation.predicted[evaluation.mistakes]]
    assert (np.diff(confidence) <= 0).all()
    assert (evaluation.truth[evaluation.mistakes] != evaluation.predicted[evaluation.mistakes]).all()


def test_precision_recall_curve_matches_scikit_learn(scored: Scored) -> None:
    classes, truth, probabilities = scored
    evaluation = evaluate(classes, truth, probabilities)
    for index, name in enumerate(classes):
        curve = precision_recall_curve(evaluation, name)
        precision, recall, thresholds = metrics.precision_recall_curve(truth == index, probabilities[:, index])
        # scikit-learn orders by rising threshold and appends the point (recall 0, precision 1)
        np.testing.assert_allclose(curve.thresholds[::-1], thresholds)
        np.testing.assert_allclose(curve.precision[::-1], precision[:-1])
        np.testing.assert_allclose(curve.recall[::-1], recall[:-1])
        expected = metrics.average_precision_score(truth == index, probabilities[:, index])
        assert curve.average_precision == pytest.approx(expected)


def test_raising_a_threshold_never_raises_recall_or_false_positives(scored: Scored) -> None:
    classes, truth, probabilities = scored
    levels = np.linspace(0.0, 1.0, 101)
    for index in range(len(classes)):
        tradeoff = threshold_tradeoff(truth, probabilities, index, levels)
        assert (np.diff(tradeoff.recall) <= 0).all() and (np.diff(tradeoff.false_positives) <= 0).all()
        assert tradeoff.recall[0] == 1.0 and tradeoff.false_positives[0] == (truth != index).sum()
        for level, recall, false_positives in zip(
            levels[::10], tradeoff.recall[::10], tradeoff.false_positives[::10], strict=True
        ):
            detected = probabilities[:, index] >= level
            assert recall == pytest.approx(detected[truth == index].mean())
            assert false_positives == detected[truth != index].sum()


def test_choose_threshold_maximises_the_class_f1(scored: Scored) -> None:
    _, truth, probabilities = scored
    scores, positive = probabilities[:, 3], truth == 3
    chosen = choose_threshold(truth, probabilities, 3)
    precision, recall, _ = metrics.precision_recall_curve(positive, scores)
    best = np.max(2 * precision * recall / np.maximum(precision + recall, 1e-12))
    assert chosen in scores
    assert metrics.f1_score(positive, scores >= chosen) == pytest.approx(best)


def test_choose_threshold_for_a_recall_keeps_the_fewest_false_positives(scored: Scored) -> None:
    classes, truth, probabilities = scored
    for index in range(len(classes)):
        for wanted in (0.5, 0.9, 0.99):
            chosen = choose_threshold(truth, probabilities, index, min_recall=wanted)
            higher = np.unique(probabilities[:, index])
            higher = higher[higher > chosen]
            levels = [chosen, *higher[:1]]
            recall = threshold_tradeoff(truth, probabilities, index, levels).recall
            assert recall[0] >= wanted
            assert len(higher) == 0 or recall[1] < wanted


def test_thresholds_chosen_on_validation_fill_the_custom_labels_summary(digits: Split) -> None:
    train, test = digits
    fitting, validation = train.subset(range(1000)), train.subset(range(1000, len(train)))
    model = LinearClassifier(epochs=10).fit(fitting)
    chosen = choose_thresholds(train.classes, validation.labels, model.predict_proba(validation.pixels))
    probabilities = model.predict_proba(test.pixels)
    summary = evaluate(test.classes, test.labels, probabilities, thresholds=chosen).summary(
        {"ProjectVersionArn": "arn:aws:rekognition:us-east-1:000000000000:project/p/version/v1/1"}
    )
    assert json.loads(json.dumps(summary)) == summary
    results = summary["LabelEvaluationResults"]
    assert [result["Metrics"]["F1Score"] for result in results] == sorted(
        (result["Metrics"]["F1Score"] for result in results), reverse=True
    )
    for result in results:
        index = test.classes.index(result["Label"])
        assert result["Metrics"]["Threshold"] == pytest.approx(chosen[result["Label"]])
        detected = probabilities[:, index] >= result["Metrics"]["Threshold"]
        assert result["Metrics"]["Precision"] == pytest.approx(metrics.precision_score(test.labels == index, detected))
        assert result["Metrics"]["Recall"] == pytest.approx(metrics.recall_score(test.labels == index, detected))
        assert result["Metrics"]["F1Score"] == pytest.approx(metrics.f1_score(test.labels == index, detected))
        assert result["NumberOfTestingImages"] == (test.labels == index).sum()
    aggregated = summary["AggregatedEvaluationResults"]
    assert aggregated["F1Score"] == pytest.approx(np.mean([result["Metrics"]["F1Score"] for result in results]))
    assert len(aggregated["ConfusionMatrix"]) == 100
    assert sum(cell["Value"] for cell in aggregated["ConfusionMatrix"]) == pytest.approx(10.0)
    details = summary["EvaluationDetails"]
    assert details["NumberOfTestingImages"] == 450 and details["Labels"] == list(test.classes)
    assert details["ProjectVersionArn"].endswith("/v1/1")


def test_a_class_without_test_images(scored: Scored) -> None:
    classes, truth, probabilities = scored
    kept = truth != 9
    evaluation = evaluate(classes, truth[kept], probabilities[kept])
    predicted = probabilities[kept].argmax(axis=1)
    assert evaluation.support[9] == 0 and evaluation.recall[9] == 0.0
    assert evaluation.macro_f1 == pytest.approx(metrics.f1_score(truth[kept], predicted, average="macro"))
    assert evaluation.thresholds[9] == probabilities[kept, 9].max()
    summary = evaluation.summary()
    tested = [result for result in summary["LabelEvaluationResults"] if result["NumberOfTestingImages"]]
    assert len(tested) == 9
    assert summary["AggregatedEvaluationResults"]["Recall"] == pytest.approx(
        np.mean([result["Metrics"]["Recall"] for result in tested])
    )
    with pytest.raises(InvalidEvaluation, match="no images"):
        choose_threshold(truth[kept], probabilities[kept], 9, min_recall=0.9)


def test_an_evaluation_cannot_be_changed(scored: Scored) -> None:
    classes, truth, probabilities = scored
    given = probabilities.copy()
    evaluation: Evaluation = evaluate(classes, truth, given)
    with pytest.raises(ValueError, match="read-only"):
        evaluation.confusion[0, 0] = 0
    given[0] = 0.0
    assert (evaluation.probabilities[0] == probabilities[0]).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t, p: evaluate(["a", "b"], t, p), "expected N x 2"),
        (lambda t, p: evaluate([str(i) for i in range(10)], t[:5], p), "one label for each of 450"),
        (lambda t, p: evaluate([str(i) for i in range(10)], t + 1, p), "from 0 to 9"),
        (lambda t, p: evaluate([str(i) for i in range(10)], t, p, thresholds={"cat": 0.5}), "unknown classes"),
        (lambda t, p: evaluate([str(i) for i in range(10)], t, p, thresholds={"3": 1.5}), "from 0 to 1"),
        (lambda t, p: choose_threshold(t, p, 3, min_recall=0.0), "min_recall=0.0"),
        (lambda t, p: choose_threshold(t, p, 10), "label=10"),
        (lambda t, p: threshold_tradeoff(t, p, 0, [[0.5]]), "thresholds of shape"),  # type: ignore[list-item]
        (lambda t, p: precision_recall_curve(evaluate([str(i) for i in range(10)], t, p), "cat"), "Unknown class"),
    ],
)
def test_bad_input_names_what_is_wrong(scored: Scored, call: Call, message: str) -> None:
    _, truth, probabilities = scored
    with pytest.raises(InvalidEvaluation, match=message):
        call(truth, probabilities)
