"""Evaluations on held-out data, each metric beside the baseline Amazon ML reports with it.

- BINARY: AUC (baseline 0.5, a model that guesses), the ROC curve, precision, recall, F1, accuracy
  and false positive rate at thresholds 0.00, 0.01, ... 1.00, and the confusion matrix at the model's
  score threshold (accuracy's baseline: always the majority class of the training data).
- MULTICLASS: macro-average F1 (baseline: always the training data's most frequent class), accuracy,
  per-class precision/recall/F1, and the confusion matrix. Labels never seen in training count as misses.
- REGRESSION: RMSE (baseline: always the training data's mean target), MAE, R², and a histogram of
  the residuals (actual - predicted).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support, roc_auc_score, roc_curve

from altostratus.predict.fitted import FittedModel, prepare_target
from altostratus.predict.models import ModelType
from altostratus.predict.table import Table

ROC_POINTS = 101
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)
RESIDUAL_BINS = 20
METRIC_NAMES = {
    ModelType.BINARY: "BinaryAUC",
    ModelType.MULTICLASS: "MulticlassAvgFScore",
    ModelType.REGRESSION: "RegressionRMSE",
}


@dataclasses.dataclass(frozen=True)
class EvaluationResult:
    """The metric Amazon ML reports (BinaryAUC, MulticlassAvgFScore or RegressionRMSE), its baseline, and details."""

    model_type: str
    metric: str
    value: float
    baseline: float
    records: int
    records_without_target: int
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-able dicts and lists."""
        return dataclasses.asdict(self)


def evaluate(model: FittedModel, table: Table, score_threshold: float = 0.5) -> EvaluationResult:
    """Score the table's rows that have a target and compare with the baseline."""
    target = prepare_target(table, model.model_type, model.classes or None)
    scores = model.scores(table.select(target.keep))
    skipped = table.rows - int(target.keep.sum())
    if model.model_type is ModelType.BINARY:
        value, baseline, details = _binary(target.values.astype(np.intp), scores, score_threshold, model)
    elif model.model_type is ModelType.MULTICLASS:
        value, baseline, details = _multiclass(target.values.astype(np.intp), scores, model)
    else:
        value, baseline, details = _regression(target.values.astype(np.float64), scores, model.target_mean)
    return EvaluationResult(
        model_type=model.model_type.value,
        metric=METRIC_NAMES[model.model_type],
        value=value,
        baseline=baseline,
        records=int(target.keep.sum()),
        records_without_target=skipped,
        details=details,
    )


def primary_metric(model_type: ModelType, truth: npt.NDArray[Any], scores: npt.NDArray[np.float64]) -> float:
    """AUC (binary), macro F1 (multiclass) or RMSE (regression) of scores against the truth."""
    if model_type is ModelType.BINARY:
        return float(roc_auc_score(truth, scores)) if np.unique(truth).size == 2 else 0.5
    if model_type is ModelType.MULTICLASS:
        labels = np.arange(scores.shape[1])
        return float(f1_score(truth, scores.argmax(axis=1), labels=labels, average="macro", zero_division=0))
    return float(np.sqrt(np.mean((truth - scores) ** 2)))


def higher_is_better(model_type: ModelType) -> bool:
    """Whether a larger primary metric means a better model (not for RMSE)."""
    return model_type is not ModelType.REGRESSION


