"""`alto predict` end to end: the real `alto` command against a live server, through the Amazon ML API."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.live_server import LiveServer, live_server
from tests.predict.conftest import synthetic_csv

from altostratus.cli.main import cli

ALTO = str(Path(sys.executable).with_name("alto"))
RECORD = ("--record", "x=1.2", "--record", "color=red", "--record", "note=good w3 w4")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve` with a CSV in the lake."""
    with live_server(tmp_path_factory.mktemp("predict-cli") / "data") as running:
        s3 = running.client("s3")
        s3.create_bucket(Bucket="cli-data")
        s3.put_object(Bucket="cli-data", Key="train.csv", Body=synthetic_csv(400).encode())
        yield running


def env_for(server: LiveServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALTO_", "AWS_"))}
    return env | {
        "ALTO_CONFIG": str(tmp_path / "absent.toml"),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
    }


def alto(server: LiveServer, tmp_path: Path, *args: str, ok: bool = True) -> Result:
    """`alto predict ARGS` in this process (the `alto` script takes seconds to start; this does not)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ALTO_", "AWS_"))}
    env |= {k: v for k, v in env_for(server, tmp_path).items() if k.startswith(("ALTO_", "AWS_"))}
    result = CliRunner().invoke(cli, ["predict", *args, "--endpoint-url", server.endpoint], env=env)
    if ok:
        assert result.exit_code == 0, f"alto predict {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result


def alto_json(server: LiveServer, tmp_path: Path, *args: str) -> Any:
    return json.loads(alto(server, tmp_path, *args, "--json").stdout)


def test_datasource_describe_train_evaluate_predict_batch(server: LiveServer, tmp_path: Path) -> None:
    train = ("--target", "y", "--split", "0:70", "--seed", "cli")
    made = alto_json(server, tmp_path, "datasource", "create", "ds", "s3://cli-data/train.csv", *train)
    assert made["Status"] == "COMPLETED" and json.loads(made["DataSourceSchema"])["targetAttributeName"] == "y"
    alto(server, tmp_path, "datasource", "create", "ds-test", "s3://cli-data/train.csv", *train, "--complement")

    shown = alto(server, tmp_path, "describe", "ds").stdout
    assert "datasource ds: COMPLETED" in shown and "rows: 285 kept of 400 read; target: y" in shown
    color = next(line.split() for line in shown.splitlines() if line.startswith("color"))
    assert color[:6] == ["color", "CATEGORICAL", "285", "0", "0", "3"] and color[-1] == "correlation_ratio"
    assert alto_json(server, tmp_path, "describe", "ds")["Log"]["Statistics"]["target"] == "y"

    trained = alto(
        server, tmp_path, "train", "m", "--datasource", "ds", "--type", "binary", "--param", "sgd.maxPasses=5"
    )
    assert "model m: COMPLETED BINARY on ds" in trained.stdout and "parameter sgd.maxPasses" in trained.stdout
    assert "model m: COMPLETED" in trained.stderr  # one line per change when stderr is not a terminal

    evaluated = alto(server, tmp_path, "evaluate", "ev", "--model", "m", "--datasource", "ds-test").stdout
    assert "BinaryAUC: 0.9" in evaluated and "(baseline 0.5000)" in evaluated and "predicted 1" in evaluated

    missing = alto(server, tmp_path, "predict", "m", *RECORD, ok=False)
    assert missing.exit_code == 1 and "alto predict endpoint create m" in missing.stderr
    assert "READY" in alto(server, tmp_path, "endpoint", "create", "m").stdout
    first = alto_json(server, tmp_path, "predict", "m", *RECORD)
    assert first["predictedLabel"] == "1" and first["details"]["Algorithm"] == "SGD"
    alto(server, tmp_path, "threshold", "m", "1")
    as_text = alto(server, tmp_path, "predict", "m", "--json-record", '{"x": "1.2", "color": "red"}').stdout
    assert "predictedLabel: 0" in as_text

    out = alto(
        server, tmp_path, "batch", "b", "--model", "m", "--datasource", "ds-test", "--output", "s3://cli-data/o/"
    )
    assert "(0 invalid)" in out.stdout and "s3://cli-data/o/batch-prediction/result/" in out.stdout
    listed = alto_json(server, tmp_path, "models")["Results"]
    assert [(m["MLModelId"], m["Status"]) for m in listed] == [("m", "COMPLETED")]
    assert "ev" in alto(server, tmp_path, "evaluations").stdout
    alto(server, tmp_path, "delete", "model", "m")
    assert alto_json(server, tmp_path, "models", "--status", "DELETED")["Results"][0]["MLModelId"] == "m"


def test_training_shows_a_progress_bar_on_a_terminal(server: LiveServer, tmp_path: Path) -> None:
    alto(server, tmp_path, "datasource", "create", "bar-ds", "s3://cli-data/train.csv", "--target", "y")
    endpoint = ("--endpoint-url", server.endpoint)
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    try:
        result = subprocess.run(
            [ALTO, "predict", "train", "bar", "--datasource", "bar-ds", "--type", "binary", *endpoint],
            env=env_for(server, tmp_path),
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=300,
        )
        os.set_blocking(controller, False)
        shown = ""
        with contextlib.suppress(BlockingIOError, OSError):
            while chunk := os.read(controller, 1 << 16):
                shown += chunk.decode(errors="replace")
    finally:
        os.close(controller)
        os.close(terminal)
    assert result.returncode == 0 and "model bar: COMPLETED" in result.stdout
    assert "model bar: 100%|" in shown  # tqdm's bar, filled


def test_errors_are_one_line(server: LiveServer, tmp_path: Path) -> None:
    result = subprocess.run(  # the real script, once: errors become `alto: Code: Message` and exit status 1
        [ALTO, "predict", "predict", "no-such-model", "--record", "x=1", "--endpoint-url", server.endpoint],
        env=env_for(server, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "alto: ResourceNotFoundException: MLModel 'no-such-model' does not exist"
    bad = alto(server, tmp_path, "datasource", "create", "bad", "s3://cli-data/train.csv", "--split", "70", ok=False)
    assert bad.exit_code == 2 and "expected BEGIN:END" in bad.stderr
    failed = alto(server, tmp_path, "datasource", "create", "gone", "s3://cli-data/absent.csv", ok=False)
    assert failed.exit_code == 1 and "datasource gone is FAILED" in failed.stderr
    assert "holds no object" in failed.stderr
