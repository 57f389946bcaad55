"""Checks of a function's settings, with Lambda's limits and messages that name the field and what is allowed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from altostratus.functions.dead_letters import TARGET_FORMS, is_valid_target
from altostratus.functions.definitions import (
    LATEST,
    MAX_EPHEMERAL,
    MAX_MEMORY,
    MAX_TIMEOUT,
    MIN_EPHEMERAL,
    MIN_MEMORY,
    RUNTIME,
)
from altostratus.functions.errors import InvalidFunctionParameter
from altostratus.functions.packaging import check_handler

# Handlers run on this server's Python; any python3.x Lambda names is accepted so existing templates deploy.
RUNTIMES = tuple(f"python3.{minor}" for minor in range(8, 16))
ENVIRONMENT_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
MAX_ENVIRONMENT_BYTES = 4 * 1024
# Set by the platform for every invocation, so a function may not set them itself (as in Lambda).
RESERVED_ENVIRONMENT = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "_HANDLER",
    }
)


def runtime(value: str) -> str:
    """value when it names a Python 3 runtime."""
    if value not in RUNTIMES:
        raise InvalidFunctionParameter(
            f"Runtime={value!r}; this server runs Python handlers: expected one of {list(RUNTIMES)} "
            f"(handlers run on the server's Python; {RUNTIME} matches it)"
        )
    return value


def handler(value: str) -> str:
    """value when it has the MODULE.FUNCTION form."""
    check_handler(value)
    return value


def timeout(value: int) -> int:
    """value when it is 1 to 900 seconds."""
    if not 1 <= value <= MAX_TIMEOUT:
        raise InvalidFunctionParameter(f"Timeout={value}; expected 1 to {MAX_TIMEOUT} seconds")
    return value


def memory(value: int) -> int:
    """value when it is 128 to 10240 MB."""
    if not MIN_MEMORY <= value <= MAX_MEMORY:
        raise InvalidFunctionParameter(f"MemorySize={value}; expected {MIN_MEMORY} to {MAX_MEMORY} MB")
    return value


def ephemeral_storage(value: int) -> int:
    """value when it is 512 to 10240 MB (EphemeralStorage.Size)."""
    if not MIN_EPHEMERAL <= value <= MAX_EPHEMERAL:
        raise InvalidFunctionParameter(f"EphemeralStorage.Size={value}; expected {MIN_EPHEMERAL} to {MAX_EPHEMERAL} MB")
    return value


def vpc_config(value: Mapping[str, Any]) -> dict[str, list[str]]:
    """VpcConfig's subnet and security group ids: any subnet gives the function outbound network here."""
    unknown = sorted(set(value) - {"SubnetIds", "SecurityGroupIds", "Ipv6AllowedForDualStack"})
    if unknown:
        raise InvalidFunctionParameter(f"VpcConfig has {unknown}; expected SubnetIds and SecurityGroupIds")
    if value.get("Ipv6AllowedForDualStack"):
        raise InvalidFunctionParameter(
            "VpcConfig.Ipv6AllowedForDualStack=true is not supported: a function's outbound network is IPv4 only"
        )
    checked = {}
    for field in ("SubnetIds", "SecurityGroupIds"):
        ids = list(value.get(field) or [])
        if len(ids) > 16 or not all(isinstance(i, str) and i for i in ids):
            raise InvalidFunctionParameter(f"VpcConfig.{field}={ids!r}; expected at most 16 non-empty ids")
        checked[field] = ids
    if checked["SecurityGroupIds"] and not checked["SubnetIds"]:
        raise InvalidFunctionParameter("VpcConfig.SecurityGroupIds is set without SubnetIds; give both or neither")
    return checked if checked["SubnetIds"] else {}


def environment(variables: Mapping[str, str]) -> dict[str, str]:
    """The variables when their names are valid, none is reserved and all fit in 4 KB."""
    bad = sorted(k for k in variables if not ENVIRONMENT_NAME.fullmatch(k))
    if bad:
        raise InvalidFunctionParameter(
            f"Environment.Variables has names {bad}; expected a letter then letters, digits and underscores"
        )
    reserved = sorted(RESERVED_ENVIRONMENT & set(variables))
    if reserved:
        raise InvalidFunctionParameter(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}"
        )
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in variables.items())
    if size > MAX_ENVIRONMENT_BYTES:
        raise InvalidFunctionParameter(
            "Lambda was unable to configure your environment variables because the environment variables "
            f"you have provided exceeded the 4KB limit. String measured: {size} bytes"
        )
    return {k: str(v) for k, v in variables.items()}


def dead_letter_target(arn: str) -> str:
    """arn when it is empty (no target) or a dead-letter target this platform accepts."""
    if arn and not is_valid_target(arn):
        raise InvalidFunctionParameter(f"DeadLetterConfig.TargetArn={arn!r}; expected {TARGET_FORMS}")
    return arn


def routing(primary: str, weights: Mapping[str, float]) -> dict[str, float]:
    """An alias's AdditionalVersionWeights: one other published version, with a weight from 0 to 1."""
    if not weights:
        return {}
    if len(weights) > 1:
        raise InvalidFunctionParameter(
            f"RoutingConfig.AdditionalVersionWeights has {len(weights)} versions; expected at most 1"
        )
    ((version, weight),) = weights.items()
    if LATEST in (primary, version):
        raise InvalidFunctionParameter(
            "RoutingConfig is only allowed between published versions; $LATEST may not take part"
        )
    if version == primary:
        raise InvalidFunctionParameter(
            f"RoutingConfig.AdditionalVersionWeights names version {version}, which is the alias's own "
            "FunctionVersion; expected another version"
        )
    if not 0.0 <= weight <= 1.0:
        raise InvalidFunctionParameter(
            f"RoutingConfig.AdditionalVersionWeights[{version!r}]={weight}; expected a weight from 0.0 to 1.0"
        )
    return {version: float(weight)}
