"""`alto endpoints stats|outcomes|canary` against the metadata store of a data directory under tmp_path.

(`list`, `describe` and `weights` talk to a server: tests/api/test_sagemaker_endpoints.py runs them.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.deploy.hosting_harness import HostingHarness
from tests.deploy.test_variants_experiments import labelled_rows

from altostratus.cli.main import cli
from altostratus.deploy.serving import InvocationRequest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data directory holding endpoint `churn` (A: good 90, B: bad 10, shadow S) with 200 answered requests."""
    for name in [n for n in os.environ if n.startswith("ALTO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ALTO_CONFIG", str(tmp_path / "absent.toml"))
    folder = tmp_path / "data"
    folder.mkdir()
    hosting = HostingHarness(folder)
    try:
        hosting.endpoint("churn", {"A": ("good", 90), "B": ("bad", 10)}, shadows={"S": "good"})
        for n, (record, _) in enumerate(labelled_rows(200, seed=31)):
            hosting.runtime.invoke(InvocationRequest("churn", json.dumps(record).encode(), inference_id=f"q{n}"))
        hosting.runtime.drain_shadows(10)
        hosting.recorder.flush()
    finally:
        hosting.close()
    yield folder


def alto(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["endpoints", *args, "--data-dir", str(data_dir)], input=stdin)


def ok(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    result = alto(data_dir, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return result


def as_json(data_dir: Path, *args: str, stdin: str | None = None) -> Any:
    return json.loads(ok(data_dir, *args, "--json", stdin=stdin).stdout)


def test_stats_outcomes_and_accuracy(data_dir: Path) -> None:
    truth = labelled_rows(200, seed=31)
    outcomes = "InferenceId,label\n" + "".join(f"q{n},{label}\n" for n, (_, label) in enumerate(truth))
    assert as_json(data_dir, "outcomes", "put", "churn", "-", stdin=outcomes) == {"Endpoint": "churn", "Outcomes": 200}
    stats = as_json(data_dir, "stats", "churn")
    variants = {(v["variant"], v["shadow"]): v for v in stats["variants"]}
    assert stats["champion"] == "A"
    assert variants[("A", False)]["requests"] + variants[("B", False)]["requests"] == 200
    assert variants[("S", True)]["requests"] == 200
    assert variants[("S", True)]["online"]["outcomes"] == 200
    assert variants[("A", False)]["online"]["metric"] == "accuracy"
    assert [change["action"] for change in stats["changes"]] == ["create"]
    table = ok(data_dir, "stats", "churn").stdout
    assert "Endpoint churn: champion A" in table
    assert table.splitlines()[1].split()[:4] == ["Variant", "Weight", "Requests", "Errors"]
    assert "S (shadow)" in table


def test_canary_start_status_stop(data_dir: Path) -> None:
    started = as_json(
        data_dir,
        "canary",
        "start",
        "churn",
        "--champion",
        "A",
        "--challenger",
        "B",
        "--step",
        "20",
        "--every-requests",
        "50",
    )
    assert (started["state"], started["share"]) == ("running", 20)
    assert started["rules"]["rollback_if"] == {"error_rate_above": 0.05, "significant_loss": True}
    assert "running, challenger B at 20 points" in ok(data_dir, "canary", "status", "churn").stdout
    stats = as_json(data_dir, "stats", "churn")
    assert {v["variant"]: v["weight"] for v in stats["variants"] if not v["shadow"]} == {"A": 80, "B": 20}
    assert stats["changes"][-1]["action"] == "canary-start"
    assert as_json(data_dir, "canary", "stop", "churn")["state"] == "stopped"


def test_bad_input_is_reported_in_one_line(data_dir: Path) -> None:
    result = alto(data_dir, "outcomes", "put", "churn", "-", stdin="q1,1\nq2\n")
    assert result.exit_code == 1
    assert "alto: ValidationException: <stdin> line 2 is ['q2']; expected InferenceId,label" in result.output
    result = alto(data_dir, "canary", "start", "churn", "--champion", "A")
    assert result.exit_code == 2 and "give --champion and --challenger" in result.output
    result = alto(data_dir, "canary", "start", "churn", "--champion", "A", "--challenger", "Z", "--every-seconds", "5")
    assert result.exit_code == 1 and "VariantName='Z' is not a production variant of endpoint 'churn'" in result.output
    result = alto(data_dir, "stats", "nope")
    assert (
        result.exit_code == 1
        and 'Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/nope"' in (result.output)
    )
