"""Experiments on bad data and interrupted jobs: corrupt images skipped and reported, empty classes and missing
objects failing with the reason, a job killed mid-epoch going on from its checkpoint."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from altostratus.app.platform import Platform, build_platform
from altostratus.core.settings import Settings
from altostratus.dl.experiment_store import ExperimentSpec, ExperimentStatus
from altostratus.lake.objects import ObjectMeta

BUCKET = "digits"
CLASSES = ("0", "1", "7")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    folder = tmp_path_factory.mktemp("dl-faults")
    settings = Settings.load({}, config_file=folder / "absent.toml", data_dir=folder / "data")
    built = build_platform(settings)
    built.lake.create_bucket(BUCKET)
    yield built
    built.close()


def put(platform: Platform, key: str, data: bytes) -> str:
    writer = platform.lake.object_writer(BUCKET, key, ObjectMeta())
    writer.write(data)
    writer.commit()
    return f"s3://{BUCKET}/{key}"


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def folders(platform: Platform) -> str:
    """Three digit classes, 30 PNGs each, one folder per class, and one corrupt 'image' among the sevens."""
    digits = load_digits()
    for name in CLASSES:
        chosen = np.flatnonzero(digits.target == int(name))[:30]
        for index in chosen:
            put(
                platform, f"folders/{name}/{index}.png", png(np.round(digits.images[index] * 255 / 16).astype(np.uint8))
            )
    put(platform, "folders/7/broken.png", b"\x89PNG\r\n\x1a\n this is no image")
    return f"s3://{BUCKET}/folders/"


def run_jobs(platform: Platform) -> None:
    while platform.workers.run_one("test-worker"):
        pass


def test_a_corrupt_image_is_skipped_and_reported_not_a_crash(platform: Platform, folders: str) -> None:
    experiment = platform.experiments.start(ExperimentSpec("corrupt", folders, families=("nearest",)))
    run_jobs(platform)
    done = platform.experiments.get(experiment.experiment_id)
    assert done.status is ExperimentStatus.COMPLETED, done.message
    assert [key for key, _ in done.skipped] == [f"s3://{BUCKET}/folders/7/broken.png"]
    assert platform.jobs.get(done.job_id).result["skipped"] == done.skipped  # in the job's result too
    assert done.train_images + done.record["validation_images"] + done.test_images == 90
    assert done.evaluation is not None and done.evaluation["accuracy"] > 0.8


def test_a_class_with_no_examples_fails_naming_it(platform: Platform, folders: str) -> None:
    lines = [
        {
            "source-ref": f"s3://{BUCKET}/folders/0/{index}.png",
            "digit": 0,
            "digit-metadata": {"class-name": "0", "class-map": {"0": "0", "1": "1"}},
        }
        for index in np.flatnonzero(load_digits().target == 0)[:5]
    ]
    source = put(platform, "no-ones.manifest", "\n".join(json.dumps(line) for line in lines).encode())
    experiment = platform.experiments.start(ExperimentSpec("empty", source, families=("nearest",)))
    run_jobs(platform)
    failed = platform.experiments.get(experiment.experiment_id)
    assert failed.status is ExperimentStatus.FAILED
    assert "'1'" in failed.message


def test_a_manifest_line_naming_a_missing_object_fails_naming_the_line(platform: Platform, folders: str) -> None:
    source = put(platform, "missing.csv", b"key,label\nfolders/0/0.png,0\nfolders/1/nowhere.png,1\n")
    experiment = platform.experiments.start(ExperimentSpec("missing", source, families=("nearest",)))
    run_jobs(platform)
    failed = platform.experiments.get(experiment.experiment_id)
    assert failed.status is ExperimentStatus.FAILED
    assert "line 3" in failed.message and "nowhere.png" in failed.message


class Killed(BaseException):
    """What a killed worker looks like to the job: it never comes back from the epoch."""


@dataclasses.dataclass
class Context:
    """A job context that kills the job once the CNN reports epoch `kill_at`, and notes every report."""

    job_id: str
    payload: Mapping[str, Any]
    attempt: int = 1
    kill_at: int | None = None
    messages: list[str] = dataclasses.field(default_factory=list)

    def report_progress(self, fraction: float, message: str | None = None) -> None:
        self.messages.append(message or "")
        if self.kill_at is not None and message == f"cnn: epoch {self.kill_at}/4":
            raise Killed

    def is_cancel_requested(self) -> bool:
        return False


def test_a_job_killed_mid_training_goes_on_from_its_checkpoint(platform: Platform) -> None:
    params = {"cnn": {"widths": [8, 16], "epochs": 4, "batch_size": 64, "threads": 2}}
    spec = ExperimentSpec("resumed", "builtin:digits", families=("linear", "cnn"), params=params)
    experiment = platform.experiments.start(spec)
    job = platform.jobs.get(experiment.job_id)
    first = Context(job.job_id, job.payload, kill_at=2)
    with pytest.raises(Killed):
        platform.experiments.run(first)
    checkpoint = f"dl/experiments/{experiment.experiment_id}/cnn.checkpoint"
    assert platform.blobs.exists(checkpoint)
    interrupted = platform.experiments.get(experiment.experiment_id)
    assert interrupted.record["families"]["linear"]["status"] == "COMPLETED"
    assert interrupted.record["families"]["cnn"]["epoch"] == 2

    second = Context(job.job_id, job.payload, attempt=2)
    platform.experiments.run(second)
    done = platform.experiments.get(experiment.experiment_id)
    assert done.status is ExperimentStatus.COMPLETED, done.message
    epochs = [message for message in second.messages if message.startswith("cnn: epoch")]
    assert epochs == ["cnn: epoch 3/4", "cnn: epoch 4/4"]  # epochs 1 and 2 were not trained again
    assert not any(message.startswith("linear") for message in second.messages)  # nor was the finished family
    assert not platform.blobs.exists(checkpoint)
    assert done.record["families"]["cnn"]["validation_accuracy"] > 0.5
