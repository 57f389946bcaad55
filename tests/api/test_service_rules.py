"""Every operation of every served AWS service routes to that service, as botocore itself serializes it.

The requests are built by botocore's own serializers from each operation's model (with a value for every
required member), so a rule that sent one service's requests to another, or that depended on the order the
services are listed in, fails here for the exact operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import botocore.session
import pytest
from botocore.model import OperationModel, Shape
from botocore.serialize import create_serializer

from altostratus.api.gateway import Gateway
from altostratus.api.service_rules import ServiceRules
from altostratus.app import build_platform, create_asgi_app
from altostratus.core.errors import UnknownOperation
from altostratus.core.settings import Settings

SERVED = {
    "s3",
    "lambda",
    "logs",
    "machinelearning",
    "sagemaker",
    "sagemaker-runtime",
    "rekognition",
    "polly",
    "lexv2-runtime",
    "lexv2-models",
}
# Operations whose model gives them the same method, path and required members as another of the same
# service (S3's older names and its directory-bucket listing): the wire cannot tell the two apart.
SAME_ON_THE_WIRE = [
    {"PutBucketNotification", "PutBucketNotificationConfiguration"},
    {"GetBucketNotification", "GetBucketNotificationConfiguration"},
    {"PutBucketLifecycle", "PutBucketLifecycleConfiguration"},
    {"GetBucketLifecycle", "GetBucketLifecycleConfiguration"},
    {"ListBuckets", "ListDirectoryBuckets"},
]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("rules")
    settings = Settings.load({}, config_file=tmp / "absent.toml", data_dir=tmp / "data", functions_sandbox=False)
    platform = build_platform(settings)
    app = create_asgi_app(platform)
    assert isinstance(app, Gateway)
    yield app
    platform.close()


def sample(shape: Shape, depth: int = 0) -> Any:
    """A value of the shape that serializes: every required member, strings that fit a path segment."""
    kind = shape.type_name
    if kind == "structure":
        required = shape.metadata.get("required", [])
        return {name: sample(shape.members[name], depth + 1) for name in required if depth < 4}
    if kind == "list":
        return [sample(shape.member, depth + 1)]
    if kind == "map":
        return {"k": sample(shape.value, depth + 1)}
    if kind in ("integer", "long"):
        return 1
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return 0
    return shape.enum[0] if getattr(shape, "enum", None) else "x1"


def wire_request(service: str, operation: OperationModel) -> tuple[str, str, dict[str, str], dict[str, str]]:
    """Method, path, query and headers of the operation as botocore sends it."""
    params = sample(operation.input_shape) if operation.input_shape is not None else {}
    request = create_serializer(operation.metadata["protocol"], include_validation=False).serialize_to_request(
        params, operation
    )
    path, _, query_text = request["url_path"].partition("?")
    query = dict(parse_qsl(query_text, keep_blank_values=True))
    if isinstance(request["query_string"], dict):  # json protocols send none
        query.update({k: str(v) for k, v in request["query_string"].items()})
    headers = {k.lower(): str(v) for k, v in request["headers"].items()}
    return request["method"], path, query, headers


MODELS = {service: botocore.session.get_session().get_service_model(service) for service in sorted(SERVED)}


def operations() -> Iterator[tuple[str, str]]:
    for service, model in MODELS.items():
        for name in model.operation_names:
            yield service, name


def test_the_gateway_serves_the_services_expected(gateway: Gateway) -> None:
    assert set(gateway.services) == SERVED


@pytest.mark.parametrize(("service", "operation"), list(operations()), ids=lambda v: str(v))
def test_every_operation_routes_to_its_own_service(gateway: Gateway, service: str, operation: str) -> None:
    model = MODELS[service]
    op = model.operation_model(operation)
    method, path, query, headers = wire_request(service, op)
    signing = model.signing_name or model.endpoint_prefix
    adapter = gateway.adapter_for(signing, headers.get("x-amz-target"), path)
    assert adapter.service == service, f"{operation} went to {adapter.service}"
    routed = adapter.route(method, path, query, headers).operation
    assert routed == operation or any({routed, operation} <= same for same in SAME_ON_THE_WIRE)


class Stub:
    """A service as the rules see it."""

    def __init__(self, service: str, protocol: str, signing: str, target: str | None = None) -> None:
        self.service, self.protocol, self.signing_name, self.target_prefix = service, protocol, signing, target


def test_services_sharing_a_signing_name_must_be_told_apart() -> None:
    with pytest.raises(ValueError, match="cannot be told apart"):
        ServiceRules([Stub("lambda", "rest-json", "same"), Stub("polly", "rest-json", "same")])
    with pytest.raises(ValueError, match="X-Amz-Target prefix"):
        ServiceRules([Stub("logs", "json", "one", "T"), Stub("machinelearning", "json", "two", "T")])


def test_the_order_of_the_services_does_not_matter() -> None:
    stubs = [Stub("sagemaker", "json", "sagemaker", "SageMaker"), Stub("sagemaker-runtime", "rest-json", "sagemaker")]
    for listed in (stubs, stubs[::-1]):
        rules = ServiceRules(listed)
        assert rules.service("sagemaker", "SageMaker.ListEndpoints", "/").service == "sagemaker"
        assert rules.service("sagemaker", None, "/endpoints/e/invocations").service == "sagemaker-runtime"


def test_an_unknown_signing_name_is_refused() -> None:
    rules = ServiceRules([Stub("lambda", "rest-json", "lambda")])
    with pytest.raises(UnknownOperation, match="does not offer the service 'polly'"):
        rules.service("polly", None, "/v1/speech")


def test_http_handlers_may_not_overlap() -> None:
    class Handler:
        def __init__(self, prefix: str) -> None:
            self.path_prefix, self.signing_names = prefix, frozenset({None})

    ServiceRules([], [Handler("/api"), Handler("/console")])
    with pytest.raises(ValueError, match="overlap"):
        ServiceRules([], [Handler("/api"), Handler("/api/edge")])


def test_unsigned_requests_go_to_s3_or_to_the_service_they_name() -> None:
    rules = ServiceRules(
        [
            Stub("s3", "rest-xml", "s3"),
            Stub("logs", "json", "logs", "Logs_20140328"),
            Stub("lambda", "rest-json", "lambda"),
        ]
    )
    assert rules.service(None, None, "/bucket/key").service == "s3"
    assert rules.service(None, "Logs_20140328.GetLogEvents", "/").service == "logs"
    assert rules.service(None, None, "/2015-03-31/functions/f/invocations").service == "lambda"
