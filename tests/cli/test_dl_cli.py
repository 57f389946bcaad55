"""`alto dl` by hand: train (here, with progress), list, evaluate, export, report and predict on real digits."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest
from click.testing import CliRunner, Result
from PIL import Image

from altostratus.cli.main import cli


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dl-cli") / "data"


def alto(data_dir: Path, *args: str, ok: bool = True) -> Result:
    """Run `alto dl ARGS` in this process on the data directory."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ALTO_", "AWS_"))}
    env |= {"ALTO_CONFIG": str(data_dir.parent / "absent.toml")}
    result = CliRunner().invoke(cli, ["dl", *args, "--data-dir", str(data_dir)], env=env)
    if ok:
        assert result.exit_code == 0, f"alto dl {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result


@pytest.fixture(scope="module")
def trained(data_dir: Path) -> dict[str, Any]:
    """`alto dl train builtin:digits` with two families, trained in the command's own process."""
    result = alto(data_dir, "train", "builtin:digits", "--family", "nearest", "--family", "linear", "--here", "--json")
    return dict(json.loads(result.stdout))


def test_train_reports_each_familys_epochs_and_the_best(trained: dict[str, Any]) -> None:
    assert trained["Status"] == "COMPLETED"
    assert trained["BestFamily"] in ("nearest", "linear")
    assert {entry["family"] for entry in trained["Families"]} == {"nearest", "linear"}
    assert trained["Evaluation"]["accuracy"] > 0.9


def test_train_shows_progress_lines_and_a_table(data_dir: Path) -> None:
    result = alto(data_dir, "train", "builtin:digits", "--family", "linear", "--param", "linear.epochs=3", "--here")
    assert "linear: epoch 3/3" in result.stderr
    assert "FAMILY" in result.stdout and "best: linear" in result.stdout


def test_list_shows_the_experiments(data_dir: Path, trained: dict[str, Any]) -> None:
    listed = json.loads(alto(data_dir, "list", "--json").stdout)
    assert trained["ExperimentId"] in {entry["ExperimentId"] for entry in listed}


def test_export_writes_an_onnx_model_onnxruntime_loads(data_dir: Path, trained: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    alto(data_dir, "export", trained["ExperimentId"], "-o", str(path))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    assert metadata["family"] == trained["BestFamily"] and json.loads(metadata["input_shape"]) == [8, 8, 1]


def test_report_writes_the_html_page(data_dir: Path, trained: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    alto(data_dir, "report", trained["ExperimentId"], "-o", str(path))
    assert path.read_text().startswith("<!DOCTYPE html>") and "data:image/png;base64," in path.read_text()


def test_predict_names_the_digit_of_image_files(data_dir: Path, trained: dict[str, Any], tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    paths = []
    for index in range(5):
        pixels = np.round(digits.images[index] * (255 / 16)).astype(np.uint8)
        path = tmp_path / f"digit-{index}.png"
        buffer = io.BytesIO()
        Image.fromarray(pixels, "L").save(buffer, "PNG")
        path.write_bytes(buffer.getvalue())
        paths.append(str(path))
    answers = json.loads(alto(data_dir, "predict", trained["ExperimentId"], *paths, "--json").stdout)
    assert [answer["classes"][0]["name"] for answer in answers] == [str(d) for d in digits.target[:5]]


def test_evaluate_shows_the_figures_per_class(data_dir: Path, trained: dict[str, Any]) -> None:
    result = alto(data_dir, "evaluate", trained["ExperimentId"])
    assert "PRECISION" in result.stdout and "THRESHOLD" in result.stdout


def test_an_unknown_experiment_and_bad_params_are_clear_errors(data_dir: Path) -> None:
    missing = alto(data_dir, "report", "NOSUCH", "-o", os.devnull, ok=False)
    assert missing.exit_code == 1 and "does not exist" in missing.output
    bad = alto(data_dir, "train", "builtin:digits", "--param", "linear", ok=False)
    assert bad.exit_code == 2 and "FAMILY.NAME=VALUE" in bad.output
