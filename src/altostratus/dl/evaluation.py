"""How well a classifier does on labelled test images, and where each class's threshold should sit.

`evaluate` turns the truth and the predicted probabilities into an `Evaluation`: accuracy, the confusion matrix,
per-class precision, recall and F1 of the top prediction, the mistakes, and `summary()`, the evaluation summary
file Rekognition Custom Labels writes. The rest is the seed's threshold trade-off: lowering a class's threshold
detects more of it and takes more images of other classes for it (the boat taken for a plane).
`threshold_tradeoff` measures both as the threshold moves; `choose_threshold` picks the operating point.

A class is detected in an image where its probability reaches its threshold (`>=`), as LinearClassifier.detect
does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from altostratus.core.errors import InvalidArgument
from altostratus.dl.images import Labels

Probabilities = NDArray[np.float32]
Floats = NDArray[np.float64]


class InvalidEvaluation(InvalidArgument, ValueError):
    """Truth and probabilities that do not fit together, or a class or threshold that is not allowed."""


@dataclasses.dataclass(frozen=True, eq=False)
class Evaluation:
    """A classifier's figures on N test images of K classes; every array is read-only.

    `predicted` is the argmax of `probabilities` (the first class on a tie); `confusion` counts images by true
    class (rows) and predicted class (columns); `precision`, `recall`, `f1` and `support` are per class, for
    the top prediction, 0 where undefined. `macro_f1` averages F1 over the classes that occur in the truth or
    the predictions, as scikit-learn does. `mistakes` indexes the wrongly predicted images, the most confident
    first. `thresholds` holds each class's operating point, used by `summary`.
    """

    classes: tuple[str, ...]
    truth: Labels
    probabilities: Probabilities
    predicted: Labels
    confusion: NDArray[np.int64]
    precision: Floats
    recall: Floats
    f1: Floats
    support: NDArray[np.int64]
    accuracy: float
    macro_f1: float
    mistakes: NDArray[np.int64]
    thresholds: Floats

    def summary(self, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The evaluation summary file of Rekognition Custom Labels, as a JSON-able dict.

        Each label's Precision, Recall and F1Score are those of detecting it at its Threshold; the labels are
        sorted by F1Score, best first, as Custom Labels sorts them. The aggregate figures average the labels
        that have test images. `details` (ProjectVersionArn, EvaluationEndTimestamp, NumberOfTrainingImages)
        joins EvaluationDetails.
        """
        labels: list[dict[str, Any]] = []
        for index, name in enumerate(self.classes):
            threshold = float(self.thresholds[index])
            precision, recall, f1 = detection_figures(self.truth == index, self.probabilities[:, index], threshold)
            metrics = {"F1Score": f1, "Precision": precision, "Recall": recall, "Threshold": threshold}
            labels.append({"Label": name, "Metrics": metrics, "NumberOfTestingImages": int(self.support[index])})
        labels.sort(key=lambda label: -label["Metrics"]["F1Score"])
        tested = [label["Metrics"] for label in labels if label["NumberOfTestingImages"]]
        aggregated: dict[str, Any] = {
            name: float(np.mean([metrics[name] for metrics in tested])) for name in ("F1Score", "Precision", "Recall")
        }
        aggregated["ConfusionMatrix"] = self._confusion_entries()
        evaluated = {"Labels": list(self.classes), "NumberOfTestingImages": len(self.truth)}
        return {
            "Version": 1,
            "AggregatedEvaluationResults": aggregated,
            "EvaluationDetails": evaluated | dict(details or {}),
            "LabelEvaluationResults": labels,
        }

    def class_index(self, name: str) -> int:
        """The index of the class called `name`; InvalidEvaluation listing the classes otherwise."""
        if name not in self.classes:
            raise InvalidEvaluation(f"Unknown class: {name!r}; expected one of {list(self.classes)}")
        return self.classes.index(name)

    def _confusion_entries(self) -> list[dict[str, Any]]:
        """Every cell of the confusion matrix as the share of its true class's images, Custom Labels' way."""
        shares = self.confusion / np.maximum(self.support, 1)[:, None]
        return [
            {"GroundTruthLabel": truth, "PredictedLabel": predicted, "Value": float(shares[row, column])}
            for row, truth in enumerate(self.classes)
            for column, predicted in enumerate(self.classes)
        ]


