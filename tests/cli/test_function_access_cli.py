"""`alto functions access`: set, show and clear a function's access policy on the data directory."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from altostratus.cli.main import cli
from altostratus.functions.definitions import LATEST, FunctionConfig
from altostratus.functions.registry import FunctionRegistry
from altostratus.storage.metadata import MetadataStore

POLICY = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reference/*"}]}


def with_function(data_dir: Path, name: str) -> None:
    store = MetadataStore(f"sqlite:///{data_dir / 'metadata.db'}")
    try:
        store.migrate()
        config = FunctionConfig(name, LATEST, "app.handler", "c2hh", 1, "functions/code/x.zip")
        FunctionRegistry(store).create(config, "AKIAFUNCTION", dt.datetime.now(dt.UTC))
    finally:
        store.close()


def access(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["functions", "access", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def test_set_show_and_clear(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    with_function(data_dir, "cleaner")
    assert access(data_dir, "show", "cleaner") == (
        0,
        "cleaner: no access policy (its key reaches its triggers' buckets and dead-letter location)\n",
    )

    code, output = access(data_dir, "set", "cleaner", json.dumps(POLICY), "--json")

    assert code == 0 and json.loads(output) == {"FunctionName": "cleaner", "Policy": POLICY}
    assert json.loads(access(data_dir, "show", "cleaner", "--json")[1])["Policy"] == POLICY
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(POLICY))
    assert (
        access(data_dir, "set", "arn:aws:lambda:us-east-1:000000000000:function:cleaner", "--file", str(policy_file))[0]
        == 0
    )
    assert json.loads(access(data_dir, "clear", "cleaner", "--json")[1]) == {"FunctionName": "cleaner", "Policy": None}


def test_a_policy_it_cannot_evaluate_or_an_unknown_function_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    with_function(data_dir, "cleaner")
    conditioned = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {}}]}

    code, output = access(data_dir, "set", "cleaner", json.dumps(conditioned))

    assert code == 1 and "MalformedPolicyDocument: Statement 1 has ['Condition']" in output
    assert "no access policy" in access(data_dir, "show", "cleaner")[1]
    code, output = access(data_dir, "set", "nosuch", json.dumps(POLICY))
    assert code == 1 and "ResourceNotFoundException: Function not found: nosuch" in output
    code, output = access(data_dir, "set", "cleaner")
    assert code == 2 and "give the policy as DOCUMENT or with --file" in output
