"""The SageMaker model registry with unmodified boto3 against a real server, on predict models trained there."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from altostratus.cli.main import cli
from tests.api.function_tools import create_function, eventually
from tests.api.registry_data import train_models
from tests.functions.wheels import make_zip
from tests.live_server import LiveServer, live_server

GATE = {
    "metric": "auc",
    "min": 0.7,
    "max_drop_from_champion": 0.002,
    "min_rows": 200,
    "evaluation_datasource": "holdout",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve` for this module, with predict models `good` and `bad` trained and `holdout` held out."""
    with live_server(tmp_path_factory.mktemp("registry-api") / "data") as running:
        train_models(running)
        yield running


@pytest.fixture(scope="module")
def read_only(server: LiveServer) -> dict[str, str]:
    """A read-only key made with `alto keys create` on the server's data directory."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ALTO_", "AWS_"))}
    made = CliRunner().invoke(
        cli, ["keys", "create", "--role", "read-only", "--json", "--data-dir", str(server.data_dir)], env=env
    )
    assert made.exit_code == 0, made.output
    key: dict[str, str] = json.loads(made.stdout)
    return key


@pytest.fixture
def sm(server: LiveServer) -> Any:
    """A boto3 sagemaker client signed with the admin key."""
    return server.client("sagemaker")


def fails(call: Any, code: str, **params: Any) -> str:
    """Run the call, expect the SageMaker error `code` with status 400; its message."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, 400), error
    return str(error["Error"]["Message"])