@dataclasses.dataclass(frozen=True, eq=False)
class PrecisionRecallCurve:
    """One class's precision and recall at each distinct score taken as its threshold, highest threshold first.

    `average_precision` is scikit-learn's: the precisions weighted by the recall each threshold adds.
    """

    thresholds: Floats
    precision: Floats
    recall: Floats
    average_precision: float


@dataclasses.dataclass(frozen=True, eq=False)
class ThresholdTradeoff:
    """At each threshold: the share of the class's images detected, and the images of other classes detected."""

    thresholds: Floats
    recall: Floats
    false_positives: NDArray[np.int64]


def evaluate(
    classes: Sequence[str],
    truth: Labels,
    probabilities: Probabilities,
    *,
    thresholds: Mapping[str, float] | None = None,
) -> Evaluation:
    """The figures of `probabilities` (N x K) against the true class indices `truth` (N).

    `thresholds` are the operating points chosen on validation data, by class name; a class without one gets
    the threshold that maximises its F1 on these images, as Custom Labels assumes a threshold from its test set.
    """
    names = tuple(str(name) for name in classes)
    truth, probabilities = _checked(truth, probabilities, len(names))
    count = len(names)
    predicted = probabilities.argmax(axis=1).astype(np.int64)
    confusion = np.bincount(truth * count + predicted, minlength=count * count).reshape(count, count)
    hits = np.diag(confusion).astype(np.float64)
    support, chosen = confusion.sum(axis=1), confusion.sum(axis=0)
    precision = np.divide(hits, chosen, out=np.zeros(count), where=chosen > 0)
    recall = np.divide(hits, support, out=np.zeros(count), where=support > 0)
    f1 = np.divide(2 * hits, support + chosen, out=np.zeros(count), where=support + chosen > 0)
    wrong = np.flatnonzero(predicted != truth)
    confidence = probabilities[wrong, predicted[wrong]]
    mistakes = wrong[np.argsort(-confidence, kind="stable")].astype(np.int64)
    operating = _operating_points(names, truth, probabilities, thresholds or {})
    arrays = [truth, probabilities, predicted, confusion, precision, recall, f1, support, mistakes, operating]
    for array in arrays:
        array.setflags(write=False)
    return Evaluation(
        classes=names,
        truth=truth,
        probabilities=probabilities,
        predicted=predicted,
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        accuracy=float(hits.sum() / len(truth)),
        macro_f1=float(f1[(support + chosen) > 0].mean()),
        mistakes=mistakes,
        thresholds=operating,
    )


def precision_recall_curve(evaluation: Evaluation, name: str) -> PrecisionRecallCurve:
    """The precision-recall curve of the class called `name`, one-vs-rest on its probability."""
    index = evaluation.class_index(name)
    positive = evaluation.truth == index
    thresholds, true_positives, false_positives = _ranked_counts(positive, evaluation.probabilities[:, index])
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / max(int(positive.sum()), 1)
    average = float(np.sum(np.diff(recall, prepend=0.0) * precision))
    return PrecisionRecallCurve(thresholds, precision, recall, average)


def threshold_tradeoff(
    truth: Labels, probabilities: Probabilities, label: int, thresholds: Sequence[float] | Floats
) -> ThresholdTradeoff:
    """Recall of class `label` and its false positives at each of `thresholds`: neither rises as it rises."""
    truth, probabilities = _checked(truth, probabilities)
    index = _checked_label(label, probabilities.shape[1])
    scores = probabilities[:, index]
    levels = np.asarray(thresholds, dtype=np.float64)
    if levels.ndim != 1:
        raise InvalidEvaluation(f"thresholds of shape {levels.shape}; expected a sequence of numbers")
    positive = truth == index
    own, others = np.sort(scores[positive]), np.sort(scores[~positive])
    detected = len(own) - np.searchsorted(own, levels, side="left")
    recall = detected / max(len(own), 1)
    false_positives = (len(others) - np.searchsorted(others, levels, side="left")).astype(np.int64)
    return ThresholdTradeoff(levels, recall.astype(np.float64), false_positives)


