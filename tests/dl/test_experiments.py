"""Experiments as jobs on a real platform: families trained on the same data, the best chosen, its model served."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from altostratus.app.platform import Platform, build_platform
from altostratus.core.settings import Settings
from altostratus.dl.experiment_store import ExperimentNotFound, ExperimentNotReady, ExperimentSpec, ExperimentStatus
from altostratus.dl.images import InvalidImages
from altostratus.jobs import JobState

QUICK = ("nearest", "linear")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform over a temporary data directory; its workers run only when a test asks (run_one)."""
    folder = tmp_path_factory.mktemp("dl")
    settings = Settings.load({}, config_file=folder / "absent.toml", data_dir=folder / "data")
    built = build_platform(settings)
    yield built
    built.close()


def run_jobs(platform: Platform) -> None:
    """Run every queued job in this thread, as the server's workers would."""
    while platform.workers.run_one("test-worker"):
        pass


@pytest.fixture(scope="module")
def trained(platform: Platform) -> str:
    """An experiment of the two quick families on scikit-learn's digits, trained to the end."""
    spec = ExperimentSpec("digits", "builtin:digits", families=QUICK, output="s3://dl-output/runs/")
    experiment = platform.experiments.start(spec)
    assert experiment.status is ExperimentStatus.PENDING
    run_jobs(platform)
    return experiment.experiment_id


def test_each_family_reports_its_epochs_and_the_best_is_chosen_by_validation(platform: Platform, trained: str) -> None:
    experiment = platform.experiments.get(trained)
    assert experiment.status is ExperimentStatus.COMPLETED, experiment.message
    families = {entry["family"]: entry for entry in experiment.families}
    assert set(families) == set(QUICK)
    assert families["linear"]["epoch"] >= 1 and families["linear"]["loss"] > 0
    assert all(entry["images_per_second"] > 0 for entry in families.values())
    best = max(QUICK, key=lambda name: families[name]["validation_accuracy"])
    assert experiment.best_family == best
    assert experiment.evaluation is not None and experiment.evaluation["accuracy"] > 0.9
    assert experiment.train_images + experiment.test_images + 180 > 1797 > experiment.train_images
    assert platform.jobs.get(experiment.job_id).state is JobState.COMPLETED


def test_the_served_model_is_the_onnx_export_with_thresholds(platform: Platform, trained: str) -> None:
    from sklearn.datasets import load_digits

    model = platform.experiments.model(trained)
    digits = load_digits()
    pixels = np.round(digits.images[:200] * (255 / 16)).astype(np.uint8)[..., None]
    predicted = np.asarray(model.classes_)[model.predict_proba(pixels).argmax(axis=1)]
    assert (predicted == digits.target[:200].astype(str)).mean() > 0.9
    assert set(model.thresholds) == set(model.classes_)
    assert all(0 <= value <= 1 for value in model.thresholds.values())


def test_the_summary_and_report_are_written_to_the_output(platform: Platform, trained: str) -> None:
    experiment = platform.experiments.get(trained)
    assert experiment.summary_url == f"s3://dl-output/runs/{trained}/summary.json"
    info = platform.lake.head("dl-output", f"runs/{trained}/summary.json")
    summary = json.loads(b"".join(platform.lake.read(info)))
    assert summary["EvaluationDetails"]["Family"] == experiment.best_family
    assert 0.9 < summary["AggregatedEvaluationResults"]["F1Score"] <= 1
    page = platform.experiments.report(trained).decode()
    assert page.startswith("<!DOCTYPE html>") and "nearest" in page and "linear" in page


def test_a_stop_before_training_settles_the_experiment(platform: Platform) -> None:
    experiment = platform.experiments.start(ExperimentSpec("stopped", "builtin:digits", families=QUICK))
    stopped = platform.experiments.stop(experiment.experiment_id)
    run_jobs(platform)
    assert stopped.status is ExperimentStatus.STOPPED
    assert platform.experiments.get(experiment.experiment_id).status is ExperimentStatus.STOPPED
    with pytest.raises(ExperimentNotReady):
        platform.experiments.model(experiment.experiment_id)


