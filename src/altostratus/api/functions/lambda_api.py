"""The Lambda API (boto3's `lambda` client, rest-json) over the FunctionsService: each handler parses, calls, wraps."""

from __future__ import annotations

import base64
import platform
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from altostratus.api.context import BodyLimit, Call
from altostratus.api.model_adapters import Handler, Limit, RestJsonAdapter, operation_handlers
from altostratus.core.errors import NotImplementedOperation
from altostratus.functions.definitions import (
    LATEST,
    MAX_ASYNC_PAYLOAD_BYTES,
    MAX_PAYLOAD_BYTES,
    FunctionConfig,
    FunctionState,
)
from altostratus.functions.deployment import CodeSource, LakeCode
from altostratus.functions.errors import InvalidFunctionParameter, PayloadTooLarge, RequestEntityTooLarge
from altostratus.functions.events import EventInvocations
from altostratus.functions.packaging import MAX_ZIPPED_BYTES
from altostratus.functions.registry import Alias
from altostratus.functions.service import FunctionsService

T = TypeVar("T")
DEFAULT_PAGE = 50
MAX_FUNCTIONS_PAGE = 50
LAST_UPDATE_STATUS = {"Pending": "InProgress", "Active": "Successful", "Failed": "Failed"}
# A function attached to subnets reports this VPC: the host's network, reached through the sandbox's uplink.
VPC_ID = "vpc-00000000"
ARCHITECTURE = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
# A request carrying code holds the zip base64-encoded (4 bytes for every 3) in a JSON document with a few
# more members; Lambda refuses such requests past 69,905,067 bytes, about the same.
CODE_REQUEST_BYTES = 4 * -(-MAX_ZIPPED_BYTES // 3) + 64 * 1024
SYNC_PAYLOAD = BodyLimit(MAX_PAYLOAD_BYTES, PayloadTooLarge)
EVENT_PAYLOAD = BodyLimit(MAX_ASYNC_PAYLOAD_BYTES, PayloadTooLarge, " with InvocationType=Event")


def invoke_limit(headers: Mapping[str, str]) -> BodyLimit:
    """Invoke's payload limit: 6 MiB, or 1 MiB for an Event (asynchronous) invocation."""
    return EVENT_PAYLOAD if headers.get("x-amz-invocation-type") == "Event" else SYNC_PAYLOAD


BODY_LIMITS: dict[str, Limit] = {
    "Invoke": invoke_limit,
    "CreateFunction": BodyLimit(CODE_REQUEST_BYTES, RequestEntityTooLarge),
    "UpdateFunctionCode": BodyLimit(CODE_REQUEST_BYTES, RequestEntityTooLarge),
}


def lambda_time(config: FunctionConfig) -> str:
    """LastModified as Lambda writes it: 2019-09-24T18:36:17.160+0000."""
    return config.last_modified.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


class LambdaApi:
    """Lambda's operations, one method each, named as boto3 names them."""

    def __init__(self, functions: FunctionsService, events: EventInvocations) -> None:
        self._functions = functions
        self._events = events

    def adapter(self) -> RestJsonAdapter:
        """The rest-json adapter serving these operations."""
        return RestJsonAdapter("lambda", self.handlers(), body_limits=BODY_LIMITS)

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler: this class's methods named as boto3 names Lambda's operations."""
        return operation_handlers(self, "lambda")

    # Functions

    def create_function(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateFunction."""
        if params.get("PackageType", "Zip") != "Zip":
            raise InvalidFunctionParameter(f"PackageType={params['PackageType']!r}; expected 'Zip'")
        if not params.get("Runtime") or not params.get("Handler"):
            raise InvalidFunctionParameter(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages."
            )
        config = self._functions.create(
            params["FunctionName"],
            handler=params["Handler"],
            code=_code_source(params["Code"], "Code."),
            runtime=params["Runtime"],
            role=params["Role"],
            description=params.get("Description", ""),
            timeout=params.get("Timeout", 3),
            memory=params.get("MemorySize", 128),
            environment=params.get("Environment", {}).get("Variables", {}),
            dead_letter_target=params.get("DeadLetterConfig", {}).get("TargetArn", ""),
            ephemeral_storage=params.get("EphemeralStorage", {}).get("Size", 512),
            vpc_config=params.get("VpcConfig"),
            publish=params.get("Publish", False),
        )
        return self._configuration(config)

    def get_function(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """GetFunction: the configuration; the code's location is not handed out (it is not in a bucket)."""
        config = self._functions.get(params["FunctionName"], params.get("Qualifier"))
        return {
            "Configuration": self._configuration(config, params.get("Qualifier")),
            "Code": {"RepositoryType": "S3"},
            "Tags": {},
        }

    def get_function_configuration(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """GetFunctionConfiguration."""
        config = self._functions.get(params["FunctionName"], params.get("Qualifier"))
        return self._configuration(config, params.get("Qualifier"))

    def list_functions(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListFunctions: $LATEST of each function (FunctionVersion=ALL: every version), 50 at most a page."""
        all_versions = params.get("FunctionVersion") == "ALL"
        configs = self._functions.functions(all_versions=all_versions)
        limit = min(params.get("MaxItems", MAX_FUNCTIONS_PAGE), MAX_FUNCTIONS_PAGE)
        page, marker = _page(configs, lambda c: f"{c.name}:{c.version}", params.get("Marker"), limit)
        shown = [self._configuration(c, c.version if all_versions else None) for c in page]
        return {"Functions": shown, "NextMarker": marker}

    def update_function_code(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateFunctionCode, from ZipFile or from the lake; with Publish, answers the new version."""
        if params.get("DryRun"):
            raise NotImplementedOperation("UpdateFunctionCode with DryRun=true is not implemented by this server")
        config = self._functions.update_code(
            params["FunctionName"],
            _code_source(params, ""),
            publish=params.get("Publish", False),
            revision_id=params.get("RevisionId"),
        )
        return self._configuration(config)

    def update_function_configuration(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateFunctionConfiguration: only the settings given change."""
        environment = params.get("Environment")
        dead_letter = params.get("DeadLetterConfig")
        storage = params.get("EphemeralStorage")
        config = self._functions.update_configuration(
            params["FunctionName"],
            revision_id=params.get("RevisionId"),
            handler=params.get("Handler"),
            runtime=params.get("Runtime"),
            role=params.get("Role"),
            description=params.get("Description"),
            timeout=params.get("Timeout"),
            memory=params.get("MemorySize"),
            environment=None if environment is None else environment.get("Variables", {}),
            dead_letter_target=None if dead_letter is None else dead_letter.get("TargetArn", ""),
            ephemeral_storage=None if storage is None else storage.get("Size"),
            vpc_config=params.get("VpcConfig"),
        )
        return self._configuration(config)

    def delete_function(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteFunction: the whole function, or with Qualifier one version."""
        self._functions.delete(params["FunctionName"], params.get("Qualifier"))
        return {"StatusCode": 204}

    def invoke(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """Invoke: RequestResponse runs and answers; Event queues and answers 202; DryRun only checks."""
        kind = params.get("InvocationType", "RequestResponse")
        name, qualifier = params["FunctionName"], params.get("Qualifier")
        if kind == "DryRun":
            self._functions.check_invocable(name, qualifier)
            return {"StatusCode": 204}
        if kind == "Event":
            self._events.submit(
                name,
                params.get("Payload") or b"",
                qualifier=qualifier,
                request_id=call.request_id,
                trace_id=call.headers.get("x-amzn-trace-id", ""),
            )
            return {"StatusCode": 202}
        result = self._functions.invoke(
            name,
            params.get("Payload") or b"",
            qualifier=qualifier,
            log_type=params.get("LogType"),
            client_context=params.get("ClientContext"),
            request_id=call.request_id,
        )
        return {
            "StatusCode": 200,
            "FunctionError": result.outcome.function_error,
            "LogResult": None if result.log_tail is None else base64.b64encode(result.log_tail).decode(),
            "ExecutedVersion": result.executed_version,
            "Payload": result.outcome.payload,
        }

    # Versions

    def publish_version(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """PublishVersion."""
        config = self._functions.publish_version(
            params["FunctionName"],
            code_sha256=params.get("CodeSha256"),
            description=params.get("Description"),
            revision_id=params.get("RevisionId"),
        )
        return self._configuration(config)

    def list_versions_by_function(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListVersionsByFunction: $LATEST, then the published versions by number."""
        versions = self._functions.versions(params["FunctionName"])
        page, marker = _page(versions, lambda c: c.version, params.get("Marker"), params.get("MaxItems", DEFAULT_PAGE))
        return {"Versions": [self._configuration(c, c.version) for c in page], "NextMarker": marker}

    # Aliases

    def create_alias(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateAlias."""
        alias = self._functions.create_alias(
            params["FunctionName"],
            params["Name"],
            params["FunctionVersion"],
            description=params.get("Description", ""),
            routing=params.get("RoutingConfig", {}).get("AdditionalVersionWeights"),
        )
        return self._alias(alias)

    def get_alias(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """GetAlias."""
        return self._alias(self._functions.get_alias(params["FunctionName"], params["Name"]))

    def list_aliases(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListAliases, optionally only those of one FunctionVersion."""
        aliases = self._functions.aliases(params["FunctionName"], version=params.get("FunctionVersion"))
        page, marker = _page(aliases, lambda a: a.name, params.get("Marker"), params.get("MaxItems", DEFAULT_PAGE))
        return {"Aliases": [self._alias(a) for a in page], "NextMarker": marker}

    def update_alias(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateAlias."""
        routing = params.get("RoutingConfig")
        alias = self._functions.update_alias(
            params["FunctionName"],
            params["Name"],
            version=params.get("FunctionVersion"),
            description=params.get("Description"),
            routing=None if routing is None else routing.get("AdditionalVersionWeights", {}),
            revision_id=params.get("RevisionId"),
        )
        return self._alias(alias)

    def delete_alias(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteAlias."""
        self._functions.delete_alias(params["FunctionName"], params["Name"])
        return {}

    # Shapes

    def _configuration(self, config: FunctionConfig, qualifier: str | None = None) -> dict[str, Any]:
        """FunctionConfiguration; the ARN carries the qualifier asked for, or the version if published."""
        shown_qualifier = qualifier or (None if config.version == LATEST else config.version)
        failed = config.state is FunctionState.FAILED
        return {
            "FunctionName": config.name,
            "FunctionArn": self._functions.arn(config.name, shown_qualifier),
            "Runtime": config.runtime,
            "Role": config.role,
            "Handler": config.handler,
            "CodeSize": config.code_size,
            "Description": config.description,
            "Timeout": config.timeout,
            "MemorySize": config.memory,
            "LastModified": lambda_time(config),
            "CodeSha256": config.code_sha256,
            "Version": config.version,
            "Environment": {"Variables": dict(config.environment)} if config.environment else None,
            "DeadLetterConfig": {"TargetArn": config.dead_letter_target} if config.dead_letter_target else None,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": config.revision_id,
            "State": config.state,
            "StateReason": config.state_reason or None,
            "StateReasonCode": config.state_reason_code or None,
            "LastUpdateStatus": LAST_UPDATE_STATUS.get(config.state, "Successful"),
            "LastUpdateStatusReason": config.state_reason if failed else None,
            "LastUpdateStatusReasonCode": config.state_reason_code if failed else None,
            "PackageType": "Zip",
            "Architectures": [ARCHITECTURE],
            "EphemeralStorage": {"Size": config.ephemeral_storage},
            "VpcConfig": {**config.vpc_config, "VpcId": VPC_ID} if config.vpc_config else None,
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{config.name}"},
        }

    def _alias(self, alias: Alias) -> dict[str, Any]:
        return {
            "AliasArn": self._functions.arn(alias.function_name, alias.name),
            "Name": alias.name,
            "FunctionVersion": alias.function_version,
            "Description": alias.description,
            "RoutingConfig": {"AdditionalVersionWeights": dict(alias.routing)} if alias.routing else None,
            "RevisionId": alias.revision_id,
        }


def _code_source(code: Mapping[str, Any], where: str) -> CodeSource:
    """The zip's bytes, or its place in the lake, from Code (CreateFunction) or the request (UpdateFunctionCode)."""
    if code.get("ImageUri"):
        raise InvalidFunctionParameter(f"{where}ImageUri is not supported; expected {where}ZipFile or S3Bucket/S3Key")
    if code.get("ZipFile") is not None:
        return bytes(code["ZipFile"])
    if code.get("S3Bucket") and code.get("S3Key"):
        return LakeCode(code["S3Bucket"], code["S3Key"])
    raise InvalidFunctionParameter(f"{where}ZipFile or both {where}S3Bucket and {where}S3Key are required")


def _page(
    items: Sequence[T], key: Callable[[T], str], marker: str | None, limit: int
) -> tuple[Sequence[T], str | None]:
    """One page of items after the one whose key is marker; the marker of the next page, or None."""
    start = 0
    if marker:
        keys = [key(item) for item in items]
        if marker not in keys:
            raise InvalidFunctionParameter(f"Marker={marker!r}; expected the NextMarker of an earlier answer")
        start = keys.index(marker) + 1
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, key(page[-1]) if more and page else None
