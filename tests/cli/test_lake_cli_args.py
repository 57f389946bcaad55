"""`alto lake` without a server: lake URLs, arguments, credentials, where copies land, error messages."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result

from altostratus.cli import lake, options
from altostratus.cli.main import cli
from altostratus.cli.output import CommandFailed


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ALTO_*, AWS_* variable or alto.toml from the machine leaks into a test."""
    for name in [n for n in os.environ if n.startswith(("ALTO_", "AWS_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ALTO_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("ALTO_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket", ("bucket", "")),
        ("s3://bucket/", ("bucket", "")),
        ("s3://bucket/key.txt", ("bucket", "key.txt")),
        ("s3://bucket/dir/sub/key.txt", ("bucket", "dir/sub/key.txt")),
        ("s3://bucket/dir/", ("bucket", "dir/")),
        ("s3://my.bucket-2/a b/ü.txt", ("my.bucket-2", "a b/ü.txt")),
        ("s3://bucket//double", ("bucket", "/double")),
    ],
)
def test_parse_lake_url(url: str, expected: tuple[str, str]) -> None:
    assert lake.parse_lake_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("bucket/key", "is not a lake URL; expected s3://BUCKET[/KEY]"),
        ("/tmp/file", "is not a lake URL"),
        ("", "is not a lake URL"),
        ("S3://bucket/key", "is not a lake URL"),
        ("s3:/bucket/key", "is not a lake URL"),
        ("http://bucket/key", "is not a lake URL"),
        ("s3://", "names no bucket"),
        ("s3:///key", "names no bucket"),
        ("s3://my bucket/key", "has characters [' ']"),
        ("s3://buck*et", "has characters ['*']"),
    ],
)
def test_parse_lake_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        lake.parse_lake_url(url)


