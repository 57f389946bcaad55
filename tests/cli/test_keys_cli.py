"""`alto keys` against the metadata store of a data directory under tmp_path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from altostratus.cli.main import cli


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory, with no alto.toml or ALTO_* variable from the machine leaking in."""
    for name in [n for n in os.environ if n.startswith("ALTO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ALTO_CONFIG", str(tmp_path / "absent.toml"))
    return tmp_path / "data"


def alto(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["keys", *args, "--data-dir", str(data_dir)])


def create(data_dir: Path, *args: str) -> dict[str, str]:
    result = alto(data_dir, "create", "--json", *args)
    assert result.exit_code == 0, result.output
    created: dict[str, str] = json.loads(result.stdout)
    return created


def test_create_json_has_the_contract_names(data_dir: Path) -> None:
    key = create(data_dir)

    assert set(key) == {"AccessKeyId", "SecretAccessKey", "Role"}
    assert key["AccessKeyId"].startswith("AKIA")
    assert len(key["SecretAccessKey"]) >= 30
    assert key["Role"] == "admin"


def test_create_read_only_with_description(data_dir: Path) -> None:
    key = create(data_dir, "--role", "read-only", "--description", "ci bot")

    listed = json.loads(alto(data_dir, "list", "--json").stdout)["AccessKeys"]

    assert key["Role"] == "read-only"
    assert listed == [
        {
            "AccessKeyId": key["AccessKeyId"],
            "Role": "read-only",
            "UserName": None,
            "Description": "ci bot",
            "CreatedAt": listed[0]["CreatedAt"],
        }
    ]


def test_create_as_table_shows_the_secret_once(data_dir: Path) -> None:
    result = alto(data_dir, "create")

    assert result.exit_code == 0
    assert "SecretAccessKey" in result.stdout
    assert "shown only now" in result.stdout


def test_unknown_role_is_a_usage_error_naming_the_roles(data_dir: Path) -> None:
    result = alto(data_dir, "create", "--role", "root")

    assert result.exit_code == 2
    assert "'root' is not one of 'admin', 'read-only'" in result.output


def test_list_never_shows_secrets(data_dir: Path) -> None:
    keys = [create(data_dir), create(data_dir, "--role", "read-only")]

    table = alto(data_dir, "list")
    as_json = alto(data_dir, "list", "--json")

    for key in keys:
        assert key["AccessKeyId"] in table.stdout
        assert key["AccessKeyId"] in as_json.stdout
        assert key["SecretAccessKey"] not in table.stdout
        assert key["SecretAccessKey"] not in as_json.stdout
    assert [k["AccessKeyId"] for k in json.loads(as_json.stdout)["AccessKeys"]] == [k["AccessKeyId"] for k in keys]


def test_list_when_there_are_none(data_dir: Path) -> None:
    assert json.loads(alto(data_dir, "list", "--json").stdout) == {"AccessKeys": []}
    assert "alto keys create" in alto(data_dir, "list").stdout


def test_delete_removes_the_key(data_dir: Path) -> None:
    keep, gone = create(data_dir), create(data_dir)

    result = alto(data_dir, "delete", gone["AccessKeyId"])

    assert result.exit_code == 0
    listed = json.loads(alto(data_dir, "list", "--json").stdout)["AccessKeys"]
    assert [k["AccessKeyId"] for k in listed] == [keep["AccessKeyId"]]


def test_delete_unknown_key_fails_with_a_clear_message(data_dir: Path) -> None:
    result = alto(data_dir, "delete", "AKIADOESNOTEXIST0000")

    assert result.exit_code == 1
    assert result.stderr == "alto: NoSuchEntity: access key 'AKIADOESNOTEXIST0000' does not exist\n"
    assert "Traceback" not in result.output


def test_data_dir_comes_from_the_environment_too(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTO_DATA_DIR", str(data_dir))
    key = create(data_dir)

    result = CliRunner().invoke(cli, ["keys", "list", "--json"])

    assert [k["AccessKeyId"] for k in json.loads(result.stdout)["AccessKeys"]] == [key["AccessKeyId"]]
    assert (data_dir / "metadata.db").is_file()
