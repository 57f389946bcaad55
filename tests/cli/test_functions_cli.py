"""`alto functions deploy/list/get/invoke/logs/delete` end to end: the real `alto` command against a live server."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.functions.wheels import build_wheel
from tests.live_server import LiveServer, live_server

from altostratus.cli.main import cli


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve` for this module, installing requirements from a local wheelhouse only."""
    wheelhouse = tmp_path_factory.mktemp("wheels")
    build_wheel(wheelhouse, "altotiny", "1.0", "VALUE = 42\n")
    env = {"ALTO_FUNCTIONS_PIP_ARGS": f"--no-index --find-links {wheelhouse}"}
    with live_server(tmp_path_factory.mktemp("functions-cli") / "data", env=env) as running:
        yield running


def alto(server: LiveServer, tmp_path: Path, *args: str, ok: bool = True) -> Result:
    """Run `alto functions ARGS` in this process against the server, with its data directory's credentials."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ALTO_", "AWS_"))}
    env |= {"ALTO_CONFIG": str(tmp_path / "absent.toml"), "AWS_CONFIG_FILE": os.devnull}
    command, *rest = args
    where = ["--endpoint-url", server.endpoint, "--data-dir", str(server.data_dir)]
    result = CliRunner().invoke(cli, ["functions", command, *where, *rest], env=env)
    if ok:
        assert result.exit_code == 0, f"alto functions {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_deploy_invoke_logs_list_delete(server: LiveServer, tmp_path: Path) -> None:
    folder = tmp_path / "greeter"
    folder.mkdir()
    (folder / "app.py").write_text(
        "import os\nimport altotiny\n\n"
        "def handler(event, context):\n"
        "    print('greeting', event['name'])\n"
        "    return {'hello': event['name'], 'mode': os.environ['MODE'], 'value': altotiny.VALUE}\n"
    )
    (folder / "requirements.txt").write_text("altotiny==1.0\n")

    created = alto(
        server,
        tmp_path,
        "deploy",
        "greeter",
        str(folder),
        "--handler",
        "app.handler",
        "--timeout",
        "30",
        "--memory",
        "256",
        "--env",
        "MODE=test",
        "--json",
    )
    config = as_json(created)
    assert (config["State"], config["Timeout"], config["MemorySize"]) == ("Active", 30, 256)
    assert "is Pending while its requirements.txt installs" in created.stderr

    (tmp_path / "event.json").write_text('{"name": "Ada"}')
    invoked = as_json(alto(server, tmp_path, "invoke", "greeter", "--payload", f"@{tmp_path / 'event.json'}", "--json"))
    assert invoked["Payload"] == {"hello": "Ada", "mode": "test", "value": 42}
    assert "greeting Ada" in invoked["LogResult"]
    plain = alto(server, tmp_path, "invoke", "greeter", "--payload", '{"name": "Bo"}', "--log")
    assert json.loads(plain.stdout)["hello"] == "Bo"
    assert "greeting Bo" in plain.stderr

    (folder / "app.py").write_text("def handler(event, context):\n    raise KeyError('gone')\n")
    updated = alto(server, tmp_path, "deploy", "greeter", str(folder), "--handler", "app.handler")
    assert updated.stdout.startswith("updated: arn:aws:lambda:us-east-1:000000000000:function:greeter (Active")
    failed = alto(server, tmp_path, "invoke", "greeter", ok=False)
    assert failed.exit_code == 1
    assert failed.stderr.strip() == "alto: Unhandled error: KeyError: 'gone'"
    assert as_json(alto(server, tmp_path, "get", "greeter", "--json"))["Environment"] == {"Variables": {"MODE": "test"}}

    logs = as_json(alto(server, tmp_path, "logs", "greeter", "--limit", "2", "--json"))["Invocations"]
    assert any("KeyError" in line for line in logs[0]["Log"])
    assert any("greeting Bo" in line for line in logs[1]["Log"])
    assert logs[0]["Version"] == "$LATEST" and logs[0]["RequestId"]
    text = alto(server, tmp_path, "logs", "greeter").stdout
    assert text.count("=== ") == 3 and "greeting Ada" in text

    assert [f["FunctionName"] for f in as_json(alto(server, tmp_path, "list", "--json"))["Functions"]] == ["greeter"]
    assert "greeter" in alto(server, tmp_path, "list").stdout
    alto(server, tmp_path, "delete", "greeter")
    missing = alto(server, tmp_path, "get", "greeter", ok=False)
    assert missing.stderr.startswith("alto: ResourceNotFoundException: Function not found:")


def test_deploy_a_zip_that_fails_reports_why(server: LiveServer, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(e, c):\n    return 1\n")
    with zipfile.ZipFile(tmp_path / "code.zip", "w") as archive:
        archive.write(tmp_path / "app.py", "app.py")

    result = alto(
        server, tmp_path, "deploy", "broken", str(tmp_path / "code.zip"), "--handler", "main.handler", ok=False
    )

    assert result.exit_code == 1
    assert "alto: broken is Failed: Handler 'main.handler' names module 'main'" in result.stderr
    bad = alto(server, tmp_path, "deploy", "broken", str(tmp_path / "app.py"), "--handler", "app.handler", ok=False)
    assert "is neither a folder nor a .zip file" in bad.stderr
