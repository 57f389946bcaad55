"""Deploying code: where a package comes from, where it is kept, and the state its contents give a function.

A version is Pending while its requirements.txt installs (a job on the platform's queue), Failed when the
install fails or the handler's module is missing, and Active otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from altostratus.core.errors import AltoError
from altostratus.functions.definitions import FunctionConfig, FunctionState
from altostratus.functions.dependencies import DependencyInstaller
from altostratus.functions.errors import DependencyInstallFailed, InvalidFunctionParameter, ResourceConflict
from altostratus.functions.packaging import (
    MAX_UNZIPPED_BYTES,
    REQUIREMENTS_FILE,
    CodePackage,
    CodeStore,
    handler_problem,
    inspect_zip,
    sha256_hex,
)
from altostratus.jobs.queue import JobQueue

DEPENDENCIES_JOB = "functions.install-dependencies"
PENDING_REASON = "The function is being created."

# (bucket, key) -> the object's bytes, in chunks; raises the lake's NoSuchBucket / NoSuchKey.
LakeReader = Callable[[str, str], Iterator[bytes]]


@dataclasses.dataclass(frozen=True)
class LakeCode:
    """Code to deploy from a zip in the lake (Code.S3Bucket / Code.S3Key)."""

    bucket: str
    key: str


# A zip's bytes, or where it lies in the lake.
CodeSource = bytes | LakeCode


class CodeDeployment:
    """Turns code sources into stored, unpacked packages with installed dependencies."""

    def __init__(
        self, code: CodeStore, dependencies: DependencyInstaller, jobs: JobQueue, lake_reader: LakeReader
    ) -> None:
        self._code = code
        self._dependencies = dependencies
        self._jobs = jobs
        self._lake_reader = lake_reader

    def package(self, code: CodeSource) -> CodePackage:
        """The checked package: from a zip's bytes (50 MB at most) or from the lake (250 MB at most)."""
        if isinstance(code, LakeCode):
            return inspect_zip(self._read_lake(code), max_zipped=MAX_UNZIPPED_BYTES)
        return inspect_zip(code)

    def with_code(self, config: FunctionConfig, package: CodePackage) -> FunctionConfig:
        """config running the package, which is now stored under a fresh blob key."""
        requirements_key = self._dependencies.key(package.requirements) if package.requirements else ""
        return dataclasses.replace(
            config,
            code_sha256=package.sha256,
            code_size=package.size,
            code_blob_key=self._code.put(package),
            requirements_key=requirements_key,
        )

    def settled(self, config: FunctionConfig, deps_dir: Path | None = None) -> FunctionConfig:
        """config with the state its code and dependencies give it: Pending, Failed (with why) or Active."""
        folders = [self.code_dir(config)]
        if config.requirements_key:
            if deps_dir is None and not self._dependencies.is_installed(config.requirements_key):
                return dataclasses.replace(
                    config, state=FunctionState.PENDING, state_reason=PENDING_REASON, state_reason_code="Creating"
                )
            folders.append(deps_dir or self._dependencies.folder(config.requirements_key))
        problem = handler_problem(config.handler, folders)
        if problem is not None:
            return dataclasses.replace(
                config, state=FunctionState.FAILED, state_reason=problem, state_reason_code="InvalidConfiguration"
            )
        return dataclasses.replace(config, state=FunctionState.ACTIVE, state_reason="", state_reason_code="")

    def queue_install_if_pending(self, config: FunctionConfig) -> None:
        """Submit the job that installs a Pending version's requirements (installing twice costs nothing)."""
        if config.state is not FunctionState.PENDING:
            return
        payload = {
            "function": config.name,
            "requirements_key": config.requirements_key,
            "requirements": self._requirements(config),
        }
        self._jobs.submit(DEPENDENCIES_JOB, payload, max_attempts=2)

    def install(self, payload: Mapping[str, Any]) -> tuple[Path | None, str]:
        """Install the requirements a job names: (their folder, "") or (None, why pip failed)."""
        try:
            return self._dependencies.install(str(payload["requirements_key"]), str(payload["requirements"])), ""
        except DependencyInstallFailed as failure:
            return None, str(failure)

    def code_dir(self, config: FunctionConfig) -> Path:
        """The version's unpacked code, unpacked first if this machine has not yet."""
        return self._code.unpacked(sha256_hex(config.code_sha256), config.code_blob_key)

    def deps_dir(self, config: FunctionConfig) -> Path | None:
        """The version's installed requirements (installed now if this machine lacks them), or None."""
        if not config.requirements_key:
            return None
        try:
            return self._dependencies.install(config.requirements_key, self._requirements(config))
        except DependencyInstallFailed as failure:
            raise ResourceConflict(f"The function's requirements could not be installed here: {failure}") from None

    def release(self, blob_keys: Iterable[str], code_sha256s: Iterable[str] = ()) -> None:
        """Drop code blobs, and the unpacked folders of code hashes (CodeSha256), that no version refers to any more."""
        for blob_key in blob_keys:
            self._code.delete(blob_key)
        for code_sha256 in code_sha256s:
            self._code.remove(sha256_hex(code_sha256))

    def _requirements(self, config: FunctionConfig) -> str:
        return (self.code_dir(config) / REQUIREMENTS_FILE).read_text()

    def _read_lake(self, code: LakeCode) -> bytes:
        data = bytearray()
        try:
            for chunk in self._lake_reader(code.bucket, code.key):
                data.extend(chunk)
                if len(data) > MAX_UNZIPPED_BYTES:
                    raise InvalidFunctionParameter(
                        f"s3://{code.bucket}/{code.key} is larger than {MAX_UNZIPPED_BYTES} bytes, "
                        "the most a code package may unzip to"
                    )
        except InvalidFunctionParameter:
            raise
        except AltoError as error:
            raise InvalidFunctionParameter(
                f"Error occurred while GetObject. S3 Error Code: {error.code}. S3 Error Message: {error.message}"
            ) from None
        return bytes(data)
