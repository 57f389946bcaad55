"""`alto demo`: the whole story runs end to end, in process, and its report names every step's result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from altostratus.cli.main import cli
from altostratus.demo.data import load, synthetic_rows

ROOT = Path(__file__).resolve().parents[2]
ADULT = ROOT.parent / "shared" / "data" / "tabular" / "adult" / "adult-train.csv"


def demo(tmp_path: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["demo", "--data-dir", str(tmp_path / "demo"), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_runs_every_step_serves_both_variants_and_ends_with_a_prod_version(tmp_path: Path) -> None:
    data = ADULT if ADULT.exists() else tmp_path / "absent.csv"
    out = demo(tmp_path, "--rows", "3000", "--traffic", "400", "--data", str(data), "--json")

    result = json.loads(out)
    assert result["completed"] is True
    assert [s["state"] for s in result["run"]["steps"]] == ["COMPLETED"] * 6
    served = result["traffic"]["served"]
    assert len(served) == 2 and min(served.values()) > 50, served
    assert result["traffic"]["outcomes"] == 400
    assert result["prod_version"] in (1, 2)
    assert sorted(result["endpoint_weights"].values()) == [0.0, 100.0]


def test_without_adult_the_demo_says_it_ran_on_generated_rows(tmp_path: Path) -> None:
    out = demo(tmp_path, "--rows", "1500", "--traffic", "200", "--data", str(tmp_path / "absent.csv"))

    assert "NOTE: UCI Adult was not found" in out
    for step in ("source", "preprocess", "train", "gate", "deploy", "promote"):
        assert f"[COMPLETED] {step}:" in out
    assert "final: adult-demo-models prod v" in out
    assert "alto pipelines show adult-demo-" in out


def test_generated_rows_are_adult_shaped_and_hold_both_classes(tmp_path: Path) -> None:
    rows = synthetic_rows(500, seed=1)
    assert all(len(r) == 15 for r in rows)
    assert {r[-1] for r in rows} == {">50K", "<=50K"}
    data = load(tmp_path / "absent.csv", rows=300, traffic=50)
    assert data.synthetic and data.train_rows == 300 and len(data.traffic_rows) == 50


@pytest.mark.slow
def test_the_demo_on_full_adult_promotes_a_model_that_passed_the_auc_gate(tmp_path: Path) -> None:
    if not ADULT.exists():
        pytest.skip(f"UCI Adult is not at {ADULT} (../shared/data is absent)")
    result = json.loads(demo(tmp_path, "--traffic", "3000", "--json"))

    assert result["completed"] is True
    gate = next(s for s in result["run"]["steps"] if s["step"] == "gate")
    assert gate["lineage"]["stage"] == "prod"
    assert result["prod_version"] is not None
