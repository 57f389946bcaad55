"""Fixtures for the functions service tests: the service over each database, with a fake runtime and pip.

The fakes stand in for the worker processes and for pip only here; tests/api/test_lambda_api.py runs the
real runtime and the real pip against a real server.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from altostratus.auth.keys import KeyStore
from altostratus.core.clock import SystemClock
from altostratus.core.errors import NotFound
from altostratus.functions.definitions import Invocation, Outcome, RunSpec
from altostratus.functions.dependencies import DependencyInstaller
from altostratus.functions.deployment import CodeDeployment
from altostratus.functions.packaging import CodeStore
from altostratus.functions.registry import FunctionRegistry
from altostratus.functions.service import FunctionsService
from altostratus.jobs.queue import JobQueue
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.metadata import MetadataStore
from tests.functions.wheels import make_zip

HELLO = make_zip({"app.py": "def handler(event, context):\n    return event\n"})


class FakeRuntime:
    """Answers every invocation with {"event": ..., "environment": ...}; the first run of a spec is cold."""

    def __init__(self) -> None:
        self.calls: list[tuple[RunSpec, Invocation]] = []
        self.retired: list[tuple[str, str | None]] = []
        self.fail_with: Exception | None = None
        self.function_error: str | None = None

    def run(self, spec: RunSpec, invocation: Invocation) -> Outcome:
        """Record the call and answer it."""
        if self.fail_with is not None:
            raise self.fail_with
        cold = all(s.pool_key != spec.pool_key for s, _ in self.calls)
        self.calls.append((spec, invocation))
        body: dict[str, Any]
        if self.function_error:
            body = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
        else:
            body = {"event": json.loads(invocation.payload), "environment": dict(spec.environment)}
        log = f"START RequestId: {invocation.request_id} Version: {spec.version}\nprinted\nEND\nREPORT\n"
        return Outcome(json.dumps(body).encode(), self.function_error, log, 1.5, cold, 40)

    def retire(self, function_name: str, version: str | None = None) -> None:
        """Record that the function's workers were retired."""
        self.retired.append((function_name, version))

    def shutdown(self) -> None:
        """Nothing to stop."""


class FakeInstaller(DependencyInstaller):
    """pip stood in for: a requirement named `missing` fails, anything else 'installs' as an empty folder."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.runs = 0

    def _pip(self, target: Path, requirements_file: Path) -> tuple[int, str]:
        self.runs += 1
        if "missing" in requirements_file.read_text():
            return 1, "ERROR: No matching distribution found for missing\n"
        target.mkdir()
        (target / "installed_dependency.py").write_text("VALUE = 1\n")
        return 0, "Successfully installed\n"


@dataclasses.dataclass
class Harness:
    """A FunctionsService and the parts a test looks behind it at."""

    service: FunctionsService
    registry: FunctionRegistry
    runtime: FakeRuntime
    installer: FakeInstaller
    jobs: JobQueue
    keys: KeyStore
    blobs: LocalBlobStore
    lake: dict[tuple[str, str], bytes]
    data_dir: Path

    def run_jobs(self) -> int:
        """Run every queued dependency install as the platform's workers would; how many ran."""
        ran = 0
        while (job := self.jobs.claim("test-worker", ["functions.install-dependencies"], 60)) is not None:
            self.jobs.complete(job.job_id, "test-worker", self.service.install_dependencies(job.payload))
            ran += 1
        return ran


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    """A FunctionsService over a fresh database (SQLite and PostgreSQL) with a fake runtime and pip."""
    store = MetadataStore(database_url)
    store.migrate()
    clock = SystemClock()
    blobs = LocalBlobStore(tmp_path / "blobs", fsync=False)
    lake: dict[tuple[str, str], bytes] = {}

    def read_lake(bucket: str, key: str) -> Iterator[bytes]:
        if (bucket, key) not in lake:
            error = NotFound("The specified key does not exist.")
            error.code = "NoSuchKey"
            raise error
        yield lake[bucket, key]

    installer = FakeInstaller(tmp_path / "functions" / "deps")
    jobs = JobQueue(store, clock)
    keys = KeyStore(store, clock)
    runtime = FakeRuntime()
    deployment = CodeDeployment(CodeStore(blobs, tmp_path / "functions" / "code"), installer, jobs, read_lake)
    registry = FunctionRegistry(store)
    service = FunctionsService(
        registry,
        deployment,
        runtime,
        keys,
        clock,
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:8340",
    )
    yield Harness(service, registry, runtime, installer, jobs, keys, blobs, lake, tmp_path)
    try:
        # A synchronous invoke's record is written by the registry's batching thread a moment later; flushing
        # waits for a write under way, so no connection is still checked out when the engine is disposed (one
        # returned to the disposed pool afterwards would be left open for the garbage collector).
        registry.close()
    finally:
        store.close()
