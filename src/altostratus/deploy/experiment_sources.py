"""`dl-experiment:<ExperimentId>[/<family>]`: a trained image classifier, read for registration.

The artifact is the family's ONNX export (the experiment's best family unless one is named), so serving it needs
ONNX Runtime and no torch; it is refused unless ONNX Runtime opens it as the family it claims to be. Provenance:
the experiment's train and test sources (with the lake objects and ETags of a train source in the lake), the
family, its parameters and the device it trained on. Metrics, as metric sets the gates read:

- on the test images (`records`: how many): `accuracy`, `macro_f1`, and for the best family, whose evaluation
  the experiment keeps per class, `f1:<class>` for each class;
- on the validation images: `validation_accuracy` (what the experiment chose its best family by).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any, Protocol

from altostratus.core.errors import NotFound
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.gates import CLASS_F1_PREFIX, IMAGE_CLASSIFICATION, VALIDATION_ACCURACY
from altostratus.deploy.model_loading import IMAGE_MODEL
from altostratus.deploy.model_store import ArtifactRefused
from altostratus.deploy.sources import Registration, training_objects
from altostratus.dl.artifact import ArtifactInvalid
from altostratus.dl.experiment_store import Experiment, ExperimentStatus
from altostratus.dl.onnx_export import OnnxClassifier
from altostratus.lake.service import LakeService
from altostratus.storage.blobs import BlobMissing

DL_EXPERIMENT = f"{IMAGE_MODEL}:"
FORM = f"{DL_EXPERIMENT}<ExperimentId>[/<family>]"


class ExperimentLookup(Protocol):
    """The experiments service, as registration reads it (altostratus.dl.experiments.Experiments)."""

    def get(self, experiment_id: str) -> Experiment:
        """The experiment; a NotFound when there is none."""
        ...

    def artifact(self, experiment_id: str, family: str | None = None, kind: str = "model") -> bytes:
        """A trained family's archive ("model") or ONNX export ("onnx")."""
        ...


@dataclasses.dataclass(frozen=True)
class _Named:
    """A SourceUri's experiment and the family it names (or the best one)."""

    uri: str
    experiment: Experiment
    family: str
    record: Mapping[str, Any]


class ExperimentArtifacts:
    """Reads `dl-experiment:` SourceUris: a completed experiment's family, its ONNX export and its metrics."""

    form = FORM

    def __init__(self, experiments: ExperimentLookup, lake: LakeService) -> None:
        self._experiments = experiments
        self._lake = lake

    def read(self, source_uri: str) -> Registration:
        """The family's ONNX export, checked, with the experiment's data, parameters and metrics."""
        named = self._named(source_uri)
        data = self._export(named)
        experiment, family, record = named.experiment, named.family, named.record
        spec = experiment.spec
        source = {
            "kind": IMAGE_MODEL,
            "model_type": IMAGE_CLASSIFICATION,
            "experiment_id": experiment.experiment_id,
            "experiment_name": experiment.name,
            "family": family,
            "best_family": experiment.best_family,
            "format": "onnx",
            "classes": list(experiment.record.get("classes", [])),
        }
        training_data = {
            "location": spec.train,
            "test_location": spec.test,
            "seed": spec.seed,
            "train_images": experiment.record.get("train_images"),
            "validation_images": experiment.record.get("validation_images"),
            "test_images": experiment.record.get("test_images"),
            "skipped_images": len(experiment.record.get("skipped", [])),
            "objects": training_objects(self._lake, spec.train),
        }
        parameters = {
            "learner": family,
            "training_parameters": dict(record.get("params", {})),
            "device": record.get("device"),
            "epochs": record.get("epoch"),
            "thresholds": dict(record.get("thresholds", {})),
        }
        sha256 = hashlib.sha256(data).hexdigest()
        return Registration(source, data, sha256, training_data, parameters, self._metrics(named))

    def _named(self, source_uri: str) -> _Named:
        experiment_id, _, family = source_uri.removeprefix(DL_EXPERIMENT).partition("/")
        if not experiment_id or "/" in family:
            raise InvalidValue(f"SourceUri={source_uri!r}; expected {FORM}")
        try:
            experiment = self._experiments.get(experiment_id)
        except NotFound:
            raise InvalidValue(f"SourceUri={source_uri!r}: Experiment {experiment_id!r} does not exist") from None
        if experiment.status is not ExperimentStatus.COMPLETED:
            raise InvalidValue(
                f"SourceUri={source_uri!r}: Experiment {experiment_id!r} is {experiment.status}; it must be COMPLETED"
            )
        trained = experiment.record.get("families", {})
        chosen = family or str(experiment.best_family)
        record = trained.get(chosen)
        if record is None or not record.get("onnx_key"):
            raise InvalidValue(
                f"SourceUri={source_uri!r}: Experiment {experiment_id!r} has no trained family {chosen!r}; "
                f"expected one of {sorted(trained)}"
            )
        return _Named(source_uri, experiment, chosen, record)

    def _export(self, named: _Named) -> bytes:
        """The family's ONNX export, refused unless ONNX Runtime opens it as that family with the same classes."""
        where = f"Experiment {named.experiment.experiment_id!r}, family {named.family!r}"
        try:
            data = self._experiments.artifact(named.experiment.experiment_id, named.family, kind="onnx")
        except BlobMissing:
            raise ArtifactRefused(f"{where}: its ONNX export is missing: refused") from None
        recorded = named.record.get("onnx_sha256")
        if recorded and hashlib.sha256(data).hexdigest() != recorded:
            raise ArtifactRefused(f"{where}: its ONNX export does not match the checksum its training recorded")
        try:
            opened = OnnxClassifier(data)
        except ArtifactInvalid as invalid:
            raise ArtifactRefused(f"{where}: {invalid.message}: refused") from None
        classes = list(named.experiment.record.get("classes", opened.classes_))
        if opened.family != named.family or list(opened.classes_) != classes:
            raise ArtifactRefused(
                f"{where}: the ONNX export is a {opened.family} model of classes {list(opened.classes_)}, "
                f"not the {named.family} model of {classes} the experiment recorded: refused"
            )
        return data

    def _metrics(self, named: _Named) -> list[dict[str, Any]]:
        experiment, record = named.experiment, named.record
        spec = experiment.spec
        values = {"accuracy": float(record["test_accuracy"]), "macro_f1": float(record["macro_f1"])}
        evaluation = experiment.evaluation or {}
        if named.family == experiment.best_family:
            for name, figures in (evaluation.get("per_class") or {}).items():
                values[f"{CLASS_F1_PREFIX}{name}"] = float(figures["f1"])
        test = {
            "source": f"{named.uri} on {experiment.record.get('test_images')} test images",
            "datasource_id": spec.test or spec.train,
            "records": experiment.record.get("test_images"),
            "values": values,
        }
        validation = {
            "source": f"{named.uri} on {experiment.record.get('validation_images')} validation images",
            "datasource_id": spec.train,
            "records": experiment.record.get("validation_images"),
            "values": {VALIDATION_ACCURACY: float(record["validation_accuracy"])},
        }
        return [validation, test]
