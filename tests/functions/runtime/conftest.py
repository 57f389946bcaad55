"""Fixtures for the runtime tests: a ProcessRuntime on each worker host, and functions as tiny folders under tmp_path.

Every test here runs twice: with each worker in a sandbox (the product's default) and with plain unsandboxed
workers (`--insecure-functions-unsandboxed`). Inside a sandbox a worker's own pid is 2, so handlers identify
their worker by a token made at import (see helpers.WORKER) and tests look at processes through the runtime.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from altostratus.core.settings import SANDBOX_UIDS, Settings
from altostratus.functions.definitions import LATEST, Invocation, Outcome, RunSpec
from altostratus.functions.runtime import ProcessRuntime, WorkerOptions
from altostratus.functions.runtime.host import WorkerHost
from altostratus.functions.runtime.process import WORKER_PROGRAM, unsandboxed_host
from altostratus.functions.sandbox import SandboxSupport, probe, sandbox_host

from .helpers import Deploy, zombie_children

MakeRuntime = Callable[..., ProcessRuntime]


@pytest.fixture(scope="session")
def sandbox_support() -> SandboxSupport:
    """What this machine allows, probed once."""
    return probe()


def make_host(kind: str, support: SandboxSupport) -> WorkerHost:
    """A worker host of this kind; the test is skipped, saying why, where sandboxes cannot be made."""
    if kind == "unsandboxed":
        return unsandboxed_host()
    if not support.ok:
        pytest.skip(f"sandboxes cannot be made here: {'; '.join(support.problems)}")
    base = Settings.load({}, data_dir=Path("/nonexistent")).functions_sandbox_uid_base
    return sandbox_host(
        support, Path(WORKER_PROGRAM), uid_base=base, uid_count=SANDBOX_UIDS, channels=None, outbound_for_all=False
    )


@pytest.fixture(params=["sandboxed", "unsandboxed"])
def host_kind(request: pytest.FixtureRequest) -> str:
    """Which worker host the test runs on."""
    return str(request.param)


@pytest.fixture
def make_runtime(host_kind: str, sandbox_support: SandboxSupport) -> Iterator[MakeRuntime]:
    """Build runtimes (with caps of the test's choosing) on the test's host; all are shut down after it."""
    made: list[ProcessRuntime] = []

    def build(**caps: Any) -> ProcessRuntime:
        runtime = ProcessRuntime(WorkerOptions(make_host(host_kind, sandbox_support)), **caps)
        made.append(runtime)
        return runtime

    before = set(zombie_children())
    yield build
    for runtime in made:
        runtime.shutdown()
    assert not set(zombie_children()) - before, "a worker was left unreaped"


@pytest.fixture
def runtime(make_runtime: MakeRuntime) -> ProcessRuntime:
    """A runtime with the default caps."""
    return make_runtime()


@pytest.fixture
def deploy(tmp_path: Path) -> Deploy:
    """Write `code` as app.py (plus any other files) into a fresh folder and return the function's RunSpec."""

    def write(
        code: str,
        *,
        handler: str = "app.handler",
        files: dict[str, str] | None = None,
        environment: dict[str, str] | None = None,
        timeout: float = 3.0,
        memory_mb: int = 128,
        deps_dir: Path | None = None,
        name: str | None = None,
        ephemeral_mb: int = 512,
    ) -> RunSpec:
        name = name or f"fn-{uuid.uuid4().hex[:8]}"
        code_dir = tmp_path / name
        code_dir.mkdir()
        for filename, text in {"app.py": code, **(files or {})}.items():
            (code_dir / filename).write_text(textwrap.dedent(text))
        return RunSpec(
            name, LATEST, handler, code_dir, deps_dir, environment or {}, timeout, memory_mb, ephemeral_mb=ephemeral_mb
        )

    return write


@pytest.fixture
def task_root(runtime: ProcessRuntime) -> Callable[[RunSpec], str]:
    """Where a function's code is, as its worker sees it (/var/task in a sandbox)."""
    return lambda spec: runtime.options.host.view(spec).task_root


@pytest.fixture
def invoke(runtime: ProcessRuntime) -> Callable[..., Outcome]:
    """Run one invocation with a JSON event (or raw payload bytes) and a fresh request id."""

    def call(spec: RunSpec, event: Any = None, *, payload: bytes | None = None, **fields: Any) -> Outcome:
        body = payload if payload is not None else json.dumps({} if event is None else event).encode()
        return runtime.run(spec, Invocation(str(uuid.uuid4()), body, **fields))

    return call
