"""The json and rest-json protocol layers, driven by real boto3 against a real HTTP server.

Test-only handler tables stand in for services that later issues build; what is under test is the
wire: routing by X-Amz-Target and by requestUri, parameter decoding and validation from botocore's
models, output placement (status code, headers, payload), errors, signatures and roles.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import uvicorn
from botocore.config import Config
from botocore.exceptions import ClientError

from altostratus.api.context import Call
from altostratus.api.gateway import Gateway
from altostratus.api.model_adapters import JsonAdapter, RestJsonAdapter
from altostratus.api.sigv4 import Verifier
from altostratus.auth.keys import AccessKey, KeyStore, Role
from altostratus.core.clock import SystemClock
from altostratus.core.errors import NotFound
from altostratus.storage.metadata import MetadataStore
from tests.live_server import free_port


class FunctionNotFound(NotFound):
    """Function not found."""

    code = "ResourceNotFoundException"


def get_ml_model(params: dict[str, Any], call: Call) -> dict[str, Any]:
    if params["MLModelId"] == "missing":
        raise NotFound("No MLModel with that id")
    return {
        "MLModelId": params["MLModelId"],
        "Status": "COMPLETED",
        "CreatedAt": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "ScoreThreshold": 0.5,
    }


def predict(params: dict[str, Any], call: Call) -> dict[str, Any]:
    score = float(params["Record"].get("x", "0"))
    return {"Prediction": {"predictedLabel": "1" if score > 0.5 else "0", "predictedScores": {"1": score}}}


def invoke(params: dict[str, Any], call: Call) -> dict[str, Any]:
    if params["FunctionName"] != "echo":
        raise FunctionNotFound(f"Function not found: {params['FunctionName']}")
    status = {"Event": 202, "DryRun": 204}.get(params.get("InvocationType", ""), 200)
    body = json.dumps({"got": json.loads(params.get("Payload") or b"null")}).encode()
    return {"StatusCode": status, "Payload": body if status == 200 else None, "ExecutedVersion": "$LATEST"}


def get_function(params: dict[str, Any], call: Call) -> dict[str, Any]:
    return {"Configuration": {"FunctionName": params["FunctionName"], "MemorySize": 128}}


def list_functions(params: dict[str, Any], call: Call) -> dict[str, Any]:
    count = params.get("MaxItems", 3)
    return {"Functions": [{"FunctionName": f"f{i}"} for i in range(count)]}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, AccessKey, AccessKey]]:
    store = MetadataStore(f"sqlite:///{Path(tmp_path_factory.mktemp('gw')) / 'm.db'}")
    store.migrate()
    keys = KeyStore(store, SystemClock())
    admin, reader = keys.create(Role.ADMIN), keys.create(Role.READ_ONLY)
    app = Gateway(
        [
            JsonAdapter("machinelearning", {"GetMLModel": get_ml_model, "Predict": predict}),
            RestJsonAdapter("lambda", {"Invoke": invoke, "GetFunction": get_function, "ListFunctions": list_functions}),
        ],
        verifier=Verifier(keys.get, max_skew=dt.timedelta(minutes=15)),
        clock=SystemClock(),
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", admin, reader
    server.should_exit = True
    thread.join(10)
    store.close()


def client(
    gateway: tuple[str, AccessKey, AccessKey], service: str, *, key: AccessKey | None = None, validate: bool = True
) -> Any:
    url, admin, _ = gateway
    key = key or admin
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
    )


def test_json_protocol_routes_by_target_and_encodes_timestamps(gateway: Any) -> None:
    ml = client(gateway, "machinelearning")
    model = ml.get_ml_model(MLModelId="ml-1")
    assert model["MLModelId"] == "ml-1"
    assert model["Status"] == "COMPLETED"
    assert model["CreatedAt"] == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_predict_goes_to_the_predict_endpoint_url(gateway: Any) -> None:
    ml = boto3.client(
        "machinelearning",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id=gateway[1].access_key_id,
        aws_secret_access_key=gateway[1].secret_access_key,
    )
    out = ml.predict(MLModelId="m", Record={"x": "0.9"}, PredictEndpoint=gateway[0])
    assert out["Prediction"]["predictedLabel"] == "1"


def test_json_protocol_errors_have_type_and_message(gateway: Any) -> None:
    ml = client(gateway, "machinelearning")
    with pytest.raises(ClientError) as caught:
        ml.get_ml_model(MLModelId="missing")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "No MLModel" in caught.value.response["Error"]["Message"]


def test_json_protocol_validates_against_the_model(gateway: Any) -> None:
    ml = client(gateway, "machinelearning", validate=False)
    with pytest.raises(ClientError) as caught:
        ml.get_ml_model(MLModelId=42)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "MLModelId=42" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        ml.get_ml_model()
    assert "MLModelId is required" in caught.value.response["Error"]["Message"]


def test_operations_without_handlers_answer_not_implemented(gateway: Any) -> None:
    ml = client(gateway, "machinelearning")
    with pytest.raises(ClientError) as caught:
        ml.describe_ml_models()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_rest_json_payload_status_and_headers(gateway: Any) -> None:
    lam = client(gateway, "lambda")
    out = lam.invoke(FunctionName="echo", Payload=b'{"a": 1}')
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    assert json.loads(out["Payload"].read()) == {"got": {"a": 1}}
    assert lam.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202


def test_rest_json_uri_members_are_decoded_even_when_given_as_arn(gateway: Any) -> None:
    lam = client(gateway, "lambda")
    arn = "arn:aws:lambda:eu-west-1:000000000000:function:my-fn"
    assert lam.get_function(FunctionName=arn)["Configuration"]["FunctionName"] == arn


def test_rest_json_query_members_are_typed(gateway: Any) -> None:
    lam = client(gateway, "lambda")
    assert len(lam.list_functions(MaxItems=5)["Functions"]) == 5


def test_rest_json_errors_carry_the_error_type(gateway: Any) -> None:
    lam = client(gateway, "lambda")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="nope", Payload=b"{}")


def test_read_only_keys_may_read_but_not_write(gateway: Any) -> None:
    reader = client(gateway, "lambda", key=gateway[2])
    assert reader.get_function(FunctionName="x")["Configuration"]["MemorySize"] == 128
    with pytest.raises(ClientError) as caught:
        reader.invoke(FunctionName="echo", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_wrong_secret_is_refused_for_json_services(gateway: Any) -> None:
    url, admin, _ = gateway
    ml = boto3.client(
        "machinelearning",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key="wrong",
    )
    with pytest.raises(ClientError) as caught:
        ml.get_ml_model(MLModelId="x")
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_services_the_server_does_not_offer_are_refused(gateway: Any) -> None:
    polly = client(gateway, "polly")
    with pytest.raises(ClientError) as caught:
        polly.describe_voices()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_oversized_bodies_are_refused(gateway: Any) -> None:
    lam = client(gateway, "lambda")
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="echo", Payload=b"x" * (7 * 1024 * 1024))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