def choose_threshold(
    truth: Labels, probabilities: Probabilities, label: int, *, min_recall: float | None = None
) -> float:
    """The operating point of class `label`: one of its scores, the one with the best F1 by default.

    With `min_recall`, the highest threshold that still detects that share of the class (the fewest false
    positives for the recall asked). Ties go to the higher threshold. A class with no images here can only be
    wrongly detected, so the F1 choice is then its highest score; `min_recall` needs images of the class.
    """
    truth, probabilities = _checked(truth, probabilities)
    index = _checked_label(label, probabilities.shape[1])
    positive = truth == index
    thresholds, true_positives, false_positives = _ranked_counts(positive, probabilities[:, index])
    positives = int(positive.sum())
    if min_recall is None:
        f1 = 2 * true_positives / (true_positives + false_positives + positives)
        return float(thresholds[int(np.argmax(f1))])
    if isinstance(min_recall, bool) or not 0.0 < min_recall <= 1.0:
        raise InvalidEvaluation(f"min_recall={min_recall!r}; expected a number above 0 and at most 1")
    if positives == 0:
        raise InvalidEvaluation(f"class {label} has no images here, so min_recall={min_recall!r} cannot be met")
    reached = true_positives / positives >= min_recall - 1e-12
    return float(thresholds[int(np.argmax(reached))])


def choose_thresholds(
    classes: Sequence[str], truth: Labels, probabilities: Probabilities, *, min_recall: float | None = None
) -> dict[str, float]:
    """Every class's operating point by `choose_threshold`, by class name: the thresholds to evaluate with."""
    return {
        str(name): choose_threshold(truth, probabilities, index, min_recall=min_recall)
        for index, name in enumerate(classes)
    }


def detection_figures(
    positive: NDArray[np.bool_], scores: Floats | Probabilities, threshold: float
) -> tuple[float, float, float]:
    """Precision, recall and F1 of detecting where `scores` reach `threshold` (0 where undefined)."""
    detected = scores >= threshold
    true_positives = int((detected & positive).sum())
    detections, positives = int(detected.sum()), int(positive.sum())
    precision = true_positives / detections if detections else 0.0
    recall = true_positives / positives if positives else 0.0
    f1 = 2 * true_positives / (detections + positives) if detections + positives else 0.0
    return precision, recall, f1


def _ranked_counts(positive: NDArray[np.bool_], scores: Probabilities) -> tuple[Floats, Floats, Floats]:
    """The distinct scores, highest first, with the true and false positives detected at each as the threshold."""
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order].astype(np.float64), positive[order]
    last_of_run = np.r_[ranked[1:] != ranked[:-1], True]
    true_positives = np.cumsum(hits, dtype=np.float64)[last_of_run]
    false_positives = np.cumsum(~hits, dtype=np.float64)[last_of_run]
    return ranked[last_of_run], true_positives, false_positives


def _operating_points(
    classes: tuple[str, ...], truth: Labels, probabilities: Probabilities, given: Mapping[str, float]
) -> Floats:
    """Each class's threshold: the one given, or the best-F1 one on these images."""
    unknown = sorted(set(given) - set(classes))
    if unknown:
        raise InvalidEvaluation(f"thresholds name unknown classes {unknown}; expected some of {list(classes)}")
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
            raise InvalidEvaluation(f"threshold of class {name!r} is {value!r}; expected a number from 0 to 1")
    return np.asarray(
        [
            float(given[name]) if name in given else choose_threshold(truth, probabilities, index)
            for index, name in enumerate(classes)
        ],
        dtype=np.float64,
    )


def _checked(truth: Any, probabilities: Any, classes: int | None = None) -> tuple[Labels, Probabilities]:
    """Copies of the truth as int64 and the probabilities (N x `classes`, by default as many as they have) as
    float32; InvalidEvaluation naming what is wrong."""
    found = np.array(probabilities, dtype=np.float32)
    labels = np.asarray(truth)
    if classes is None:
        classes = found.shape[1] if found.ndim == 2 else 0
    if found.ndim != 2 or found.shape[1] != classes or classes < 2:
        raise InvalidEvaluation(f"probabilities of shape {found.shape}; expected N x {classes} with 2 classes or more")
    if labels.shape != (len(found),) or len(found) == 0:
        raise InvalidEvaluation(f"truth of shape {labels.shape}; expected one label for each of {len(found)} images")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= classes:
        raise InvalidEvaluation(f"truth must hold class indices from 0 to {classes - 1}")
    if not np.isfinite(found).all():
        raise InvalidEvaluation("probabilities must be finite numbers")
    return labels.astype(np.int64), found


def _checked_label(label: int, classes: int) -> int:
    """`label` when it indexes one of the classes; InvalidEvaluation otherwise."""
    if isinstance(label, bool) or not isinstance(label, int | np.integer) or not 0 <= label < classes:
        raise InvalidEvaluation(f"label={label!r}; expected a class index from 0 to {classes - 1}")
    return int(label)
