"""The functions service's nouns: function configurations, code packages, invocations and their outcomes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RUNTIME = "python3.11"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
# Lambda raised the Event (asynchronous) limit from 256 KB to 1 MB in October 2025 (Invoke's reference page).
MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
MAX_TIMEOUT = 900
MIN_MEMORY, MAX_MEMORY = 128, 10240
# Lambda's ephemeral storage (/tmp): 512 MB unless the function asks for up to 10,240 MB.
DEFAULT_EPHEMERAL = 512
MIN_EPHEMERAL, MAX_EPHEMERAL = 512, 10240
LATEST = "$LATEST"


class FunctionState(enum.StrEnum):
    """Where a function version is in its life (Lambda's State): its code and requirements ready or not."""

    PENDING = "Pending"
    ACTIVE = "Active"
    FAILED = "Failed"


class InvocationType(enum.StrEnum):
    """How Invoke runs a function."""

    REQUEST_RESPONSE = "RequestResponse"
    EVENT = "Event"
    DRY_RUN = "DryRun"


@dataclasses.dataclass(frozen=True)
class FunctionConfig:
    """One version of a function: its code and how to run it ($LATEST is the editable one)."""

    name: str
    version: str
    handler: str
    code_sha256: str
    code_size: int
    code_blob_key: str
    timeout: int = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)
    description: str = ""
    role: str = ""
    dead_letter_target: str = ""
    revision_id: str = ""
    last_modified: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.UTC))
    state: FunctionState = FunctionState.ACTIVE
    state_reason: str = ""
    state_reason_code: str = ""
    runtime: str = RUNTIME
    # The hash that names the installed requirements.txt in the dependency cache; "" when there is none.
    requirements_key: str = ""
    # EphemeralStorage.Size: the MB of the sandbox's private /tmp.
    ephemeral_storage: int = DEFAULT_EPHEMERAL
    # VpcConfig (SubnetIds, SecurityGroupIds): a function attached to a subnet has outbound network.
    vpc_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def outbound_network(self) -> bool:
        """Whether the function may reach the network beyond the platform's API (see sandbox/network.py)."""
        return bool(self.vpc_config.get("SubnetIds"))


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything a worker process needs to run one function version."""

    function_name: str
    version: str
    handler: str
    code_dir: Path
    deps_dir: Path | None
    environment: Mapping[str, str]
    timeout: float
    memory_mb: int
    ephemeral_mb: int = DEFAULT_EPHEMERAL
    outbound_network: bool = False
    # The access key id the function's requests must be signed with (its sandbox's API channel is bound to it).
    principal: str = ""

    @functools.cached_property
    def pool_key(self) -> tuple[str, str, str]:
        """Workers are shared only by invocations of the same function and version with the same configuration.

        Everything a worker was started with is in the key (code, environment, limits), so a warm worker never
        serves an invocation with an older configuration than the one asked for.
        """
        # Not dataclasses.asdict: its deep copies cost more than the rest of a warm invocation's bookkeeping.
        fields = [getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "environment"]
        described = repr((fields, sorted(self.environment.items())))
        return (self.function_name, self.version, hashlib.sha256(described.encode()).hexdigest())


@dataclasses.dataclass(frozen=True)
class Invocation:
    """One call of a function: the event and the identity the handler's context reports."""

    request_id: str
    payload: bytes
    client_context: str | None = None
    trace_id: str = ""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a run produced: the response payload or Lambda's error document, and the captured log."""

    payload: bytes
    function_error: str | None
    log: str
    duration_ms: float
    cold_start: bool
    max_memory_mb: int = 0

    @property
    def ok(self) -> bool:
        """Whether the handler returned normally."""
        return self.function_error is None


def error_document(message: str, error_type: str, stack: list[str] | None = None) -> dict[str, Any]:
    """Lambda's error payload shape: errorMessage, errorType, stackTrace (and requestId where known)."""
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}
