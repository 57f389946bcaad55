"""Experiments: several families trained on one dataset as a job, compared on the same test images.

`start` writes the experiment's row first, then queues its job ("dl.train"), so a worker that takes the job at
once finds it. The job trains each family in the spec's order, reporting every epoch (loss, validation accuracy,
images a second) into the row and the job's progress; keeps each model (an artifact archive and its ONNX export)
in the blob store; evaluates it on the test images; and chooses the best family by validation accuracy, as
Custom Labels chooses for its users. A job killed mid-way runs again (jobs are at least once): families already
trained are kept, and a deep family goes on from its last epoch's checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import numpy as np

from altostratus.core.clock import Clock
from altostratus.core.ids import short_id
from altostratus.dl.classifier import EpochProgress
from altostratus.dl.evaluation import Evaluation, choose_threshold, evaluate
from altostratus.dl.experiment_store import (
    Experiment,
    ExperimentNotReady,
    ExperimentSpec,
    ExperimentStatus,
    ExperimentStore,
)
from altostratus.dl.families import FAMILIES, family_class
from altostratus.dl.images import ArrayImages, ImageData, InvalidImages, all_of
from altostratus.dl.onnx_export import OnnxClassifier, export_onnx
from altostratus.jobs.job import JobState
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import JobContext, PermanentJobError
from altostratus.storage.blobs import BlobMissing, BlobStore, put_chunks

TRAIN_JOB = "dl.train"
PREFIX = "dl/experiments"
MAX_NAME = 255


class TrainingStopped(Exception):
    """The experiment was stopped while a family trained."""


@dataclasses.dataclass
class Splits:
    """An experiment's images: train and validation (streamed or in memory), test in memory, what was skipped."""

    train: ImageData
    validation: ImageData
    test: ArrayImages
    skipped: list[tuple[str, str]]
    close: Callable[[], None] = lambda: None


class OpensData(Protocol):
    """Reads an experiment's datasets and splits them (dl/opening.py)."""

    def open(self, spec: ExperimentSpec) -> Splits:
        """The spec's splits; a DatasetError naming what is wrong with the data."""
        ...


class WritesOutput(Protocol):
    """Writes the evaluation summary and the report where the spec's `output` says (the lake)."""

    def write(self, url: str, data: bytes, content_type: str) -> str:
        """Write the object whole; its s3:// URL."""
        ...


@dataclasses.dataclass(frozen=True)
class TrainedModel:
    """A trained family ready to serve: its ONNX model under ONNX Runtime, and each class's chosen threshold."""

    family: str
    classifier: OnnxClassifier
    thresholds: Mapping[str, float]

    @property
    def classes_(self) -> tuple[str, ...]:
        """The class names, in the order of predict_proba's columns."""
        return self.classifier.classes_

    @property
    def shape_(self) -> tuple[int, int, int]:
        """The shape of the images it takes."""
        return self.classifier.shape_

    def predict_proba(self, pixels: Any) -> Any:
        """N x K probabilities of uint8 N x H x W x C pixels."""
        return self.classifier.predict_proba(pixels)


class BlobCheckpoints:
    """A fit's checkpoint kept in the blob store, so a job that runs again goes on from it."""

    def __init__(self, blobs: BlobStore, key: str) -> None:
        self._blobs = blobs
        self._key = key

    def load(self) -> bytes | None:
        """The last checkpoint, or None."""
        try:
            return b"".join(self._blobs.read(self._key))
        except BlobMissing:
            return None

    def save(self, data: bytes) -> None:
        """Replace the checkpoint."""
        put_chunks(self._blobs, self._key, [data])