def alto(server: LiveServer, *args: str) -> Any:
    """Run an `alto registry` command on the server's data directory; its JSON output."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ALTO_", "AWS_"))}
    env["AWS_CONFIG_FILE"] = os.devnull
    result = CliRunner().invoke(cli, ["registry", *args, "--data-dir", str(server.data_dir), "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def approve(sm: Any, arn: str, **extra: Any) -> dict[str, Any]:
    """UpdateModelPackage Approved, then DescribeModelPackage until the gate has finished."""
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", **extra)
    deadline = time.monotonic() + 60
    while True:
        package: dict[str, Any] = sm.describe_model_package(ModelPackageName=arn)
        gate = package["ModelPackageStatusDetails"]["ValidationStatuses"][0]
        if gate["Status"] != "InProgress" or time.monotonic() > deadline:
            return package
        time.sleep(0.1)


def test_groups_are_created_described_listed_and_deleted(server: LiveServer, sm: Any) -> None:
    for name in ("churn-a", "churn-b", "other"):
        arn = sm.create_model_package_group(ModelPackageGroupName=name, ModelPackageGroupDescription=f"{name} models")
        assert arn["ModelPackageGroupArn"] == f"arn:aws:sagemaker:us-east-1:000000000000:model-package-group/{name}"
    described = sm.describe_model_package_group(ModelPackageGroupName="churn-a")
    assert described["ModelPackageGroupStatus"] == "Completed"
    assert described["CreatedBy"]["IamIdentity"]["PrincipalId"] == server.access_key
    assert described["ModelPackageGroupDescription"] == "churn-a models"

    first = sm.list_model_package_groups(NameContains="churn", MaxResults=1)
    second = sm.list_model_package_groups(NameContains="churn", MaxResults=1, NextToken=first["NextToken"])
    names = [g["ModelPackageGroupName"] for page in (first, second) for g in page["ModelPackageGroupSummaryList"]]
    assert names == ["churn-a", "churn-b"] and "NextToken" not in second
    newest = sm.list_model_package_groups(SortBy="CreationTime", SortOrder="Descending", NameContains="churn")
    assert [g["ModelPackageGroupName"] for g in newest["ModelPackageGroupSummaryList"]] == ["churn-b", "churn-a"]

    assert "already exists" in fails(
        sm.create_model_package_group, "ValidationException", ModelPackageGroupName="other"
    )
    message = fails(sm.describe_model_package_group, "ValidationException", ModelPackageGroupName="nope")
    assert (
        message == "ModelPackageGroup arn:aws:sagemaker:us-east-1:000000000000:model-package-group/nope does not exist."
    )
    sm.delete_model_package_group(ModelPackageGroupName="other")
    fails(sm.describe_model_package_group, "ValidationException", ModelPackageGroupName="other")


def test_a_version_is_registered_described_and_listed(server: LiveServer, sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName="described")
    arn = sm.create_model_package(
        ModelPackageGroupName="described",
        SourceUri="ml-model:good",
        ModelPackageDescription="baseline",
        CustomerMetadataProperties={"team": "growth"},
    )["ModelPackageArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:000000000000:model-package/described/1"
    package = sm.describe_model_package(ModelPackageName=arn)
    assert (package["ModelPackageVersion"], package["ModelApprovalStatus"]) == (1, "PendingManualApproval")
    assert package["ModelPackageStatus"] == "Completed" and package["SourceUri"] == "ml-model:good"
    assert package["CreatedBy"]["IamIdentity"]["PrincipalId"] == server.access_key
    assert package["CustomerMetadataProperties"] == {"team": "growth"}
    assert package["ModelPackageStatusDetails"]["ValidationStatuses"] == [
        {"Name": "promotion-gate", "Status": "NotStarted"}
    ]

    artifact_url = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert artifact_url == "s3://alto-model-store/described/1/artifact"
    card = json.loads(package["ModelCard"]["ModelCardContent"])
    details = card["additional_information"]["custom_details"]
    artifact = server.client("s3").get_object(Bucket="alto-model-store", Key="described/1/artifact")["Body"].read()
    assert hashlib.sha256(artifact).hexdigest() == details["artifact_sha256"]
    head = server.client("s3").head_object(Bucket="registry-data", Key="clean/data.csv")
    assert json.loads(details["training_data"]) == [
        {
            "bucket": "registry-data",
            "key": "clean/data.csv",
            "etag": head["ETag"],
            "size": head["ContentLength"],
            "version_id": "null",
        }
    ]
    assert card["training_details"]["training_job_details"]["training_datasets"] == [
        "s3://registry-data/clean/data.csv"
    ]
    metrics = card["evaluation_details"][0]
    assert metrics["name"] == "evaluation:eval-good" and metrics["datasets"] == ["holdout"]
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["S3Uri"] == "s3://alto-model-store/described/1/metrics.json"

    sm.create_model_package(ModelPackageGroupName="described", SourceUri="ml-model:bad")
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected", ApprovalDescription="old")
    listed = sm.list_model_packages(ModelPackageGroupName="described", MaxResults=1)
    assert [p["ModelPackageVersion"] for p in listed["ModelPackageSummaryList"]] == [1]
    rest = sm.list_model_packages(ModelPackageGroupName="described", NextToken=listed["NextToken"])
    assert [p["ModelPackageVersion"] for p in rest["ModelPackageSummaryList"]] == [2]
    rejected = sm.list_model_packages(ModelPackageGroupName="described", ModelApprovalStatus="Rejected")
    assert [p["ModelPackageArn"] for p in rejected["ModelPackageSummaryList"]] == [arn]
    assert sm.describe_model_package(ModelPackageName="described/1")["ApprovalDescription"] == "old"

    approved = {"ModelPackageGroupName": "described", "SourceUri": "ml-model:good", "ModelApprovalStatus": "Approved"}
    assert "through the promotion gate" in fails(sm.create_model_package, "ValidationException", **approved)
    missing = {"ModelPackageGroupName": "described", "SourceUri": "ml-model:nothing"}
    assert "MLModel 'nothing' does not exist" in fails(sm.create_model_package, "ValidationException", **missing)
    fails(sm.describe_model_package, "ValidationException", ModelPackageName="described/9")


def test_the_gate_refuses_a_worse_candidate_and_promotes_a_better_one(server: LiveServer, sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName="gated")
    sm.put_model_package_group_policy(ModelPackageGroupName="gated", ResourcePolicy=json.dumps(GATE))
    good = sm.create_model_package(ModelPackageGroupName="gated", SourceUri="ml-model:good")["ModelPackageArn"]
    bad = sm.create_model_package(ModelPackageGroupName="gated", SourceUri="ml-model:bad")["ModelPackageArn"]

    promoted = approve(sm, good, ApprovalDescription="first model")
    assert promoted["ModelApprovalStatus"] == "Approved"
    assert promoted["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"] == "Completed"
    assert promoted["ApprovalDescription"].startswith("Promoted by the gate: auc 0.9")

    refused = approve(sm, bad)
    assert refused["ModelApprovalStatus"] == "PendingManualApproval"
    gate = refused["ModelPackageStatusDetails"]["ValidationStatuses"][0]
    assert gate["Status"] == "Failed" and "is below the minimum 0.7" in gate["FailureReason"]
    assert "the champion's (version 1)" in gate["FailureReason"]
    assert refused["ApprovalDescription"].startswith("Promotion refused by the gate: auc 0.")

    approved = sm.list_model_packages(ModelPackageGroupName="gated", ModelApprovalStatus="Approved")
    assert [p["ModelPackageVersion"] for p in approved["ModelPackageSummaryList"]] == [1]
    history = alto(server, "history", "gated")
    assert [e["event"] for e in history["Events"]][-3:] == ["promoted", "promotion-requested", "promotion-refused"]
    assert history["Production"][0]["Version"] == 1 and history["Production"][0]["Until"] is None


def test_without_a_policy_the_gate_refuses_a_candidate_worse_than_the_champion(sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName="defaults")
    assert sm.get_model_package_group_policy(ModelPackageGroupName="defaults")["ResourcePolicy"] == "{}"
    good, bad, again = (
        sm.create_model_package(ModelPackageGroupName="defaults", SourceUri=f"ml-model:{model}")["ModelPackageArn"]
        for model in ("good", "bad", "good")
    )
    first = approve(sm, good)
    assert first["ModelApprovalStatus"] == "Approved"
    assert "no version in production: the first candidate passes" in first["ApprovalDescription"]

    refused = approve(sm, bad)
    assert refused["ModelApprovalStatus"] == "PendingManualApproval"
    reason = refused["ModelPackageStatusDetails"]["ValidationStatuses"][0]["FailureReason"]
    # Both are BINARY predict models: judged on auc, from their registered evaluations on the same held-out data.
    assert reason.startswith("auc 0.") and "vs the champion's (version 1) 0.9" in reason
    assert reason.endswith("below, more than the default allowance of 0")

    equal = approve(sm, again)  # as good as the champion is good enough
    assert equal["ModelApprovalStatus"] == "Approved"
    assert "within the default allowance of 0" in equal["ApprovalDescription"]


def test_the_gate_policy_is_the_groups_resource_policy(server: LiveServer, sm: Any, read_only: dict[str, str]) -> None:
    sm.create_model_package_group(ModelPackageGroupName="policed")
    put = sm.put_model_package_group_policy(ModelPackageGroupName="policed", ResourcePolicy=json.dumps(GATE))
    assert put["ModelPackageGroupArn"].endswith("model-package-group/policed")
    assert json.loads(sm.get_model_package_group_policy(ModelPackageGroupName="policed")["ResourcePolicy"]) == GATE

    iam = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]}
    message = fails(
        sm.put_model_package_group_policy,
        "ValidationException",
        ModelPackageGroupName="policed",
        ResourcePolicy=json.dumps(iam),
    )
    assert message.startswith("ResourcePolicy: policy fields ['Statement', 'Version'] are unknown")
    assert message.endswith("is its promotion gate's policy, not an IAM policy)")
    bad_metric = {"ModelPackageGroupName": "policed", "ResourcePolicy": '{"metric": "loss"}'}
    assert "policy metric='loss'; expected one of" in fails(
        sm.put_model_package_group_policy, "ValidationException", **bad_metric
    )
    missing = {"ModelPackageGroupName": "nowhere", "ResourcePolicy": "{}"}
    assert "model-package-group/nowhere does not exist" in fails(
        sm.put_model_package_group_policy, "ValidationException", **missing
    )

    # A read-only key may read the policy, and nothing more.
    reader = server.client("sagemaker", access_key=read_only["AccessKeyId"], secret_key=read_only["SecretAccessKey"])
    assert json.loads(reader.get_model_package_group_policy(ModelPackageGroupName="policed")["ResourcePolicy"]) == GATE
    for write in (
        lambda: reader.put_model_package_group_policy(ModelPackageGroupName="policed", ResourcePolicy="{}"),
        lambda: reader.delete_model_package_group_policy(ModelPackageGroupName="policed"),
    ):
        with pytest.raises(ClientError) as caught:
            write()
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert json.loads(sm.get_model_package_group_policy(ModelPackageGroupName="policed")["ResourcePolicy"]) == GATE

    sm.delete_model_package_group_policy(ModelPackageGroupName="policed")
    assert sm.get_model_package_group_policy(ModelPackageGroupName="policed")["ResourcePolicy"] == "{}"
    changes = [e for e in alto(server, "history", "policed")["Events"] if e["event"] == "policy-set"]
    assert [(e["actor"], e["details"]) for e in changes] == [(server.access_key, GATE), (server.access_key, None)]


def test_a_custom_check_runs_as_a_function(server: LiveServer, sm: Any) -> None:
    code = make_zip(
        {
            "app.py": (
                "def handler(event, context):\n"
                "    auc = event['candidate']['values']['auc']\n"
                "    where = event['candidate']['artifact']\n"
                "    reason = f'auc {auc:.3f} at {where} is below the board\\'s 0.999'\n"
                "    return {'pass': auc > 0.999, 'reasons': [reason]}\n"
            )
        }
    )
    lam = server.client("lambda")
    create_function(lam, "board-check", code)
    eventually(lambda: lam.get_function(FunctionName="board-check")["Configuration"]["State"] == "Active" or None)
    sm.create_model_package_group(ModelPackageGroupName="boarded")
    sm.put_model_package_group_policy(ModelPackageGroupName="boarded", ResourcePolicy='{"function": "board-check"}')
    arn = sm.create_model_package(ModelPackageGroupName="boarded", SourceUri="ml-model:good")["ModelPackageArn"]
    refused = approve(sm, arn)
    assert refused["ModelApprovalStatus"] == "PendingManualApproval"
    assert "function 'board-check' refused: auc 0.9" in refused["ApprovalDescription"]
    assert "at s3://alto-model-store/boarded/1/artifact is below the board's 0.999" in refused["ApprovalDescription"]


def test_a_corrupted_artifact_is_refused(server: LiveServer, sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName="tampered")
    arn = sm.create_model_package(ModelPackageGroupName="tampered", SourceUri="ml-model:good")["ModelPackageArn"]
    server.client("s3").put_object(Bucket="alto-model-store", Key="tampered/1/artifact", Body=b"not a model")
    refused = approve(sm, arn)
    assert refused["ModelApprovalStatus"] == "PendingManualApproval"
    assert (
        "tampered/1/artifact hashes to" in refused["ApprovalDescription"]
        and "refused" in refused["ApprovalDescription"]
    )


def test_racing_approvals_leave_exactly_one_approved_version(server: LiveServer, sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName="raced")
    arns = [
        sm.create_model_package(ModelPackageGroupName="raced", SourceUri="ml-model:good")["ModelPackageArn"]
        for _ in range(4)
    ]
    start = threading.Barrier(len(arns))

    def approve_one(arn: str) -> None:
        client = server.client("sagemaker")
        start.wait()
        client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    threads = [threading.Thread(target=approve_one, args=(arn,)) for arn in arns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    def gates_done() -> list[str] | None:
        packages = [sm.describe_model_package(ModelPackageName=arn) for arn in arns]
        gates = [p["ModelPackageStatusDetails"]["ValidationStatuses"][0]["Status"] for p in packages]
        return None if "InProgress" in gates else gates

    assert eventually(gates_done, timeout=60, interval=0.1) == ["Completed"] * 4
    # The statuses come from one ListModelPackages (one read of the store), not from the describes above:
    # a version read as Approved there may be replaced by one read after it, whose gate then ends Completed.
    listed = sm.list_model_packages(ModelPackageGroupName="raced")["ModelPackageSummaryList"]
    assert sorted(p["ModelApprovalStatus"] for p in listed) == ["Approved", "Rejected", "Rejected", "Rejected"]


def test_deleting_a_group_with_versions_is_refused(server: LiveServer, sm: Any) -> None:
    sm.create_model_package_group(ModelPackageGroupName="kept")
    arn = sm.create_model_package(ModelPackageGroupName="kept", SourceUri="ml-model:good")["ModelPackageArn"]
    message = fails(sm.delete_model_package_group, "ConflictException", ModelPackageGroupName="kept")
    assert message == "ModelPackageGroup 'kept' holds 1 model package version(s); delete them first"
    assert approve(sm, arn)["ModelApprovalStatus"] == "Approved"
    assert "is in production" in fails(sm.delete_model_package, "ConflictException", ModelPackageName=arn)
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    sm.delete_model_package(ModelPackageName=arn)
    sm.delete_model_package_group(ModelPackageGroupName="kept")
    fails(sm.describe_model_package_group, "ValidationException", ModelPackageGroupName="kept")


def test_rollback_through_the_cli_returns_the_previous_version(server: LiveServer, sm: Any, tmp_path: Path) -> None:
    sm.create_model_package_group(ModelPackageGroupName="rolled")
    arns = [
        sm.create_model_package(ModelPackageGroupName="rolled", SourceUri="ml-model:good")["ModelPackageArn"]
        for _ in range(2)
    ]
    for arn in arns:
        assert approve(sm, arn)["ModelApprovalStatus"] == "Approved"
    rolled = alto(server, "rollback", "rolled", "--reason", "latency")
    assert (rolled["Restored"], rolled["Archived"], rolled["Actor"]) == (1, 2, server.access_key)
    statuses = [sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] for arn in arns]
    assert statuses == ["Approved", "Rejected"]
    events = alto(server, "history", "rolled")["Events"]
    assert [(e["event"], e["version"], e["reason"]) for e in events[-2:]] == [
        ("rolled-back", 2, "latency"),
        ("restored", 1, "latency"),
    ]