def test_delete_removes_the_experiment_and_its_blobs(platform: Platform) -> None:
    experiment = platform.experiments.start(ExperimentSpec("gone", "builtin:digits", families=("nearest",)))
    run_jobs(platform)
    prefix = f"dl/experiments/{experiment.experiment_id}/"
    assert list(platform.blobs.keys(prefix))
    platform.experiments.delete(experiment.experiment_id)
    assert not list(platform.blobs.keys(prefix))
    with pytest.raises(ExperimentNotFound):
        platform.experiments.get(experiment.experiment_id)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ExperimentSpec("x", "builtin:digits", families=("forest",)), "Unknown family: 'forest'"),
        (ExperimentSpec("x", "builtin:digits", families=("nearest", "nearest")), "distinct"),
        (ExperimentSpec("x", "builtin:digits", params={"nearest": {"kk": 3}}), r"no parameters \['kk'\]"),
        (ExperimentSpec("", "builtin:digits"), "name=''"),
    ],
)
def test_a_bad_spec_is_refused_before_anything_is_queued(
    platform: Platform, spec: ExperimentSpec, message: str
) -> None:
    before = len(platform.experiments.list())
    with pytest.raises(InvalidImages, match=message):
        platform.experiments.start(spec)
    assert len(platform.experiments.list()) == before


def test_bad_data_fails_the_experiment_with_the_reason(platform: Platform) -> None:
    experiment = platform.experiments.start(ExperimentSpec("missing", "s3://no-such-bucket/data.manifest"))
    run_jobs(platform)
    failed = platform.experiments.get(experiment.experiment_id)
    assert failed.status is ExperimentStatus.FAILED
    assert "not in the lake" in failed.message


def test_bad_parameters_fail_the_experiment_naming_them(platform: Platform, tmp_path: Path) -> None:
    spec = ExperimentSpec("k", "builtin:digits", families=("nearest",), params={"nearest": {"k": 0}})
    experiment = platform.experiments.start(spec)
    run_jobs(platform)
    failed = platform.experiments.get(experiment.experiment_id)
    assert failed.status is ExperimentStatus.FAILED and "k=0" in failed.message


def test_an_experiment_whose_job_died_on_its_last_attempt_reads_failed(platform: Platform) -> None:
    experiment = platform.experiments.start(ExperimentSpec("died", "builtin:digits", families=("nearest",)))
    claimed = platform.jobs.claim("a-worker-that-dies", ["dl.train"], lease_seconds=60)
    assert claimed is not None and claimed.job_id == experiment.job_id
    platform.jobs.fail(claimed.job_id, "a-worker-that-dies", "worker killed", retry=False)
    failed = platform.experiments.get(experiment.experiment_id)
    assert failed.status is ExperimentStatus.FAILED and "worker killed" in failed.message


def test_too_few_images_to_validate_on_fail_with_the_reason(platform: Platform) -> None:
    from altostratus.lake.objects import ObjectMeta

    platform.lake.create_bucket("tiny")
    for label in ("a", "b"):
        for index in range(3):
            writer = platform.lake.object_writer("tiny", f"set/{label}/{index}.png", ObjectMeta())
            writer.write(_png(index + (10 if label == "b" else 0)))
            writer.commit()
    experiment = platform.experiments.start(ExperimentSpec("tiny", "s3://tiny/set/", families=("nearest",)))
    run_jobs(platform)
    failed = platform.experiments.get(experiment.experiment_id)
    assert failed.status is ExperimentStatus.FAILED
    assert "at least 5 images" in failed.message


def _png(seed: int) -> bytes:
    import io

    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (8, 8), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, "PNG")
    return buffer.getvalue()