class Experiments:
    """Starts, tracks, stops and deletes experiments; runs their jobs; serves their models."""

    def __init__(
        self,
        store: ExperimentStore,
        jobs: JobQueue,
        blobs: BlobStore,
        data: OpensData,
        output: WritesOutput,
        clock: Clock,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._blobs = blobs
        self._data = data
        self._output = output
        self._clock = clock
        self._models: dict[str, TrainedModel] = {}
        self._lock = threading.Lock()

    def start(self, spec: ExperimentSpec) -> Experiment:
        """A new experiment, its job queued; InvalidImages naming an unknown family or bad parameters."""
        _check_spec(spec)
        experiment_id = short_id(20)
        experiment = self._store.add(experiment_id, spec, job_id=experiment_id)
        self._jobs.submit(TRAIN_JOB, {"experiment_id": experiment_id}, max_attempts=3, job_id=experiment_id)
        return experiment

    def get(self, experiment_id: str) -> Experiment:
        """The experiment; ExperimentNotFound when there is none."""
        return self._settled(self._store.get(experiment_id))

    def list(self) -> list[Experiment]:
        """Every experiment, newest first."""
        return [self._settled(experiment) for experiment in self._store.list()]

    def _settled(self, experiment: Experiment) -> Experiment:
        """The experiment, FAILED when its job failed without saying so (a worker killed on its last attempt)."""
        if experiment.status.is_terminal:
            return experiment
        state, message = self._jobs.states([experiment.job_id]).get(experiment.job_id, (JobState.FAILED, "job lost"))
        if state is not JobState.FAILED:
            return experiment
        return self._store.update(experiment.experiment_id, status=ExperimentStatus.FAILED, message=message)

    def stop(self, experiment_id: str) -> Experiment:
        """Ask the training to stop after its current epoch (a terminal experiment is left as it is)."""
        experiment = self._store.get(experiment_id)
        if experiment.status.is_terminal:
            return experiment
        self._jobs.request_cancel(experiment.job_id)
        if experiment.status is ExperimentStatus.PENDING:
            return self._store.update(experiment_id, status=ExperimentStatus.STOPPED, message="stopped before training")
        return experiment

    def delete(self, experiment_id: str) -> None:
        """Stop the experiment and delete it with its models, checkpoints and report."""
        experiment = self.stop(experiment_id)
        for key in list(self._blobs.keys(f"{PREFIX}/{experiment.experiment_id}/")):
            with contextlib.suppress(BlobMissing):
                self._blobs.delete(key)
        with self._lock:
            self._models.pop(experiment_id, None)
        self._store.delete(experiment_id)

    def model(self, experiment_id: str, family: str | None = None) -> TrainedModel:
        """A trained family of a completed experiment (the best one unless named), loaded once."""
        experiment = self._store.get(experiment_id)
        chosen = family or experiment.best_family
        record = experiment.record.get("families", {}).get(chosen or "", {})
        if experiment.status is not ExperimentStatus.COMPLETED or not record.get("onnx_key"):
            raise ExperimentNotReady(f"Experiment {experiment_id!r} is {experiment.status}; it has no model {chosen}")
        cache = f"{experiment_id}/{chosen}"
        with self._lock:
            found = self._models.get(cache)
        if found is None:
            onnx = OnnxClassifier(b"".join(self._blobs.read(record["onnx_key"])))
            found = TrainedModel(str(chosen), onnx, dict(record.get("thresholds", {})))
            with self._lock:
                self._models[cache] = found
        return found

    def artifact(self, experiment_id: str, family: str | None = None, kind: str = "model") -> bytes:
        """A trained family's archive ("model") or ONNX export ("onnx") as bytes."""
        experiment = self._store.get(experiment_id)
        chosen = family or experiment.best_family or ""
        key = experiment.record.get("families", {}).get(chosen, {}).get(f"{'onnx' if kind == 'onnx' else 'model'}_key")
        if not key:
            raise ExperimentNotReady(f"Experiment {experiment_id!r} has no trained {chosen or 'family'} yet")
        return b"".join(self._blobs.read(key))

    def report(self, experiment_id: str) -> bytes:
        """The comparison report (HTML) of a completed experiment."""
        experiment = self._store.get(experiment_id)
        key = experiment.record.get("report_key")
        if not key:
            raise ExperimentNotReady(f"Experiment {experiment_id!r} is {experiment.status}; it has no report yet")
        return b"".join(self._blobs.read(key))

    def run(self, context: JobContext) -> dict[str, Any]:
        """The training job."""
        experiment_id = str(context.payload["experiment_id"])
        experiment = self._store.get(experiment_id)
        if experiment.status.is_terminal:
            return {"status": str(experiment.status)}
        self._store.update(experiment_id, status=ExperimentStatus.TRAINING, message="")
        try:
            return self._train(experiment, context)
        except TrainingStopped:
            self._store.update(experiment_id, status=ExperimentStatus.STOPPED, message="stopped by request")
            raise PermanentJobError("the experiment was stopped") from None
        except (InvalidImages, ValueError) as error:
            self._store.update(experiment_id, status=ExperimentStatus.FAILED, message=str(error))
            raise PermanentJobError(str(error)) from None
        except Exception as error:
            if context.attempt >= 3:
                self._store.update(experiment_id, status=ExperimentStatus.FAILED, message=repr(error))
            raise

    def _train(self, experiment: Experiment, context: JobContext) -> dict[str, Any]:
        spec, experiment_id = experiment.spec, experiment.experiment_id
        record: dict[str, Any] = json.loads(json.dumps(experiment.record))  # a copy to change
        families: dict[str, Any] = record.setdefault("families", {})
        splits = self._data.open(spec)
        try:
            record |= {"skipped": [list(item) for item in splits.skipped], "classes": list(splits.test.classes)}
            record |= {"train_images": len(splits.train), "validation_images": len(splits.validation)}
            record["test_images"] = len(splits.test)
            self._store.update(experiment_id, record=record)
            validation = all_of(splits.validation)
            evaluations: dict[str, Evaluation] = {}
            for index, family in enumerate(spec.families):
                if _stop_requested(context):
                    raise TrainingStopped
                done = families.get(family, {})
                if done.get("status") != "COMPLETED":
                    done = self._fit(experiment_id, spec, family, splits, validation, record, context, index)
                model = OnnxClassifier(b"".join(self._blobs.read(done["onnx_key"])))
                probabilities = model.predict_proba(splits.test.pixels)
                points = families[family].get("thresholds", {})
                evaluations[family] = evaluate(
                    splits.test.classes, splits.test.labels, probabilities, thresholds=points
                )
            best = max(
                spec.families, key=lambda name: (families[name]["validation_accuracy"], -spec.families.index(name))
            )
            record |= {"best_family": best, "evaluation": evaluation_record(evaluations[best])}
            self._finish(experiment, record, evaluations, splits.test, best)
        finally:
            splits.close()
        self._store.update(experiment_id, status=ExperimentStatus.COMPLETED, message="", record=record)
        context.report_progress(1.0, f"best family: {record['best_family']}")
        accuracy = record["evaluation"].get("accuracy")
        return {"best_family": record["best_family"], "accuracy": accuracy, "skipped": record["skipped"]}

    def _fit(
        self,
        experiment_id: str,
        spec: ExperimentSpec,
        family: str,
        splits: Splits,
        validation: ArrayImages,
        record: dict[str, Any],
        context: JobContext,
        index: int,
    ) -> dict[str, Any]:
        """Train one family, keep its archive and ONNX export, and note its results in the record."""
        params = family_params(family, splits.train.shape, spec.params.get(family, {}), spec.seed)
        entry: dict[str, Any] = {"family": family, "status": "TRAINING", "params": params}
        record["families"][family] = entry
        key = f"{PREFIX}/{experiment_id}/{family}"
        started = time.perf_counter()

        def progress(report: EpochProgress) -> None:
            entry.update(dataclasses.asdict(report), seconds=time.perf_counter() - started)
            self._store.update(experiment_id, record=record)
            fraction = (index + report.epoch / max(report.epochs, 1)) / len(spec.families)
            context.report_progress(min(fraction, 0.99), f"{family}: epoch {report.epoch}/{report.epochs}")
            if _stop_requested(context):
                raise TrainingStopped

        classifier = family_class(family)(**params)
        options: dict[str, Any] = {"validation": validation, "progress": progress}
        if "checkpoint" in inspect.signature(classifier.fit).parameters:
            options["checkpoint"] = BlobCheckpoints(self._blobs, f"{key}.checkpoint")
        classifier.fit(splits.train, **options)
        probabilities = classifier.predict_proba(validation.pixels)
        # the family's own predict: nearest neighbour breaks a tie by the nearest image, not by the first class
        hits = classifier.predict(validation.pixels) == np.asarray(validation.classes)[validation.labels]
        thresholds = {
            name: choose_threshold(validation.labels, probabilities, column)
            for column, name in enumerate(classifier.classes_)
        }
        put_chunks(self._blobs, f"{key}.model", [classifier.save()])
        onnx = export_onnx(classifier)
        put_chunks(self._blobs, f"{key}.onnx", [onnx])
        with contextlib.suppress(BlobMissing):
            self._blobs.delete(f"{key}.checkpoint")
        entry.update(
            status="COMPLETED",
            validation_accuracy=float(hits.mean()) if len(hits) else 0.0,
            thresholds=thresholds,
            device=getattr(classifier, "device_", "cpu"),
            model_key=f"{key}.model",
            onnx_key=f"{key}.onnx",
            onnx_sha256=hashlib.sha256(onnx).hexdigest(),  # the registry checks the export against it
            seconds=time.perf_counter() - started,
        )
        self._store.update(experiment_id, record=record)
        return entry

    def _finish(
        self,
        experiment: Experiment,
        record: dict[str, Any],
        evaluations: Mapping[str, Evaluation],
        test: ArrayImages,
        best: str,
    ) -> None:
        """The report in the blob store; with an output location, the summary and report in the lake too."""
        experiment_id = experiment.experiment_id
        for family, evaluation in evaluations.items():
            record["families"][family] |= {"test_accuracy": evaluation.accuracy, "macro_f1": evaluation.macro_f1}
        points = {family: record["families"][family].get("thresholds", {}) for family in evaluations}
        notes = [f"Best family by validation accuracy: {best}."]
        notes += [f"Skipped {key}: {reason}" for key, reason in record.get("skipped", [])[:50]]
        from altostratus.dl.report import render_report  # matplotlib loads with the first report, not at start

        page = render_report(
            f"Experiment {experiment.name}", evaluations, test.pixels, operating_points=points, notes=notes
        )
        report_key = f"{PREFIX}/{experiment_id}/report.html"
        put_chunks(self._blobs, report_key, [page.encode()])
        record["report_key"] = report_key
        output = experiment.spec.output
        if output:
            base = output if output.endswith("/") else f"{output}/"
            details = {"ExperimentId": experiment_id, "Family": best, "NumberOfTrainingImages": record["train_images"]}
            summary_text = json.dumps(evaluations[best].summary(details), indent=2).encode()
            record["summary_url"] = self._output.write(
                f"{base}{experiment_id}/summary.json", summary_text, "application/json"
            )
            record["report_url"] = self._output.write(f"{base}{experiment_id}/report.html", page.encode(), "text/html")


def evaluation_record(evaluation: Evaluation) -> dict[str, Any]:
    """What an experiment keeps of its best family's evaluation: accuracy, macro F1, each class's figures."""
    per_class = {
        name: {
            "precision": float(evaluation.precision[index]),
            "recall": float(evaluation.recall[index]),
            "f1": float(evaluation.f1[index]),
            "support": int(evaluation.support[index]),
            "threshold": float(evaluation.thresholds[index]),
        }
        for index, name in enumerate(evaluation.classes)
    }
    return {"accuracy": evaluation.accuracy, "macro_f1": evaluation.macro_f1, "per_class": per_class}


def family_params(family: str, shape: tuple[int, int, int], given: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """A family's parameters: the caller's, over defaults that suit the images' size (measured in the tests)."""
    side = min(shape[0], shape[1])
    defaults: dict[str, Any] = {}
    if family == "nearest":
        defaults = {"k": 3}
    elif family == "linear":
        defaults = {"seed": seed}
    elif family == "cnn":
        # grey digits need no more than (16, 32, 64): as accurate on MNIST in a quarter of the time
        defaults = {"seed": seed, "widths": [16, 32, 64] if shape[2] == 1 else [32, 64, 128]}
    elif family == "transfer":
        # fine-tuned at 128 reached 84% on the CIFAR-10 subset where frozen at 224 reached 78%, in less time
        defaults = {"seed": seed, "size": 128 if side <= 64 else 224, "fine_tune": True, "epochs": 4, "batch_size": 32}
    return defaults | dict(given)


def _check_spec(spec: ExperimentSpec) -> None:
    if not spec.name or len(spec.name) > MAX_NAME:
        raise InvalidImages(f"name={spec.name!r}; expected 1 to {MAX_NAME} characters")
    if not spec.families or len(set(spec.families)) != len(spec.families):
        raise InvalidImages(f"families={list(spec.families)}; expected distinct names of {list(FAMILIES)}")
    for family in list(spec.families) + list(spec.params):
        if family not in FAMILIES:
            raise InvalidImages(f"Unknown family: {family!r}; expected one of {list(FAMILIES)}")
    for family, values in spec.params.items():
        accepted = inspect.signature(family_class(family).__init__).parameters
        unknown = sorted(set(values) - set(accepted) - {"self"})
        if unknown:
            raise InvalidImages(f"{family} has no parameters {unknown}; it takes {sorted(set(accepted) - {'self'})}")


def _stop_requested(context: JobContext) -> bool:
    return bool(context.is_cancel_requested())
