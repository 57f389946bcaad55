"""Pipelines end to end on a live server: the CLI starts a run, boto3 sees its results; a crash resumes."""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from altostratus.cli.pipelines import open_runs
from altostratus.functions.packaging import zip_folder
from altostratus.pipelines import State
from tests.live_server import ALTO, LiveServer, live_server

ROOT = Path(__file__).resolve().parents[2]
CLEANER = ROOT / "examples" / "csv_cleaner"
BUCKET = "pipe-lake"


def generated_csv(rows: int, seed: int = 7) -> str:
    """Headerless Adult-like rows whose label follows age and hours, with noise."""
    rng = random.Random(seed)
    lines = []
    for _ in range(rows):
        age, hours = rng.randint(18, 80), rng.randint(10, 70)
        rich = (age - 18) / 62 + (hours - 10) / 60 + rng.gauss(0, 0.3) > 1.0
        job = rng.choice(["Sales", "Tech", "?"])
        lines.append(f"{age}, {job}, {hours}, {'>50K' if rich else '<=50K'}")
    return "\n".join(lines) + "\n"


def pipeline_yaml(name: str, *, promote: str = "immediately") -> str:
    return f"""
name: {name}
source: {{bucket: {BUCKET}, prefix: raw/}}
preprocess: {{function: cleaner, output_prefix: clean/}}
train:
  model_type: BINARY
  target: income
  split: 0.7
  candidates:
    - {{name: sgd, algorithm: sgd}}
    - {{name: auto, algorithm: auto}}
gate:
  group: {name}-models
  policy: {{metric: auc, min: 0.6}}
deploy: {{endpoint: {name}-ep, challenger_weight: 10}}
promote: {{when: {promote}}}
"""


def prepare(server: LiveServer, rows: int = 1500) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    server.client("lambda").create_function(
        FunctionName="cleaner",
        Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/alto",
        Handler="app.handler",
        Code={"ZipFile": zip_folder(CLEANER)},
        Environment={"Variables": {"RECODE": "income:>50K=1,<=50K=0"}},
        Timeout=120,
    )
    s3.put_object(
        Bucket=BUCKET, Key="raw/a.csv", Body=generated_csv(rows).encode(), Metadata={"columns": "age,job,hours,income"}
    )


def alto(server: LiveServer, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ALTO, "pipelines", *args, "--data-dir", str(server.data_dir)], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def server(tmp_path: Path) -> Any:
    with live_server(tmp_path / "data") as running:
        yield running


def test_a_run_through_the_cli_registers_gates_and_deploys_two_variants(server: LiveServer, tmp_path: Path) -> None:
    prepare(server)
    file = tmp_path / "p.yaml"
    file.write_text(pipeline_yaml("churn", promote="never"))

    done = alto(server, "run", str(file), "--wait", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    run = json.loads(done.stdout)
    assert run["state"] == "COMPLETED"
    steps = {s["step"]: s for s in run["steps"]}
    assert [s["state"] for s in run["steps"]] == ["COMPLETED"] * 6
    assert steps["source"]["lineage"]["objects"][0]["key"] == "raw/a.csv"
    assert steps["preprocess"]["lineage"]["invocations"]["raw/a.csv"]
    assert set(steps["train"]["lineage"]["models"]) == {"sgd", "auto"}
    assert steps["gate"]["lineage"]["stage"] == "prod"
    sm = server.client("sagemaker")
    packages = sm.list_model_packages(ModelPackageGroupName="churn-models")["ModelPackageSummaryList"]
    assert {p["ModelApprovalStatus"] for p in packages} == {"Approved", "PendingManualApproval"}
    endpoint = sm.describe_endpoint(EndpointName="churn-ep")
    assert endpoint["EndpointStatus"] == "InService"
    assert sorted(v["CurrentWeight"] for v in endpoint["ProductionVariants"]) == [10.0, 90.0]
    shown = alto(server, "show", run["run_id"])
    assert "gate" in shown.stdout and "COMPLETED" in shown.stdout
    listed = alto(server, "list")
    assert run["run_id"] in listed.stdout


def test_new_data_under_the_prefix_starts_another_run(server: LiveServer, tmp_path: Path) -> None:
    prepare(server, rows=800)
    file = tmp_path / "p.yaml"
    file.write_text(pipeline_yaml("fresh", promote="never").replace("name: fresh", "name: fresh\non_new_data: true"))
    first = json.loads(alto(server, "run", str(file), "--wait", "--json").stdout)
    assert first["state"] == "COMPLETED"

    server.client("s3").put_object(
        Bucket=BUCKET,
        Key="raw/b.csv",
        Body=generated_csv(400, seed=9).encode(),
        Metadata={"columns": "age,job,hours,income"},
    )

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = json.loads(alto(server, "list", "--json").stdout)
        later = [r for r in runs if r["run_id"] != first["run_id"]]
        if later and later[0]["state"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(1)
    assert later and later[0]["trigger"] == f"new data s3://{BUCKET}/raw/b.csv"
    assert later[0]["state"] == "COMPLETED", later[0]


def test_a_killed_run_resumes_from_its_last_finished_step(tmp_path: Path) -> None:
    env = {"ALTO_JOB_LEASE_SECONDS": "3"}
    file = tmp_path / "p.yaml"
    file.write_text(pipeline_yaml("crash"))
    with live_server(tmp_path / "data", env=env) as server:
        prepare(server, rows=6000)
        run_id = json.loads(alto(server, "run", str(file), "--json").stdout)["run_id"]
        with open_runs(server.data_dir) as runs:  # read in this process: quicker than a CLI call per look
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                train = runs.get(run_id).step("train")
                if train.state is State.INPROGRESS and "models" in train.lineage:
                    break  # the models are training: the kill lands mid-step
                time.sleep(0.02)
        server.kill()
        at_kill = json.loads(alto(server, "show", run_id, "--json").stdout)
        server.start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            run = json.loads(alto(server, "show", run_id, "--json").stdout)
            if run["state"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.5)
        endpoint = server.client("sagemaker").describe_endpoint(EndpointName="crash-ep")
    assert run["state"] == "COMPLETED", run
    # promote: immediately gives the challenger (here the runner-up, never gated) the traffic only if the gate
    # lets it into production; either way the variant serving everything is the registry's production version.
    promoted = {s["step"]: s for s in run["steps"]}["promote"]["lineage"]
    weights = {v["VariantName"]: v["CurrentWeight"] for v in endpoint["ProductionVariants"]}
    assert promoted["winner"] == f"v{promoted['prod']}" and weights[promoted["winner"]] == 100.0, (promoted, weights)
    finished = [s["step"] for s in at_kill["steps"] if s["state"] == "COMPLETED"]
    interrupted = [s["step"] for s in at_kill["steps"] if s["state"] == "INPROGRESS"]
    assert {"source", "preprocess"} <= set(finished) and len(interrupted) == 1
    attempts = {s["step"]: s["attempts"] for s in run["steps"]}
    assert all(attempts[step] == 1 for step in finished), attempts
    assert attempts[interrupted[0]] == 2, attempts
    # What finished before the crash was not done again: its lineage is the one recorded before the kill.
    before = {s["step"]: s["lineage"] for s in at_kill["steps"]}
    assert all({s["step"]: s["lineage"] for s in run["steps"]}[step] == before[step] for step in finished)
    assert any("(resumed)" in entry["message"] for entry in run["log"])
