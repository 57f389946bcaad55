"""`alto registry` end to end: the real command against a live server and its data directory."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.api.registry_data import train_models
from tests.live_server import LiveServer, free_port, live_server

from altostratus.cli.main import cli

GATE = '{"metric": "auc", "min": 0.7, "max_drop_from_champion": 0.002, "evaluation_datasource": "holdout"}'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve` for this module, with predict models `good` and `bad`."""
    with live_server(tmp_path_factory.mktemp("registry-cli") / "data") as running:
        train_models(running)
        yield running


def alto(server: LiveServer, *args: str, code: int = 0, remote: bool = True) -> Result:
    """Run `alto registry ARGS` against the server (remote) or on its data directory only."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ALTO_", "AWS_"))}
    env["AWS_CONFIG_FILE"] = os.devnull
    command, *rest = args
    where = ["--data-dir", str(server.data_dir)] + (["--endpoint-url", server.endpoint] if remote else [])
    if command == "policy":
        command, rest = f"policy {rest[0]}", rest[1:]
    result = CliRunner().invoke(cli, ["registry", *command.split(), *where, *rest], env=env)
    assert result.exit_code == code, f"alto registry {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_the_whole_story_through_the_cli(server: LiveServer) -> None:
    assert "No model package groups" in alto(server, "groups").output
    made = as_json(alto(server, "create-group", "churn", "--description", "churn models", "--json"))
    assert made["ModelPackageGroupArn"].endswith("model-package-group/churn")
    assert "churn models" in alto(server, "groups").output

    assert "churn: no policy set: the default gate" in alto(server, "policy", "show", "churn").output
    alto(server, "policy", "set", "churn", GATE)
    assert as_json(alto(server, "policy", "get", "churn", "--json"))["Policy"]["min"] == 0.7

    registered = alto(server, "register", "churn", "ml-model:good", "--description", "v1", "--metadata", "team=growth")
    assert "Registered arn:aws:sagemaker:us-east-1:000000000000:model-package/churn/1" in registered.output
    alto(server, "register", "churn", "ml-model:bad")
    shown = alto(server, "describe", "churn", "1").output
    assert "test (PendingManualApproval)" in shown and "s3://alto-model-store/churn/1/artifact" in shown
    assert "s3://registry-data/clean/data.csv" in shown and "evaluation:eval-good: auc=0.9" in shown

    promoted = alto(server, "promote", "churn", "1", "--reason", "first")
    assert "prod (Approved)" in promoted.output and "Promoted by the gate" in promoted.output
    between = dt.datetime.now(dt.UTC).isoformat()
    refused = alto(server, "promote", "churn", "2", code=1)
    assert "Promotion refused by the gate" in refused.output
    assert "alto: the gate refused churn version 2: auc 0.5" in refused.output

    versions = as_json(alto(server, "versions", "churn", "--json"))["ModelPackages"]
    assert [(v["ModelPackageVersion"], v["ModelApprovalStatus"]) for v in versions] == [
        (1, "Approved"),
        (2, "PendingManualApproval"),
    ]
    table = alto(server, "versions", "churn", "--stage", "prod").output
    assert "prod (Approved)" in table and "test" not in table

    alto(server, "reject", "churn", "2", "--reason", "noise")
    history = alto(server, "history", "churn", remote=False).output
    for event in ("registered", "promoted", "promotion-refused", "rejected"):
        assert event in history
    at = alto(server, "history", "churn", "--at", between, remote=False).output
    assert "churn: version 1 was in production at" in at
    early = as_json(alto(server, "history", "churn", "--at", "2000-01-01T00:00:00Z", "--json", remote=False))
    assert early["ProductionAt"]["Version"] is None


def test_rollback_and_its_errors(server: LiveServer) -> None:
    alto(server, "create-group", "rolls")
    for _ in range(2):
        alto(server, "register", "rolls", "ml-model:good")
    first = alto(server, "rollback", "rolls", remote=False, code=1)
    assert "has had no production version before this one" in first.output
    alto(server, "promote", "rolls", "1")
    alto(server, "promote", "rolls", "2")
    rolled = alto(server, "rollback", "rolls", "--reason", "errors up", remote=False)
    assert "rolls: version 1 is in production again (version 2 archived)." in rolled.output
    assert "rolled-back" in alto(server, "history", "rolls", remote=False).output

    assert "ConflictException" in alto(server, "delete-group", "rolls", code=1).output
    assert "expected 1 to 63 letters" in alto(server, "create-group", "bad_name", code=1).output
    assert "does not exist" in alto(server, "describe", "rolls", "9", code=1).output
    bad_policy = alto(server, "policy", "set", "rolls", '{"metric": "loss"}', code=1)
    assert "ValidationException: ResourcePolicy: policy metric='loss'" in bad_policy.output
    assert "give the policy" in alto(server, "policy", "set", "rolls", code=2).output
    alto(server, "policy", "set", "rolls", '{"metric": "accuracy"}')
    cleared = as_json(alto(server, "policy", "set", "rolls", "--clear", "--json"))
    assert cleared == {"Group": "rolls", "Policy": {}}
    # Over the API, so without a server it says so rather than write the data directory behind its back.
    gone = f"http://127.0.0.1:{free_port()}"
    offline = alto(server, "policy", "get", "rolls", "--endpoint-url", gone, remote=False, code=1)
    assert "is `alto serve` running?" in offline.output


def test_policy_from_a_file(server: LiveServer, tmp_path: Path) -> None:
    alto(server, "create-group", "filed")
    path = tmp_path / "policy.json"
    path.write_text(GATE)
    alto(server, "policy", "set", "filed", "--file", str(path))
    assert "evaluation_datasource" in alto(server, "policy", "get", "filed").output
