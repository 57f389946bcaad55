"""Image models through unmodified boto3 against a real `alto serve`: experiments trained by the server's workers
(`alto dl train`), registered with `SourceUri=dl-experiment:...`, judged by the gate, and served by an endpoint
with two variants at 50/50 and a shadow, answering PNG digits; bad bodies refused as SageMaker refuses them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from altostratus.cli.main import cli
from tests.deploy.test_image_models import b64_instances, digit_pngs
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow  # two experiments trained by the server (seconds each, more on a busy machine)

GATE = {"metric": "accuracy", "min": 0.8}


def alto(server: LiveServer, *args: str) -> Any:
    """Run an `alto` command on the server's data directory; its JSON output."""
    result = CliRunner().invoke(cli, [*args, "--json", "--data-dir", str(server.data_dir)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def eventually(check: Callable[[], Any], timeout: float = 20) -> Any:
    """The check's value once it stops failing its assertions."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


@pytest.fixture(scope="module")
def experiments(server: LiveServer) -> dict[str, str]:
    """`good` (a nearest neighbour) and `weak` (a linear classifier that learnt nothing), trained by the server."""
    weak_params = ["--param", "linear.epochs=1", "--param", "linear.learning_rate=1e-7"]
    queued = {
        "good": alto(server, "dl", "train", "builtin:digits", "--family", "nearest", "--name", "img-good", "--no-wait"),
        "weak": alto(server, "dl", "train", "builtin:digits", "--family", "linear", *weak_params, "--no-wait"),
    }
    ids = {name: experiment["ExperimentId"] for name, experiment in queued.items()}

    def trained() -> None:
        statuses = {e["ExperimentId"]: e["Status"] for e in alto(server, "dl", "list")}
        assert all(statuses[i] == "COMPLETED" for i in ids.values()), statuses

    eventually(trained, timeout=120)
    return ids


@pytest.fixture(scope="module")
def packages(server: LiveServer, experiments: dict[str, str]) -> dict[str, str]:
    """Both experiments registered in group `img-digits`; their model package ARNs."""
    sagemaker = server.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="img-digits")
    return {
        name: sagemaker.create_model_package(
            ModelPackageGroupName="img-digits", SourceUri=f"dl-experiment:{experiment}"
        )["ModelPackageArn"]
        for name, experiment in experiments.items()
    }


def approve(sagemaker: Any, arn: str) -> dict[str, Any]:
    """UpdateModelPackage Approved, then DescribeModelPackage until the gate has finished."""
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    def judged() -> dict[str, Any]:
        package: dict[str, Any] = sagemaker.describe_model_package(ModelPackageName=arn)
        assert package["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"] != "InProgress"
        return package

    return eventually(judged, timeout=60)  # type: ignore[no-any-return]


def test_image_models_are_registered_with_metrics_and_gated(server: LiveServer, experiments: dict[str, str]) -> None:
    sagemaker, s3 = server.client("sagemaker"), server.client("s3")
    sagemaker.create_model_package_group(ModelPackageGroupName="img-gated")
    sagemaker.put_model_package_group_policy(ModelPackageGroupName="img-gated", ResourcePolicy=json.dumps(GATE))
    arns = {
        name: sagemaker.create_model_package(ModelPackageGroupName="img-gated", SourceUri=f"dl-experiment:{e}")[
            "ModelPackageArn"
        ]
        for name, e in experiments.items()
    }
    described = sagemaker.describe_model_package(ModelPackageName=arns["good"])
    assert "image/png" in described["InferenceSpecification"]["SupportedContentTypes"]
    statistics = described["ModelMetrics"]["ModelQuality"]["Statistics"]
    bucket, key = statistics["S3Uri"].removeprefix("s3://").split("/", 1)
    metrics = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["metrics"]
    test_values = metrics[-1]["values"]
    assert test_values["accuracy"] > 0.95 and {"macro_f1", "f1:0", "f1:9"} <= set(test_values)
    assert metrics[0]["values"]["validation_accuracy"] > 0.9

    refused = approve(sagemaker, arns["weak"])
    assert refused["ModelApprovalStatus"] == "PendingManualApproval"
    assert "is below the minimum 0.8" in refused["ModelPackageStatusDetails"]["ValidationStatuses"][0]["FailureReason"]
    assert approve(sagemaker, arns["good"])["ModelApprovalStatus"] == "Approved"

    with pytest.raises(ClientError) as caught:
        sagemaker.create_model_package(ModelPackageGroupName="img-gated", SourceUri="dl-experiment:nothing")
    assert error_of(caught) == (
        "ValidationException",
        400,
        "SourceUri='dl-experiment:nothing': Experiment 'nothing' does not exist",
    )
    with pytest.raises(ClientError) as caught:
        sagemaker.create_model_package(
            ModelPackageGroupName="img-gated", SourceUri=f"dl-experiment:{experiments['good']}/cnn"
        )
    assert "has no trained family 'cnn'; expected one of ['nearest']" in error_of(caught)[2]


@pytest.fixture(scope="module")
def endpoint(server: LiveServer, packages: dict[str, str]) -> str:
    """Endpoint `img-ab`: variants good and weak at 50/50, and a shadow running the good model."""
    sagemaker = server.client("sagemaker")
    for name, arn in packages.items():
        sagemaker.create_model(ModelName=f"img-{name}", PrimaryContainer={"ModelPackageName": arn})
    production = [
        {"VariantName": name, "ModelName": f"img-{name}", "InitialVariantWeight": 50.0, "InitialInstanceCount": 1}
        for name in ("good", "weak")
    ]
    shadow = [{"VariantName": "shadow", "ModelName": "img-good", "InitialVariantWeight": 1.0}]
    sagemaker.create_endpoint_config(
        EndpointConfigName="img-ab-config", ProductionVariants=production, ShadowProductionVariants=shadow
    )
    sagemaker.create_endpoint(EndpointName="img-ab", EndpointConfigName="img-ab-config")
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName="img-ab", WaiterConfig={"Delay": 1})
    return "img-ab"


def test_an_ab_endpoint_answers_png_digits_from_both_variants_and_its_shadow(server: LiveServer, endpoint: str) -> None:
    runtime = server.client("sagemaker-runtime")
    images = digit_pngs(40, start=1200)
    answered: Counter[str] = Counter()
    good_hits = 0
    for image, label in images:
        answer = runtime.invoke_endpoint(EndpointName=endpoint, Body=image, ContentType="image/png")
        assert answer["ContentType"] == "application/json"
        (prediction,) = json.loads(answer["Body"].read())["predictions"]
        answered[answer["InvokedProductionVariant"]] += 1
        assert set(prediction["probabilities"]) == {str(digit) for digit in range(10)}
        good_hits += answer["InvokedProductionVariant"] == "good" and prediction["label"] == label
    assert set(answered) == {"good", "weak"} and good_hits >= 0.9 * answered["good"]

    several = runtime.invoke_endpoint(
        EndpointName=endpoint,
        Body=b64_instances([image for image, _ in images[:3]]),
        ContentType="application/json",
        TargetVariant="good",
    )
    assert len(json.loads(several["Body"].read())["predictions"]) == 3

    def counted() -> dict[tuple[str, bool], int]:
        report = alto(server, "endpoints", "stats", endpoint)
        found = {(v["variant"], v["shadow"]): v["requests"] for v in report["variants"]}
        assert found == {("good", False): answered["good"] + 1, ("weak", False): answered["weak"], ("shadow", True): 41}
        return found

    eventually(counted)


def test_bad_bodies_are_refused(server: LiveServer, endpoint: str) -> None:
    runtime = server.client("sagemaker-runtime")
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName=endpoint, Body=b"1,2,3\n", ContentType="text/csv")
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationError", 400) and "ContentType='text/csv'; expected one of" in message
    for body, content_type in ((b"not an image", "image/png"), (b'{"instances": [{"b64": "***"}]}', None)):
        with pytest.raises(ClientError) as caught:
            runtime.invoke_endpoint(
                EndpointName=endpoint,
                Body=body,
                TargetVariant="good",
                **({"ContentType": content_type} if content_type else {}),
            )
        code, status, message = error_of(caught)
        assert (code, status) == ("ModelError", 424) and "Received client error (400) from variant good" in message