def _binary(
    truth: npt.NDArray[np.intp], scores: npt.NDArray[np.float64], threshold: float, model: FittedModel
) -> tuple[float, float, dict[str, Any]]:
    auc = primary_metric(ModelType.BINARY, truth, scores)
    both = np.unique(truth).size == 2
    fpr, tpr, cuts = (
        roc_curve(truth, scores) if both else (np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    )
    pick = np.unique(np.linspace(0, len(fpr) - 1, min(ROC_POINTS, len(fpr))).astype(int))
    predicted = (scores >= threshold).astype(np.intp)
    tn, fp, fn, tp = (int(n) for n in confusion_matrix(truth, predicted, labels=[0, 1]).ravel())
    majority = model.majority_class
    return (
        auc,
        0.5,
        {
            "score_threshold": threshold,
            "positives": int(truth.sum()),
            "negatives": int(truth.size - truth.sum()),
            "confusion_matrix": {"true_positive": tp, "false_positive": fp, "true_negative": tn, "false_negative": fn},
            "accuracy": (tp + tn) / truth.size,
            "baseline_accuracy": float(np.mean(truth == majority)),
            "roc_curve": [
                {
                    "false_positive_rate": float(fpr[i]),
                    "true_positive_rate": float(tpr[i]),
                    "threshold": float(min(cuts[i], 1.0)),
                }
                for i in pick
            ],
            "thresholds": _threshold_table(truth, scores),
        },
    )


def _threshold_table(truth: npt.NDArray[np.intp], scores: npt.NDArray[np.float64]) -> list[dict[str, float]]:
    """Precision, recall, F1, accuracy and false positive rate when predicting 1 for score >= t."""
    positive = truth == 1
    predicted = scores[None, :] >= THRESHOLDS[:, None]
    tp = (predicted & positive).sum(axis=1)
    fp = (predicted & ~positive).sum(axis=1)
    fn = positive.sum() - tp
    tn = (~positive).sum() - fp
    rows = []
    for i, cut in enumerate(THRESHOLDS):
        precision = tp[i] / (tp[i] + fp[i]) if tp[i] + fp[i] else 1.0
        recall = tp[i] / (tp[i] + fn[i]) if tp[i] + fn[i] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "threshold": float(cut),
                "precision": float(precision),
                "recall": float(recall),
                "f1": float(f1),
                "accuracy": float((tp[i] + tn[i]) / truth.size),
                "false_positive_rate": float(fp[i] / (fp[i] + tn[i])) if fp[i] + tn[i] else 0.0,
            }
        )
    return rows


def _multiclass(
    truth: npt.NDArray[np.intp], scores: npt.NDArray[np.float64], model: FittedModel
) -> tuple[float, float, dict[str, Any]]:
    classes = model.classes
    unseen = len(classes)  # labels not seen in training: a class no prediction can hit
    truth = np.where(truth < 0, unseen, truth)
    labels = np.arange(len(classes) + (1 if (truth == unseen).any() else 0))
    predicted = scores.argmax(axis=1)
    value = float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0))
    baseline_prediction = np.full_like(truth, model.majority_class)
    baseline = float(f1_score(truth, baseline_prediction, labels=labels, average="macro", zero_division=0))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    names = [*classes, "(not seen in training)"][: labels.size]
    return (
        value,
        baseline,
        {
            "accuracy": float(np.mean(predicted == truth)),
            "baseline_accuracy": float(np.mean(baseline_prediction == truth)),
            "classes": names,
            "per_class": [
                {
                    "label": names[i],
                    "precision": float(precision[i]),
                    "recall": float(recall[i]),
                    "f1": float(f1[i]),
                    "support": int(support[i]),
                }
                for i in range(labels.size)
            ],
            "confusion_matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
    )


def _regression(
    truth: npt.NDArray[np.float64], predicted: npt.NDArray[np.float64], training_mean: float
) -> tuple[float, float, dict[str, Any]]:
    residuals = truth - predicted
    rmse = float(np.sqrt(np.mean(residuals**2)))
    baseline = float(np.sqrt(np.mean((truth - training_mean) ** 2)))
    counts, edges = np.histogram(residuals, bins=RESIDUAL_BINS)
    total = float(((truth - truth.mean()) ** 2).sum())
    return (
        rmse,
        baseline,
        {
            "mae": float(np.mean(np.abs(residuals))),
            "r2": 1.0 - float((residuals**2).sum()) / total if total else 0.0,
            "baseline_prediction": training_mean,
            "mean_residual": float(residuals.mean()),
            "residual_histogram": [
                {"low": float(low), "high": float(high), "count": int(n)}
                for low, high, n in zip(edges[:-1], edges[1:], counts, strict=True)
            ],
        },
    )
