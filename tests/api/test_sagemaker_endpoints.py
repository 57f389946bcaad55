"""SageMaker endpoints through unmodified boto3 against a real `alto serve`: two predict models trained through
the Amazon ML API and registered in the model registry, served by endpoints with weighted, sticky and shadow
variants; InvokeEndpoint with CSV and JSON; weights, updates, outcomes from the lake, and bad input.

(The 10,000-request split check runs in-process: tests/deploy/test_variants_serving.py.)
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from altostratus.cli.main import cli
from altostratus.predict.artifacts import load_model
from altostratus.predict.predictor import Predictor
from tests.api.ml_data import wait
from tests.deploy.conftest import shuffled_labels_csv
from tests.deploy.test_variants_experiments import labelled_rows
from tests.live_server import LiveServer, live_server
from tests.predict.conftest import synthetic_csv

GROUP = "churn"


@dataclasses.dataclass
class Stack:
    """A live server with models `good` and `bad` hosted from registry versions, and boto3 clients."""

    server: LiveServer
    sagemaker: Any
    runtime: Any
    packages: dict[str, str]
    predictor: Predictor

    def endpoint(
        self, name: str, weights: dict[str, float], shadows: Sequence[str] = (), models: dict[str, str] | None = None
    ) -> None:
        """An InService endpoint: production variants {name: weight} and shadow variants (model `good` unless told)."""
        models = models or {}
        production = [
            {"VariantName": v, "ModelName": models.get(v, "good"), "InitialVariantWeight": w, "InitialInstanceCount": 1}
            for v, w in weights.items()
        ]
        config: dict[str, Any] = {"EndpointConfigName": f"{name}-config", "ProductionVariants": production}
        if shadows:
            config["ShadowProductionVariants"] = [
                {"VariantName": v, "ModelName": models.get(v, "good"), "InitialVariantWeight": 1.0} for v in shadows
            ]
        self.sagemaker.create_endpoint_config(**config)
        self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")
        self.sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig={"Delay": 1})


def deploy_stack(server: LiveServer, text: str) -> Stack:
    """Train `good` (on text) and `bad` (shuffled labels) through Amazon ML, register both, create their models."""
    s3, ml, sagemaker = server.client("s3"), server.client("machinelearning"), server.client("sagemaker")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="good.csv", Body=text.encode())
    s3.put_object(Bucket="data", Key="bad.csv", Body=shuffled_labels_csv(text).encode())
    for name in ("good", "bad"):
        spec = {"DataLocationS3": f"s3://data/{name}.csv", "DataSchema": '{"targetAttributeName": "y"}'}
        ml.create_data_source_from_s3(DataSourceId=f"{name}-data", DataSpec=spec)
        ml.create_ml_model(MLModelId=name, MLModelType="BINARY", TrainingDataSourceId=f"{name}-data")
    for name in ("good", "bad"):
        assert wait(ml.get_ml_model, MLModelId=name)["Status"] == "COMPLETED"
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    packages = {}
    for name in ("good", "bad"):
        package = sagemaker.create_model_package(ModelPackageGroupName=GROUP, SourceUri=f"ml-model:{name}")
        packages[name] = package["ModelPackageArn"]
        sagemaker.create_model(ModelName=name, PrimaryContainer={"ModelPackageName": packages[name]})
    number = packages["good"].rsplit("/", 1)[-1]
    artifact = s3.get_object(Bucket="alto-model-store", Key=f"{GROUP}/{number}/artifact")["Body"].read()
    return Stack(server, sagemaker, server.client("sagemaker-runtime"), packages, Predictor(load_model(artifact)))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with live_server(tmp_path_factory.mktemp("endpoints") / "data") as server:
        yield deploy_stack(server, synthetic_csv(400, seed=5))


def record_body(n: int = 0) -> bytes:
    record, _ = labelled_rows(n + 1, seed=41)[n]
    return json.dumps(record).encode()


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def stats(stack: Stack, endpoint: str) -> Any:
    result = CliRunner().invoke(
        cli, ["endpoints", "stats", endpoint, "--json", "--data-dir", str(stack.server.data_dir)]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def eventually(check: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_endpoint_lifecycle_and_descriptions(stack: Stack) -> None:
    started = time.monotonic()
    stack.endpoint("life", {"A": 90, "B": 10}, shadows=["S"], models={"B": "bad"})
    assert time.monotonic() - started < 5
    described = stack.sagemaker.describe_endpoint(EndpointName="life")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointArn"] == "arn:aws:sagemaker:us-east-1:000000000000:endpoint/life"
    assert [(v["VariantName"], v["CurrentWeight"], v["DesiredWeight"]) for v in described["ProductionVariants"]] == [
        ("A", 90.0, 90.0),
        ("B", 10.0, 10.0),
    ]
    assert described["ProductionVariants"][1]["DeployedImages"][0]["SpecifiedImage"] == stack.packages["bad"]
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["S"]
    config = stack.sagemaker.describe_endpoint_config(EndpointConfigName="life-config")
    assert config["ShadowProductionVariants"][0]["ModelName"] == "good"
    model = stack.sagemaker.describe_model(ModelName="bad")
    assert model["PrimaryContainer"]["ModelPackageName"] == stack.packages["bad"]
    assert "life" in [e["EndpointName"] for e in stack.sagemaker.list_endpoints(NameContains="lif")["Endpoints"]]
    with pytest.raises(ClientError) as caught:
        stack.sagemaker.create_endpoint(EndpointName="life", EndpointConfigName="life-config")
    assert error_of(caught)[:2] == ("ValidationException", 400)


def test_invoke_splits_by_weight_and_names_the_variant(stack: Stack) -> None:
    stack.endpoint("split", {"A": 90, "B": 10})
    counts = Counter(
        stack.runtime.invoke_endpoint(EndpointName="split", Body=record_body(), ContentType="application/json")[
            "InvokedProductionVariant"
        ]
        for _ in range(300)
    )
    assert set(counts) == {"A", "B"}
    # 300 draws: the share's standard error is 1.7 points; 6 points is 3.5 of them.
    assert abs(counts["B"] / 300 - 0.10) < 0.06


def test_session_target_and_headers(stack: Stack) -> None:
    stack.endpoint("sticky", {"A": 50, "B": 50})
    for session in range(20):
        seen = {
            stack.runtime.invoke_endpoint(EndpointName="sticky", Body=record_body(), SessionId=f"user-{session}")[
                "InvokedProductionVariant"
            ]
            for _ in range(5)
        }
        assert len(seen) == 1
    answer = stack.runtime.invoke_endpoint(
        EndpointName="sticky",
        Body=record_body(),
        TargetVariant="B",
        CustomAttributes="trace=42",
        InferenceId="inf-1",
        SessionId="NEW_SESSION",
    )
    assert answer["InvokedProductionVariant"] == "B"
    assert answer["CustomAttributes"] == "trace=42"
    assert answer["NewSessionId"].split("; Expires=")[1].endswith("Z")
    assert json.loads(answer["Body"].read())["predictedLabel"] in ("0", "1")


def test_csv_and_json_bodies(stack: Stack) -> None:
    stack.endpoint("formats", {"A": 1})
    rows = [record for record, _ in labelled_rows(3, seed=42)]
    csv_body = "".join(f"{r['x']},{r['color']},{r['note']}\n" for r in rows).encode()
    answer = stack.runtime.invoke_endpoint(
        EndpointName="formats", Body=csv_body, ContentType="text/csv", Accept="text/csv"
    )
    assert answer["ContentType"].startswith("text/csv")
    labels = answer["Body"].read().decode().splitlines()
    expected = [stack.predictor.predict(r)["predictedLabel"] for r in rows]
    assert labels == expected
    answer = stack.runtime.invoke_endpoint(
        EndpointName="formats", Body=json.dumps({"instances": rows}).encode(), ContentType="application/json"
    )
    assert answer["ContentType"] == "application/json"
    assert [p["predictedLabel"] for p in json.loads(answer["Body"].read())["predictions"]] == expected
    with pytest.raises(ClientError) as caught:
        stack.runtime.invoke_endpoint(EndpointName="formats", Body=b"1.0,red\n", ContentType="text/csv")
    code, status, message = error_of(caught)
    assert (code, status) == ("ModelError", 424)
    assert "CSV line 1 has 2 values; the model takes 3, in this order: x, color, note" in message
    with pytest.raises(ClientError) as caught:
        stack.runtime.invoke_endpoint(EndpointName="nowhere", Body=b"1")
    assert error_of(caught) == ("ValidationError", 400, "Endpoint nowhere of account 000000000000 not found.")


def test_shadow_sees_every_request_and_answers_none(stack: Stack) -> None:
    stack.endpoint("shadowed", {"A": 1}, shadows=["S"], models={"S": "bad"})
    answered = Counter(
        stack.runtime.invoke_endpoint(EndpointName="shadowed", Body=record_body())["InvokedProductionVariant"]
        for _ in range(30)
    )
    assert answered == {"A": 30}

    def shadow_counted() -> None:
        variants = {(v["variant"], v["shadow"]): v for v in stats(stack, "shadowed")["variants"]}
        assert variants[("S", True)]["requests"] == 30
        assert variants[("A", False)]["requests"] == 30

    eventually(shadow_counted)


def test_weight_update_changes_the_split(stack: Stack) -> None:
    stack.endpoint("reweigh", {"A": 50, "B": 50})
    stack.sagemaker.update_endpoint_weights_and_capacities(
        EndpointName="reweigh", DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": 0.0}]
    )
    variants = {
        stack.runtime.invoke_endpoint(EndpointName="reweigh", Body=record_body())["InvokedProductionVariant"]
        for _ in range(40)
    }
    assert variants == {"B"}
    described = stack.sagemaker.describe_endpoint(EndpointName="reweigh")
    assert {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]} == {"A": 0.0, "B": 50.0}
    with pytest.raises(ClientError) as caught:
        stack.sagemaker.update_endpoint_weights_and_capacities(
            EndpointName="reweigh", DesiredWeightsAndCapacities=[{"VariantName": "Z", "DesiredWeight": 1.0}]
        )
    assert "VariantName='Z' is not a production variant of endpoint 'reweigh'" in error_of(caught)[2]


def test_update_endpoint_to_a_new_config(stack: Stack) -> None:
    stack.endpoint("rolling", {"old": 1})
    stack.sagemaker.create_endpoint_config(
        EndpointConfigName="rolling-next", ProductionVariants=[{"VariantName": "new", "ModelName": "bad"}]
    )
    stack.sagemaker.update_endpoint(EndpointName="rolling", EndpointConfigName="rolling-next")
    stack.sagemaker.get_waiter("endpoint_in_service").wait(EndpointName="rolling", WaiterConfig={"Delay": 1})
    described = stack.sagemaker.describe_endpoint(EndpointName="rolling")
    assert described["EndpointConfigName"] == "rolling-next"
    answer = stack.runtime.invoke_endpoint(EndpointName="rolling", Body=record_body())
    assert answer["InvokedProductionVariant"] == "new"


def test_outcomes_dropped_into_the_lake_are_joined(stack: Stack) -> None:
    stack.endpoint("scored", {"A": 50, "B": 50}, models={"B": "bad"})
    truth = labelled_rows(200, seed=43)
    for n, (record, _) in enumerate(truth):
        stack.runtime.invoke_endpoint(EndpointName="scored", Body=json.dumps(record).encode(), InferenceId=f"o{n}")
    s3 = stack.server.client("s3")
    s3.create_bucket(Bucket="alto-outcomes")
    body = "InferenceId,label\n" + "".join(f"o{n},{label}\n" for n, (_, label) in enumerate(truth))
    s3.put_object(Bucket="alto-outcomes", Key="scored/batch-1.csv", Body=body.encode())

    def joined() -> dict[str, Any]:
        variants = {v["variant"]: v for v in stats(stack, "scored")["variants"]}
        assert variants["A"]["online"] is not None and variants["B"]["online"] is not None
        assert variants["A"]["online"]["outcomes"] + variants["B"]["online"]["outcomes"] == 200
        return variants

    variants = eventually(joined)
    assert variants["A"]["online"]["value"] > variants["B"]["online"]["value"]
    versus = variants["B"]["versus_champion"]
    assert versus["test"] in ("two-proportion z-test", "Fisher's exact test") and 0 <= versus["p_value"] <= 1


def test_deleting_a_model_in_use_is_refused(stack: Stack) -> None:
    stack.endpoint("guard", {"A": 1})
    with pytest.raises(ClientError) as caught:
        stack.sagemaker.delete_model(ModelName="good")
    code, status, message = error_of(caught)
    assert (code, status) == ("ResourceInUse", 400)
    assert "Deleting a model that an endpoint uses is refused" in message
    with pytest.raises(ClientError) as caught:
        stack.sagemaker.delete_model_package(ModelPackageName=stack.packages["good"])
    assert f"ModelPackage {stack.packages['good']} is in use by model good" in error_of(caught)[2]
    stack.sagemaker.delete_endpoint(EndpointName="guard")
    with pytest.raises(ClientError) as caught:
        stack.sagemaker.describe_endpoint(EndpointName="guard")
    assert error_of(caught)[0] == "ValidationException"


def test_cli_lists_describes_and_reweighs(stack: Stack) -> None:
    stack.endpoint("cli", {"A": 70, "B": 30})
    common = ["--endpoint-url", stack.server.endpoint, "--data-dir", str(stack.server.data_dir), "--json"]
    runner = CliRunner()
    listed = runner.invoke(cli, ["endpoints", "list", *common])
    assert listed.exit_code == 0, listed.output
    assert "cli" in [e["EndpointName"] for e in json.loads(listed.stdout)["Endpoints"]]
    changed = runner.invoke(cli, ["endpoints", "weights", "cli", "A=20", "B=80", *common])
    assert changed.exit_code == 0, changed.output
    weights = {v["VariantName"]: v["CurrentWeight"] for v in json.loads(changed.stdout)["ProductionVariants"]}
    assert weights == {"A": 20.0, "B": 80.0}
    described = runner.invoke(cli, ["endpoints", "describe", "cli", *common[:-1]])
    assert described.exit_code == 0, described.output
    assert "cli  InService  config cli-config" in described.stdout
