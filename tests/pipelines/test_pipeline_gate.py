"""A pipeline run whose candidate is worse than the champion: the gate refuses it and nothing serving changes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.deploy.conftest import shuffled_labels_csv
from tests.live_server import LiveServer
from tests.pipelines.test_pipeline_runs import BUCKET, alto, generated_csv, pipeline_yaml, prepare, server

__all__ = ["server"]  # the live-server fixture, used by name

ROWS = 1000
GROUP = "gated-models"


def worse_csv(rows: int) -> str:
    """The same rows with the labels of the training part (the first 70%) shuffled; the held-out 30% left clean."""
    lines = generated_csv(rows).splitlines()
    cut = rows * 7 // 10
    shuffled = shuffled_labels_csv("\n".join(["header", *lines[:cut]])).splitlines()[1:]
    return "\n".join([*shuffled, *lines[cut:]]) + "\n"


def test_a_candidate_worse_than_the_champion_is_refused_with_the_gates_reasons(
    server: LiveServer, tmp_path: Path
) -> None:
    prepare(server, rows=ROWS)
    file = tmp_path / "p.yaml"
    spec = pipeline_yaml("gated", promote="never")
    spec = spec.replace("    - {name: auto, algorithm: auto}\n", "")  # one candidate: a quicker run
    spec = spec.replace("{metric: auc, min: 0.6}", "{metric: auc, min: 0.55, max_drop_from_champion: 0.002}")
    file.write_text(spec)

    first = alto(server, "run", str(file), "--wait", "--json")
    assert first.returncode == 0, first.stdout + first.stderr
    champion_run = json.loads(first.stdout)
    assert champion_run["state"] == "COMPLETED", champion_run
    champion = {s["step"]: s for s in champion_run["steps"]}["gate"]["lineage"]
    assert champion["stage"] == "prod"
    sm = server.client("sagemaker")
    weights_before = sm.describe_endpoint(EndpointName="gated-ep")["ProductionVariants"]

    server.client("s3").put_object(
        Bucket=BUCKET, Key="raw/a.csv", Body=worse_csv(ROWS).encode(), Metadata={"columns": "age,job,hours,income"}
    )
    second = alto(server, "run", str(file), "--wait", "--json")
    assert second.returncode == 0, second.stdout + second.stderr
    run = json.loads(second.stdout)

    assert run["state"] == "COMPLETED", run  # a refusal ends the run, it does not fail it
    steps = {s["step"]: s for s in run["steps"]}
    assert [steps[s]["state"] for s in ("source", "preprocess", "train", "gate")] == ["COMPLETED"] * 4
    assert steps["deploy"]["state"] == steps["promote"]["state"] == "SKIPPED"
    gate = steps["gate"]["lineage"]
    assert gate["stage"] != "prod" and gate["previous_prod"] == champion["version"]
    assert gate["gate"]["passed"] is False
    failed = {c["name"]: c["message"] for c in gate["gate"]["checks"] if not c["passed"]}
    assert "max_drop_from_champion" in failed, gate["gate"]
    assert f"version {champion['version']}" in failed["max_drop_from_champion"]
    assert "gate refused" in run["message"] and failed["max_drop_from_champion"] in run["message"]
    assert failed["max_drop_from_champion"] in gate["decision"]

    packages = {
        p["ModelPackageVersion"]: p
        for p in sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    }
    assert packages[champion["version"]]["ModelApprovalStatus"] == "Approved"
    refused = sm.describe_model_package(ModelPackageName=gate["version_arn"])
    assert refused["ModelPackageVersion"] == gate["version"] != champion["version"]
    assert refused["ModelApprovalStatus"] == "PendingManualApproval"
    assert "refused" in refused["ApprovalDescription"]
    assert failed["max_drop_from_champion"] in refused["ApprovalDescription"]

    endpoint = sm.describe_endpoint(EndpointName="gated-ep")
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["ProductionVariants"] == weights_before  # same variants, same models, same weights
