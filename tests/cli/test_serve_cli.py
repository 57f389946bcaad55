"""`alto serve`: settings from flags and environment, the start-up banner, and a real start and stop."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner

from altostratus import app
from altostratus.app.sandboxes import Sandboxes
from altostratus.auth.keys import KeyStore, Role, write_credentials_file
from altostratus.cli import serve as serve_module
from altostratus.cli.main import cli
from altostratus.cli.options import LocalCredentials
from altostratus.cli.serve import banner
from altostratus.core.clock import SystemClock
from altostratus.core.settings import Settings
from altostratus.functions.runtime.process import unsandboxed_host
from altostratus.storage.metadata import MetadataStore


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ALTO_* variable or alto.toml from the machine leaks into a test."""
    for name in [n for n in os.environ if n.startswith("ALTO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ALTO_CONFIG", str(tmp_path / "absent.toml"))


def credentials() -> LocalCredentials:
    return LocalCredentials(Path("/d/credentials"), "AKIAEXAMPLE", "s3cret")


def test_banner_tells_where_and_how_to_connect() -> None:
    settings = Settings(data_dir=Path("/d"), port=9999)

    text = banner(settings, credentials(), key_exists=True)

    assert "listening on http://127.0.0.1:9999" in text
    assert "/d\n" in text
    assert "AKIAEXAMPLE" in text and "s3cret" in text
    assert 'endpoint_url="http://127.0.0.1:9999"' in text
    assert 'aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="s3cret", region_name="us-east-1"' in text
    aws = Path(sys.executable).with_name("aws")
    assert f"AWS_SHARED_CREDENTIALS_FILE=/d/credentials {aws} --endpoint-url http://127.0.0.1:9999 s3 ls" in text
    assert f"{sys.executable} -c 'import boto3" in text
    assert "WARNING" not in text


def test_banner_without_credentials_file_points_to_keys_create() -> None:
    text = banner(Settings(data_dir=Path("/d")), None, key_exists=False)

    assert "/d/credentials does not exist" in text
    assert "alto keys create" in text
    assert "boto3" not in text


def test_banner_warns_when_the_key_in_the_file_was_deleted() -> None:
    text = banner(Settings(data_dir=Path("/d")), credentials(), key_exists=False)

    assert "has been deleted" in text


def test_banner_warns_loudly_when_auth_is_off() -> None:
    text = banner(Settings(data_dir=Path("/d"), auth=False), credentials(), key_exists=True)

    assert "AUTHENTICATION IS OFF" in text


def test_banner_notes_listening_beyond_this_machine() -> None:
    text = banner(Settings(data_dir=Path("/d"), host="0.0.0.0"), credentials(), key_exists=True)

    assert "listening on http://127.0.0.1:8340" in text
    assert "other machines can reach this server" in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclasses.dataclass
class FakePlatform:
    """Records what serve does with the platform; keys are real, in the data directory."""

    settings: Settings
    keys: KeyStore
    store: MetadataStore
    calls: list[str] = dataclasses.field(default_factory=list)
    sandboxes: Sandboxes = dataclasses.field(
        default_factory=lambda: Sandboxes(None, None, unsandboxed_host(), "http://127.0.0.1:1")
    )

    def start(self) -> None:
        self.calls.append("start")

    def close(self) -> None:
        self.calls.append("close")
        self.store.close()


@pytest.fixture
def fake_platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Replace the platform and uvicorn's loop; yields [platform, uvicorn config] once serve has run."""
    seen: list[Any] = []

    def build_platform(settings: Settings) -> FakePlatform:
        store = MetadataStore(settings.resolved_database_url)
        store.migrate()
        platform = FakePlatform(settings, KeyStore(store, SystemClock()), store)
        seen.append(platform)
        return platform

    def run(server: uvicorn.Server, sockets: object = None) -> None:
        seen.append(server.config)

    monkeypatch.setattr(app, "build_platform", build_platform)
    monkeypatch.setattr(app, "create_asgi_app", lambda platform: "the app")
    monkeypatch.setattr(uvicorn.Server, "run", run)
    # Freezing this test process's objects would hide later tests' leaks from the collector's warnings.
    monkeypatch.setattr(serve_module, "freeze_startup_objects", lambda: None)
    yield seen


def test_serve_creates_the_first_key_and_runs_uvicorn(tmp_path: Path, fake_platform: list[Any]) -> None:
    port = free_port()

    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path), "--port", str(port)])

    assert result.exit_code == 0, result.output
    platform, config = fake_platform
    assert platform.calls == ["start", "close"]
    assert (config.app, config.host, config.port, config.lifespan) == ("the app", "127.0.0.1", port, "on")
    [key] = platform.keys.list()
    assert key.role is Role.ADMIN
    assert key.access_key_id in result.stdout
    assert key.secret_access_key in (tmp_path / "credentials").read_text()