def test_lake_url_round_trips() -> None:
    assert lake.lake_url("b") == "s3://b"
    assert lake.parse_lake_url(lake.lake_url("b", "dir/k")) == ("b", "dir/k")


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["lake", *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mb", "bucket"], "'bucket' is not a lake URL"),
        (["mb", "s3://bucket/key"], "names an object; expected s3://BUCKET"),
        (["rb", "s3://"], "names no bucket"),
        (["ls", "s3:///x"], "names no bucket"),
        (["rm", "s3://bucket"], "names no object; give a key, or add --recursive"),
        (["cp", "a.txt", "b.txt"], "SRC or DST must be an s3:// URL"),
        (["cp", "s3://bucket", "out/"], "names no object; give a key, or add --recursive"),
        (["cp", "s3://bucket/dir/", "out/"], "names no object"),
    ],
)
def test_bad_arguments_are_usage_errors(args: list[str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")

    result = run(*args)

    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_copying_a_directory_needs_recursive(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="is a directory; add --recursive"):
        lake.plan_transfers(None, str(tmp_path), "s3://b/", recursive=False)


def test_without_credentials_the_message_says_where_to_get_them() -> None:
    result = run("ls")

    assert result.exit_code == 1
    assert result.stderr.startswith("alto: no credentials:")
    assert "alto keys create" in result.stderr


def test_credentials_come_from_the_data_dir_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s3cret\n")

    assert options.client_kwargs({}, path) == {
        "aws_access_key_id": "AKIAFILE",
        "aws_secret_access_key": "s3cret",
    }


@pytest.mark.parametrize("variable", ["AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"])
def test_standard_aws_variables_win_over_the_file(tmp_path: Path, variable: str) -> None:
    path = tmp_path / "credentials"
    path.write_text("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s3cret\n")

    assert options.client_kwargs({variable: "x"}, path) == {}


def test_malformed_credentials_file_counts_as_none(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("not an ini file")

    with pytest.raises(CommandFailed, match="no credentials"):
        options.client_kwargs({}, path)


def test_local_files_land_under_the_prefix(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_bytes(b"12345")
    (tmp_path / "sub" / "b.json").write_bytes(b"{}")

    single = lake.plan_transfers(None, str(tmp_path / "a.txt"), "s3://b/dir/", recursive=False)
    renamed = lake.plan_transfers(None, str(tmp_path / "a.txt"), "s3://b/new.txt", recursive=False)
    tree = lake.plan_transfers(None, str(tmp_path), "s3://b/dir", recursive=True)

    assert single == [lake.Transfer(str(tmp_path / "a.txt"), "s3://b/dir/a.txt", 5)]
    assert renamed[0].destination == "s3://b/new.txt"
    assert [(t.destination, t.size) for t in tree] == [("s3://b/dir/a.txt", 5), ("s3://b/dir/sub/b.json", 2)]


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    """A real boto3 S3 client whose answers the test scripts."""
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:1",
        region_name="us-east-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="secret",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def list_page(*keys: str) -> dict[str, Any]:
    return {"Contents": [{"Key": k, "Size": 3} for k in keys], "IsTruncated": False}


def test_lake_objects_land_inside_a_local_folder(tmp_path: Path, stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("list_objects_v2", list_page("p/a.txt", "p/sub/", "p/sub/b.txt"))

    tree = lake.plan_transfers(client, "s3://b/p", str(tmp_path), recursive=True)

    assert [t.destination for t in tree] == [str(tmp_path / "a.txt"), str(tmp_path / "sub" / "b.txt")]


def test_object_names_cannot_escape_the_local_folder(tmp_path: Path, stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_response("list_objects_v2", list_page("p/../../etc/passwd"))

    with pytest.raises(CommandFailed, match="would land outside"):
        lake.plan_transfers(client, "s3://b/p/", str(tmp_path), recursive=True)


def test_missing_object_is_named(tmp_path: Path, stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("head_object", service_error_code="404", service_message="Not Found", http_status_code=404)

    with pytest.raises(CommandFailed, match=r"NoSuchKey: s3://b/gone\.txt does not exist"):
        lake.plan_transfers(client, "s3://b/gone.txt", str(tmp_path), recursive=False)


@pytest.fixture
def cli_client(stubbed: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch) -> Stubber:
    """The stubbed client, handed to every `alto lake` command."""
    client, stubber = stubbed
    monkeypatch.setattr(lake, "make_client", lambda endpoint_url, data_dir: client)
    return stubber


def test_server_errors_print_code_and_message(cli_client: Stubber) -> None:
    cli_client.add_client_error(
        "list_objects_v2", service_error_code="NoSuchBucket", service_message="The bucket does not exist"
    )

    result = run("ls", "s3://nope")

    assert result.exit_code == 1
    assert result.stderr == "alto: NoSuchBucket: The bucket does not exist\n"


def test_failed_upload_prints_the_server_error(tmp_path: Path, cli_client: Stubber) -> None:
    (tmp_path / "a.txt").write_text("abc")
    cli_client.add_client_error("put_object", service_error_code="AccessDenied", service_message="read-only key")

    result = run("cp", str(tmp_path / "a.txt"), "s3://b/")

    assert result.exit_code == 1
    assert result.stderr == "alto: AccessDenied: read-only key\n"


def test_missing_local_file_is_named(tmp_path: Path, cli_client: Stubber) -> None:
    result = run("cp", str(tmp_path / "nope.txt"), "s3://b/")

    assert result.exit_code == 1
    assert result.stderr == f"alto: No such file or directory: {tmp_path / 'nope.txt'}\n"


def test_upload_json_summary(tmp_path: Path, cli_client: Stubber) -> None:
    (tmp_path / "a.txt").write_text("abc")
    cli_client.add_response("put_object", {"ETag": '"900150983cd24fb0d6963f7d28e17f72"'})

    result = run("cp", str(tmp_path / "a.txt"), "s3://b/in/", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "Transfers": [{"Source": str(tmp_path / "a.txt"), "Destination": "s3://b/in/a.txt", "Bytes": 3}],
        "Objects": 1,
        "Bytes": 3,
    }


def test_recursive_rm_reports_what_it_deleted(cli_client: Stubber) -> None:
    cli_client.add_response("list_objects_v2", list_page("p/a", "p/b"))
    cli_client.add_response("delete_objects", {})

    result = run("rm", "s3://b/p", "--recursive", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"Deleted": ["s3://b/p/a", "s3://b/p/b"]}
