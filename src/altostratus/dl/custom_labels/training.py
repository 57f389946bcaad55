"""What Custom Labels asks of the experiments service (altostratus.dl.experiments), and reads from an experiment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from altostratus.dl.experiment_store import Experiment, ExperimentSpec


class TrainedModel(Protocol):
    """A trained classifier ready to serve: its classes, the image shape it takes, its per-class thresholds."""

    @property
    def classes_(self) -> tuple[str, ...]:
        """The class names, in the order of predict_proba's columns."""
        ...

    @property
    def shape_(self) -> tuple[int, int, int]:
        """Height, width and channels of the images it takes."""
        ...

    @property
    def thresholds(self) -> Mapping[str, float]:
        """Each class's operating point, a probability chosen on the validation images."""
        ...

    def predict_proba(self, pixels: Any) -> Any:
        """N x K probabilities of uint8 N x H x W x C pixels."""
        ...


class Training(Protocol):
    """Starts, tracks, stops and deletes experiments, and serves their best models."""

    def start(self, spec: ExperimentSpec) -> Experiment:
        """A new experiment, its training queued."""
        ...

    def get(self, experiment_id: str) -> Experiment:
        """The experiment as it is now."""
        ...

    def stop(self, experiment_id: str) -> Experiment:
        """Ask the training to stop."""
        ...

    def delete(self, experiment_id: str) -> None:
        """Delete the experiment and its models."""
        ...

    def model(self, experiment_id: str, family: str | None = None) -> TrainedModel:
        """The best family's model of a completed experiment, loaded once."""
        ...


def training_progress(experiment: Experiment, default: str) -> str:
    """Which family trains and how far it is, as the experiment's record tells it."""
    for family in experiment.families:
        if family.get("status") == "TRAINING":
            return f"The model is being trained: {family['family']}{_epoch_figures(family)}."
    return default


def _epoch_figures(family: Mapping[str, Any]) -> str:
    """ ", epoch 3 of 10, loss 0.412, validation accuracy 91.2%, 850 images/s" as far as the family has reported."""
    if "epoch" not in family:
        return ""
    parts = [f"epoch {family['epoch']} of {family['epochs']}"]
    if family.get("loss") is not None:
        parts.append(f"loss {family['loss']:.3f}")
    if family.get("validation_accuracy") is not None:
        parts.append(f"validation accuracy {100 * family['validation_accuracy']:.1f}%")
    if family.get("images_per_second"):
        parts.append(f"{family['images_per_second']:.0f} images/s")
    return ", " + ", ".join(parts)


def training_outcome(experiment: Experiment) -> dict[str, Any]:
    """What a finished training tells DescribeProjectVersions: F1, the summary in the lake, counts and time."""
    evaluation = experiment.evaluation or {}
    # The macro-averaged F1 over the labels, as Custom Labels' F1Score; the summary file's aggregate where it is kept.
    f1 = evaluation.get("macro_f1", (evaluation.get("AggregatedEvaluationResults") or {}).get("F1Score"))
    summary = experiment.summary_url
    return {
        "f1": None if f1 is None else float(f1),
        "summary": summary.removeprefix("s3://").split("/", 1) if summary else None,
        "family": experiment.best_family,
        "train_images": experiment.train_images,
        "test_images": experiment.test_images,
        "skipped": len(experiment.skipped),
        "seconds": experiment.seconds,
        "trained_at": experiment.updated_at.isoformat(),
    }
