"""Hosting trained versions: StartProjectVersion loads the model (STARTING -> RUNNING), StopProjectVersion unloads
it (STOPPING -> STOPPED), DetectCustomLabels classifies an image with a running one.

Loading and unloading run on a thread of their own, so the calls answer at once with STARTING or STOPPING, as
Rekognition's do. The version's status in the metadata store is the truth: a process finds a RUNNING version's
model missing from its memory (after a restart, or beside another gateway process) and loads it then.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from altostratus.dl.custom_labels.errors import ResourceNotReady
from altostratus.dl.custom_labels.training import TrainedModel, Training
from altostratus.dl.custom_labels.versions import Version, Versions, VersionStatus
from altostratus.dl.decoding import decode_image
from altostratus.dl.errors import UnreadableImage
from altostratus.vision.errors import ImageTooLarge, InvalidImageFormat, InvalidParameter, ResourceInUse
from altostratus.vision.images import MAX_BYTES, MAX_S3_BYTES
from altostratus.vision.sources import ImageSource, ObjectReader

log = logging.getLogger(__name__)
STARTABLE = frozenset({VersionStatus.TRAINING_COMPLETED, VersionStatus.STOPPED, VersionStatus.FAILED})
STOPPABLE = frozenset({VersionStatus.STARTING, VersionStatus.RUNNING})


@dataclasses.dataclass(frozen=True)
class DetectedLabel:
    """A label the model gives the image, with its confidence in percent."""

    name: str
    confidence: float


class Hosting:
    """The running models of this process, over the versions' states."""

    def __init__(self, versions: Versions, training: Training, objects: ObjectReader) -> None:
        self._versions = versions
        self._training = training
        self._objects = objects
        self._models: dict[str, TrainedModel] = {}
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="custom-labels-hosting")

    def start(self, version_arn: str, *, min_units: int, max_units: int | None = None) -> VersionStatus:
        """Begin loading the version's model; ResourceInUse unless it is trained and not running."""
        if max_units is not None and max_units < min_units:
            raise InvalidParameter(f"MaxInferenceUnits={max_units} is below MinInferenceUnits={min_units}")
        version = self._versions.get(version_arn)
        if version.status is VersionStatus.TRAINING_FAILED:
            raise InvalidParameter(f"ProjectVersionArn={version_arn!r} failed to train: {version.status_message}")
        units = {"min_units": min_units, "max_units": max_units or min_units}
        moved = self._versions.move(version, VersionStatus.STARTING, "The model is starting.", when=STARTABLE, **units)
        if moved is None:
            raise ResourceInUse(f"ProjectVersionArn={version_arn!r} is {version.status}; it cannot be started now")
        self._worker.submit(self._load, moved)
        return VersionStatus.STARTING

    def stop(self, version_arn: str) -> VersionStatus:
        """Begin unloading the version's model; ResourceInUse unless it is starting or running."""
        version = self._versions.get(version_arn)
        moved = self._versions.move(version, VersionStatus.STOPPING, "The model is stopping.", when=STOPPABLE)
        if moved is None:
            raise ResourceInUse(f"ProjectVersionArn={version_arn!r} is {version.status}; only a running model stops")
        self._worker.submit(self._unload, moved)
        return VersionStatus.STOPPING

    def detect(
        self, version_arn: str, image: ImageSource, *, min_confidence: float | None, max_results: int | None
    ) -> list[DetectedLabel]:
        """The labels of the image, most confident first: those at or above MinConfidence, or, without it,
        those at or above each label's threshold chosen in training (as Custom Labels' assumed threshold)."""
        version = self._versions.get(version_arn)
        if version.status is not VersionStatus.RUNNING:
            raise ResourceNotReady(
                f"ProjectVersionArn={version_arn!r} is {version.status}; start it with StartProjectVersion"
            )
        model = self._model(version)
        try:
            pixels = decode_image(self._bytes(image), model.shape_)
        except UnreadableImage as error:
            raise InvalidImageFormat(f"The image cannot be decoded: {error.message}") from None
        probabilities = np.asarray(model.predict_proba(pixels[np.newaxis]), dtype=np.float64)[0]
        found = []
        for name, probability in zip(model.classes_, probabilities, strict=True):
            bar = model.thresholds.get(name, 0.0) if min_confidence is None else min_confidence / 100
            if probability >= bar:
                found.append(DetectedLabel(name, float(min(100.0, probability * 100))))
        found.sort(key=lambda label: -label.confidence)
        return found if max_results is None else found[:max_results]

    def settle(self) -> None:
        """At start: load what was starting, finish what was stopping (a stop of the server cut them short)."""
        for version in self._versions.in_states({VersionStatus.STARTING, VersionStatus.STOPPING}):
            self._worker.submit(self._load if version.status is VersionStatus.STARTING else self._unload, version)

    def close(self) -> None:
        """Stop the loading thread; the models go with the process."""
        self._worker.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._models.clear()

    def _bytes(self, image: ImageSource) -> bytes:
        if image.data is not None:
            if len(image.data) > MAX_BYTES:
                raise ImageTooLarge(f"The image is {len(image.data)} bytes; at most {MAX_BYTES} are accepted")
            return image.data
        assert image.bucket is not None and image.key is not None
        return self._objects.read_object(image.bucket, image.key, MAX_S3_BYTES)

    def _model(self, version: Version) -> TrainedModel:
        with self._lock:
            found = self._models.get(version.arn)
        if found is None:
            found = self._loaded(version)
        return found

    def _loaded(self, version: Version) -> TrainedModel:
        if version.experiment_id is None:
            raise ResourceNotReady(f"ProjectVersionArn={version.arn!r} has no trained model")
        model = self._training.model(version.experiment_id)
        with self._lock:
            self._models[version.arn] = model
        return model

    def _load(self, version: Version) -> None:
        try:
            self._loaded(version)
        except Exception as error:  # any failure to load is the version's FAILED status, told in its message
            log.exception("loading the model of %s", version.arn)
            self._versions.move(
                version, VersionStatus.FAILED, f"The model failed to load: {error}", when={VersionStatus.STARTING}
            )
            return
        self._versions.move(version, VersionStatus.RUNNING, "The model is running.", when={VersionStatus.STARTING})

    def _unload(self, version: Version) -> None:
        with self._lock:
            self._models.pop(version.arn, None)
        self._versions.move(version, VersionStatus.STOPPED, "The model is stopped.", when={VersionStatus.STOPPING})