def test_flags_override_the_environment(
    tmp_path: Path, fake_platform: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALTO_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("ALTO_HOST", "127.0.0.2")
    monkeypatch.setenv("ALTO_PORT", "1")
    port = free_port()

    result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--insecure-no-auth"])

    assert result.exit_code == 0, result.output
    platform, config = fake_platform
    assert platform.settings.data_dir == tmp_path / "from-env"
    assert (config.host, config.port) == ("127.0.0.2", port)
    assert platform.settings.auth is False
    assert "AUTHENTICATION IS OFF" in result.stdout


def test_restart_with_keys_made_another_way(tmp_path: Path, fake_platform: list[Any]) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    store.migrate()
    KeyStore(store, SystemClock()).create()
    store.close()

    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path), "--port", str(free_port())])

    assert result.exit_code == 0, result.output
    assert "credentials does not exist" in result.stdout
    assert not (tmp_path / "credentials").exists()


def test_restart_after_the_files_key_was_deleted(tmp_path: Path, fake_platform: list[Any]) -> None:
    store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    store.migrate()
    keys = KeyStore(store, SystemClock())
    old, _ = keys.create(), keys.create()
    write_credentials_file(tmp_path / "credentials", old)
    keys.delete(old.access_key_id)
    store.close()

    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path), "--port", str(free_port())])

    assert "has been deleted" in result.stdout


def test_a_taken_port_fails_before_the_banner(tmp_path: Path, fake_platform: list[Any]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path), "--port", str(port)])

    assert result.exit_code == 1
    assert result.stderr.startswith(f"alto: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert result.stdout == ""
    assert fake_platform == []


def test_serve_refuses_a_data_directory_others_may_write(tmp_path: Path, fake_platform: list[Any]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)

    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(data), "--port", str(free_port())])

    assert result.exit_code == 1
    assert result.stderr.startswith(f"alto: UnsafeDataDirectory: {data} is mode 0777: its group or other users")
    assert f"chmod -R go-rwx {data}" in result.stderr
    assert result.stdout == "" and fake_platform == []  # nothing built, nothing written
    assert list(data.iterdir()) == []


def test_serve_makes_an_older_versions_readable_data_directory_private(
    tmp_path: Path, fake_platform: list[Any]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = MetadataStore(f"sqlite:///{data / 'metadata.db'}")
    store.migrate()
    store.close()
    for path in (data, data / "metadata.db"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    umask = os.umask(0o022)
    os.umask(umask)

    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(data), "--port", str(free_port())])

    assert result.exit_code == 0, result.output
    assert f"alto: note: {data} was mode 0755, readable by other users" in result.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()} == {
        "metadata.db": 0o600,
        "credentials": 0o600,
    }
    assert os.umask(umask) == umask  # serve's umask of 077 ends with it


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_real_server_banner_through_a_pipe_works_as_printed(tmp_path: Path, stop: signal.Signals) -> None:
    port = free_port()
    alto = Path(sys.executable).with_name("alto")
    command = [str(alto), "serve", "--data-dir", str(tmp_path), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        snippet = next(line.strip() for line in lines if " -c 'import boto3" in line)
        printed = subprocess.run(snippet, shell=True, capture_output=True, text=True, timeout=60)
        assert printed.returncode == 0, printed.stderr
        assert "'Buckets': []" in printed.stdout
        aws_line = next(line.strip() for line in lines if "--endpoint-url" in line and " s3 ls" in line)
        listed = subprocess.run(aws_line, shell=True, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
    finally:
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
