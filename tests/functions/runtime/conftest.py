"""Fixtures for the runtime tests: a ProcessRuntime, and functions written as tiny folders under tmp_path."""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from altostratus.functions.model import LATEST, Invocation, Outcome, RunSpec
from altostratus.functions.runtime import ProcessRuntime

from .helpers import Deploy, zombie_children


@pytest.fixture
def runtime() -> Iterator[ProcessRuntime]:
    """A runtime with the default caps, shut down after the test; no worker may be left a zombie."""
    before = set(zombie_children())
    with ProcessRuntime() as rt:
        yield rt
    assert not set(zombie_children()) - before, "a worker was left unreaped"


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
    ) -> RunSpec:
        name = name or f"fn-{uuid.uuid4().hex[:8]}"
        code_dir = tmp_path / name
        code_dir.mkdir()
        for filename, text in {"app.py": code, **(files or {})}.items():
            (code_dir / filename).write_text(textwrap.dedent(text))
        return RunSpec(name, LATEST, handler, code_dir, deps_dir, environment or {}, timeout, memory_mb)

    return write


@pytest.fixture
def invoke(runtime: ProcessRuntime) -> Callable[..., Outcome]:
    """Run one invocation with a JSON event (or raw payload bytes) and a fresh request id."""

    def call(spec: RunSpec, event: Any = None, *, payload: bytes | None = None, **fields: Any) -> Outcome:
        body = payload if payload is not None else json.dumps({} if event is None else event).encode()
        return runtime.run(spec, Invocation(str(uuid.uuid4()), body, **fields))

    return call
