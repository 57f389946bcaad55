"""The registry with real predict models: registration, the gate on held-out data, history, rollback, races."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import threading
from pathlib import Path

import pytest

from altostratus.deploy.errors import DoesNotExist, InConflict, InvalidValue
from altostratus.deploy.model_store import MODEL_STORE_BUCKET, ArtifactRefused
from altostratus.deploy.sources import training_objects
from altostratus.deploy.stages import EventKind, Stage
from altostratus.deploy.versions import GateStatus
from altostratus.lake.errors import NoSuchKey
from altostratus.lake.object_lock import ObjectLocked
from altostratus.lake.versions import Versioning
from tests.deploy.conftest import DATA_BUCKET, HOLDOUT, ROWS, TRAIN, RegistryHarness
from tests.predict.conftest import synthetic_csv
from tests.servers import postgres_database

GATE = {
    "metric": "auc",
    "min": 0.7,
    "max_drop_from_champion": 0.002,
    "min_rows": 200,
    "evaluation_datasource": "holdout",
}
RECORD = {"x": "1.2", "color": "red", "note": "good w3 w4"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_registering_records_the_artifact_the_data_the_parameters_and_the_metrics(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("record", actor="AKIDALICE", description="churn models")
    version = registry.register(
        "record", "ml-model:good", actor="AKIDALICE", description="first try", customer_metadata={"team": "growth"}
    )
    assert (version.version, version.stage, version.created_by) == (1, Stage.TEST, "AKIDALICE")
    assert version.customer_metadata == {"team": "growth"} and version.gate_status is GateStatus.NOT_STARTED

    stored = b"".join(harness.lake.read(harness.lake.head("alto-model-store", "record/1/artifact")))
    model = harness.predict.get_model("good")
    assert model.artifact_key is not None
    assert stored == b"".join(harness.blobs.read(model.artifact_key))
    assert hashlib.sha256(stored).hexdigest() == version.artifact_sha256 and version.artifact_size == len(stored)
    assert registry.artifact_location(version) == "s3://alto-model-store/record/1/artifact"

    training = harness.lake.head("training", "clean/data.csv")
    assert version.training_data["datasource_id"] == "train-good"
    assert version.training_data["location"] == "s3://training/clean/data.csv"
    assert version.training_data["objects"] == [
        {
            "bucket": "training",
            "key": "clean/data.csv",
            "etag": training.etag,
            "size": training.size,
            "version_id": "null",
        }
    ]
    assert version.parameters["training_parameters"]["sgd.maxPasses"] == "10"
    assert version.parameters["model_type"] == "BINARY" and version.source["model_id"] == "good"
    [metrics] = version.metrics
    assert metrics["source"] == "evaluation:eval-good" and metrics["records"] == 300 and metrics["values"]["auc"] > 0.9

    statistics = (version.model_metrics or {})["ModelQuality"]["Statistics"]
    document = b"".join(harness.lake.read(harness.lake.head("alto-model-store", "record/1/metrics.json")))
    assert statistics["S3Uri"] == "s3://alto-model-store/record/1/metrics.json"
    assert statistics["ContentDigest"] == f"sha256:{hashlib.sha256(document).hexdigest()}"
    assert json.loads(document)["metrics"] == [metrics]

    assert registry.register("record", "ml-model:bad", actor="AKIDBOB").version == 2
    registry.create_group("record-other", actor="AKIDALICE")
    assert registry.register("record-other", "ml-model:bad", actor="AKIDBOB").version == 1
    history = registry.history("record")
    assert [(e.event, e.version, e.to_stage, e.actor) for e in history] == [
        (EventKind.GROUP_CREATED, None, None, "AKIDALICE"),
        (EventKind.REGISTERED, 1, Stage.TEST, "AKIDALICE"),
        (EventKind.REGISTERED, 2, Stage.TEST, "AKIDBOB"),
    ]


def test_bad_registrations_are_refused(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("refusals", actor="alice")
    with pytest.raises(InvalidValue, match="Model Package Group already exists"):
        registry.create_group("refusals", actor="alice")
    with pytest.raises(InvalidValue, match="expected 1 to 63 letters"):
        registry.create_group("not_allowed", actor="alice")
    with pytest.raises(DoesNotExist, match="model-package-group/nowhere does not exist"):
        registry.register("nowhere", "ml-model:good", actor="alice")
    with pytest.raises(InvalidValue, match="MLModel 'missing' does not exist"):
        registry.register("refusals", "ml-model:missing", actor="alice")
    with pytest.raises(InvalidValue, match="expected ml-model:<MLModelId> or s3://bucket/key"):
        registry.register("refusals", "file:///tmp/model.bin", actor="alice")
    with pytest.raises(InvalidValue, match="there is no such object in the lake"):
        registry.register("refusals", "s3://training/missing.bin", actor="alice")
    with pytest.raises(InvalidValue, match="evaluation_datasource='nothing': there is no such DataSource"):
        registry.set_policy("refusals", {"metric": "auc", "evaluation_datasource": "nothing"}, actor="alice")
    with pytest.raises(DoesNotExist, match="model-package/refusals/9 does not exist"):
        registry.get_version("refusals", 9)
    # An object in the lake whose bytes no longer match its ETag is refused on copy.
    url = harness.put("training", "artifacts/rotten.bin", b"model bytes")
    info = harness.lake.head("training", "artifacts/rotten.bin")
    harness.overwrite_stored(info, b"model bytez")
    with pytest.raises(ArtifactRefused, match="does not match its ETag"):
        registry.register("refusals", url, actor="alice")
    assert registry.list_versions("refusals").items == []


def test_the_gate_refuses_a_worse_candidate_and_promotes_a_better_one(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("gate", actor="alice", policy=GATE)
    for model in ("medium", "bad", "good"):
        registry.register("gate", f"ml-model:{model}", actor="alice")
    before = now()

    first = harness.promote("gate", 1, reason="first model")
    assert (first.stage, first.gate_status) == (Stage.PROD, GateStatus.COMPLETED)
    assert first.approval_description.startswith("Promoted by the gate: auc 0.8")
    assert "no version in production" in first.approval_description
    between = now()

    refused = harness.promote("gate", 2, actor="bob")
    assert (refused.stage, refused.gate_status) == (Stage.TEST, GateStatus.FAILED)
    report = refused.gate_report or {}
    assert (
        report["candidate"]["source"] == f"evaluation {report['candidate']['source'].split()[1]} on datasource holdout"
    )
    assert report["champion"]["version"] == 1 and report["candidate"]["records"] == 300
    assert any("is below the minimum 0.7" in reason for reason in report["reasons"])
    assert any("the champion's (version 1)" in reason and "more than" in reason for reason in report["reasons"])
    assert refused.approval_description.startswith("Promotion refused by the gate: auc 0.5")
    assert registry.prod_version("gate").version == 1  # type: ignore[union-attr]

    better = harness.promote("gate", 3, actor="carol", reason="fresher data")
    assert better.stage is Stage.PROD and registry.get_version("gate", 1).stage is Stage.ARCHIVED
    champion = (better.gate_report or {})["champion"]
    assert champion["version"] == 1 and champion["source"].endswith("on datasource holdout")
    assert [v.version for v in registry.list_versions("gate", stage=Stage.PROD).items] == [3]
    assert registry.get_group("gate").prod_version == 3

    moves = [(e.event, e.version, e.from_stage, e.to_stage, e.actor) for e in registry.history("gate")][4:]
    assert moves == [
        (EventKind.PROMOTION_REQUESTED, 1, Stage.TEST, Stage.TEST, "alice"),
        (EventKind.PROMOTED, 1, Stage.TEST, Stage.PROD, "alice"),
        (EventKind.PROMOTION_REQUESTED, 2, Stage.TEST, Stage.TEST, "bob"),
        (EventKind.REFUSED, 2, Stage.TEST, Stage.TEST, "bob"),
        (EventKind.PROMOTION_REQUESTED, 3, Stage.TEST, Stage.TEST, "carol"),
        (EventKind.REPLACED, 1, Stage.PROD, Stage.ARCHIVED, "carol"),
        (EventKind.PROMOTED, 3, Stage.TEST, Stage.PROD, "carol"),
    ]
    promoted = registry.history("gate")[-1]
    assert promoted.reason == "fresher data" and (promoted.details or {})["passed"] is True
    assert [registry.prod_at("gate", moment) for moment in (before, between, now())] == [None, 1, 3]


def test_with_no_policy_the_gate_still_refuses_a_candidate_worse_than_the_champion(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("default", actor="alice")
    for model in ("medium", "bad", "good"):
        registry.register("default", f"ml-model:{model}", actor="alice")
    artifact = harness.put("training", "artifacts/unmeasured.bin", b"no metrics came with it")
    registry.register("default", artifact, actor="alice")

    assert harness.promote("default", 1).stage is Stage.PROD  # the first candidate passes
    refused = harness.promote("default", 2)
    assert (refused.stage, refused.gate_status) == (Stage.TEST, GateStatus.FAILED)
    [reason] = (refused.gate_report or {})["reasons"]
    assert reason.startswith("auc 0.") and "vs the champion's (version 1)" in reason and "more than" in reason
    unmeasured = harness.promote("default", 4)
    assert unmeasured.stage is Stage.TEST
    assert (unmeasured.gate_report or {})["reasons"] == [
        "no metric to compare version 4 with the champion (version 1): the policy names none, version 4 is not "
        "a predict model, and the two share none of ['accuracy', 'auc', 'f1', 'macro_f1', 'mae', 'precision', "
        "'r2', 'recall', 'rmse']; name one as the policy's metric"
    ]
    better = harness.promote("default", 3)
    assert better.stage is Stage.PROD and (better.gate_report or {})["candidate"]["primary_metric"] == "auc"

    # Turning the comparison off is a policy of its own, kept in the history.
    registry.set_policy("default", {"compare_with_champion": False}, actor="alice")
    assert harness.promote("default", 2).stage is Stage.PROD
    policy_set = [e for e in registry.history("default") if e.event is EventKind.POLICY_SET]
    assert [(e.actor, e.details) for e in policy_set] == [("alice", {"compare_with_champion": False})]


def test_rollback_returns_the_previous_production_version(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("roll", actor="alice")
    for model in ("medium", "good"):
        registry.register("roll", f"ml-model:{model}", actor="alice")
    with pytest.raises(InConflict, match="no production version before"):
        registry.rollback("roll", actor="bob")
    harness.promote("roll", 1)
    harness.promote("roll", 2)

    restored = registry.rollback("roll", actor="bob", reason="latency regression")
    assert (restored.version, restored.stage) == (1, Stage.PROD)
    assert registry.get_version("roll", 2).stage is Stage.ARCHIVED and registry.get_group("roll").prod_version == 1
    last = [(e.event, e.version, e.from_stage, e.to_stage, e.actor, e.reason) for e in registry.history("roll")[-2:]]
    assert last == [
        (EventKind.ROLLED_BACK, 2, Stage.PROD, Stage.ARCHIVED, "bob", "latency regression"),
        (EventKind.RESTORED, 1, Stage.ARCHIVED, Stage.PROD, "bob", "latency regression"),
    ]
    assert [interval.version for interval in registry.timeline("roll")] == [1, 2, 1]
    assert registry.rollback("roll", actor="bob").version == 2  # and forward again


def test_a_corrupted_artifact_is_refused(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("corrupt", actor="alice")
    for _ in range(3):
        registry.register("corrupt", "ml-model:good", actor="alice")

    # Overwritten through the lake (anyone who may write to the lake could).
    harness.put("alto-model-store", "corrupt/1/artifact", b"not the model")
    with pytest.raises(ArtifactRefused, match=r"hashes to .*; the registry recorded"):
        registry.load("corrupt/1")
    refused = harness.promote("corrupt", 1)
    assert refused.stage is Stage.TEST and refused.gate_status is GateStatus.FAILED
    assert "corrupt/1/artifact hashes to" in refused.approval_description

    # Bytes changed on disk under the lake.
    info = harness.lake.head("alto-model-store", "corrupt/2/artifact")
    data = bytearray(harness.stored(info))
    data[-1] ^= 0xFF
    harness.overwrite_stored(info, bytes(data))
    with pytest.raises(ArtifactRefused):
        registry.load("corrupt/2")
    assert harness.promote("corrupt", 2).stage is Stage.TEST

    # Gone from the store.
    harness.lake.delete_object("alto-model-store", "corrupt/3/artifact")
    with pytest.raises(ArtifactRefused, match="is missing from the model store"):
        registry.load("corrupt/3")


def race(first: RegistryHarness, second: RegistryHarness, group: str) -> None:
    """Four versions of one model approved at once through two registries; exactly one ends in production."""
    policy = {"metric": "auc", "max_drop_from_champion": 0.5, "evaluation_datasource": "holdout"}
    first.registry.create_group(group, actor="alice", policy=policy)
    numbers = [first.registry.register(group, "ml-model:good", actor="alice").version for _ in range(4)]
    start = threading.Barrier(len(numbers))

    def promote(number: int) -> None:
        registry = (first if number % 2 else second).registry
        start.wait()
        registry.request_promotion(group, number, actor=f"user{number}")

    threads = [threading.Thread(target=promote, args=(number,)) for number in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [first.registry.wait_for_gate(group, number, timeout=60) for number in numbers]
    assert all(version.gate_status is GateStatus.COMPLETED for version in done)
    versions = first.registry.list_versions(group).items
    prod = [version.version for version in versions if version.stage is Stage.PROD]
    assert len(prod) == 1 and first.registry.get_group(group).prod_version == prod[0]
    assert sorted(version.stage for version in versions) == [Stage.ARCHIVED] * 3 + [Stage.PROD]
    timeline = first.registry.timeline(group)
    assert len(timeline) == 4 and timeline[-1].version == prod[0] and timeline[-1].until is None
    assert all(a.until == b.since for a, b in itertools.pairwise(timeline))


def test_racing_promotions_leave_exactly_one_production_version(harness: RegistryHarness) -> None:
    # A second server over the same database and lake, as a second process would be.
    other = RegistryHarness(harness.root)
    other.pool.start()
    try:
        race(harness, other, "race")
    finally:
        other.close()


def test_racing_promotions_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    with postgres_database(postgres_url) as url:
        first, second = RegistryHarness(tmp_path, database_url=url), RegistryHarness(tmp_path, database_url=url)
        first.pool.start()
        second.pool.start()
        try:
            location = first.put(DATA_BUCKET, "clean/data.csv", synthetic_csv(ROWS, seed=3).encode())
            first.predict.create_datasource("train-good", location, rearrangement=TRAIN, target="y")
            first.predict.create_datasource("holdout", location, rearrangement=HOLDOUT, target="y")
            first.train("good", "train-good")
            first.wait_predict(["good"], [])
            race(first, second, "race-pg")
        finally:
            try:
                first.close()
            finally:
                second.close()


def test_deleting_a_group_with_versions_is_refused(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("delete-me", actor="alice")
    registry.register("delete-me", "ml-model:good", actor="alice")
    harness.promote("delete-me", 1)
    with pytest.raises(InConflict, match="holds 1 model package version"):
        registry.delete_group("delete-me", actor="alice")
    with pytest.raises(InConflict, match="is in production"):
        registry.delete_version("delete-me", 1, actor="alice")

    rejected = registry.reject("delete-me", 1, actor="bob", reason="retired")
    assert rejected.stage is Stage.ARCHIVED and registry.get_group("delete-me").prod_version is None
    registry.delete_version("delete-me", 1, actor="alice")
    with pytest.raises(NoSuchKey):
        harness.lake.head("alto-model-store", "delete-me/1/artifact")
    registry.delete_group("delete-me", actor="alice")
    with pytest.raises(DoesNotExist):
        registry.get_group("delete-me")
    # The history outlives the group, and a new group of the same name never reuses a version number.
    assert registry.history("delete-me")[-1].event is EventKind.GROUP_DELETED
    registry.create_group("delete-me", actor="alice")
    assert registry.register("delete-me", "ml-model:good", actor="alice").version == 2


def test_reject_and_reopen(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("reopen", actor="alice")
    registry.register("reopen", "ml-model:good", actor="alice")
    rejected = registry.reject("reopen", 1, actor="bob", reason="not this quarter")
    assert (rejected.stage, rejected.approval_description) == (Stage.ARCHIVED, "not this quarter")
    reopened = registry.reopen("reopen", 1, actor="bob")
    assert reopened.stage is Stage.TEST
    harness.promote("reopen", 1)
    with pytest.raises(InvalidValue, match="is Approved"):
        registry.reopen("reopen", 1, actor="bob")
    kinds = [e.event for e in registry.history("reopen")][2:]
    assert kinds[:2] == [EventKind.REJECTED, EventKind.REOPENED]


def test_a_custom_function_check_can_refuse(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("custom", actor="alice", policy={"function": "fairness"})
    registry.register("custom", "ml-model:good", actor="alice")
    harness.check.answer = {"pass": False, "reasons": ["false positives differ by group"]}
    try:
        refused = harness.promote("custom", 1)
    finally:
        harness.check.answer = {"pass": True, "reasons": []}
    assert refused.gate_status is GateStatus.FAILED
    assert "function 'fairness' refused: false positives differ by group" in refused.approval_description
    name, event = harness.check.events[-1]
    assert name == "fairness" and event["candidate"]["artifact"] == "s3://alto-model-store/custom/1/artifact"
    assert event["candidate"]["values"]["auc"] > 0.9 and event["champion"] is None
    assert harness.promote("custom", 1).stage is Stage.PROD


def test_a_lake_artifact_with_its_metrics_document(harness: RegistryHarness) -> None:
    registry = harness.registry
    artifact = harness.put("training", "artifacts/model.onnx", b"onnx bytes")
    document = json.dumps({"binary_classification_metrics": {"auc": {"value": 0.91}}, "records": 5000}).encode()
    metrics_url = harness.put("training", "artifacts/metrics.json", document)
    given = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": metrics_url}}}
    registry.create_group("lake", actor="alice", policy={"metric": "auc", "min": 0.9, "min_rows": 1000})
    version = registry.register("lake", artifact, actor="alice", model_metrics=given)
    etag = harness.lake.head("training", "artifacts/model.onnx").etag
    assert version.source == {
        "kind": "lake",
        "bucket": "training",
        "key": "artifacts/model.onnx",
        "etag": etag,
        "size": 10,
    }
    assert version.metrics == [{"source": metrics_url, "records": 5000, "values": {"auc": 0.91, "records": 5000.0}}]
    assert version.model_metrics == given
    assert harness.promote("lake", 1).stage is Stage.PROD
    with pytest.raises(InvalidValue, match="does not hold a predict model"):
        registry.load("lake/1")

    registry.set_policy("lake", GATE, actor="alice")
    registry.register("lake", artifact, actor="alice")
    refused = harness.promote("lake", 2)
    assert "is not a predict model: it cannot be evaluated on held-out data" in refused.approval_description
    wrong = {
        "ModelQuality": {"Statistics": {**given["ModelQuality"]["Statistics"], "ContentDigest": "sha256:" + "0" * 64}}
    }
    with pytest.raises(InvalidValue, match="ContentDigest"):
        registry.register("lake", artifact, actor="alice", model_metrics=wrong)


def test_a_registered_version_loads_as_a_predictor(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("load", actor="alice")
    version = registry.register("load", "ml-model:good", actor="alice")
    predictor = registry.load(registry.version_arn(version))
    assert predictor.predict(RECORD) == harness.predict.predictor("good").predict(RECORD)
    assert registry.resolve("arn:aws:sagemaker:us-east-1:000000000000:model-package/load/1") == version


def test_recorded_training_data_names_versions_that_survive_overwrites(harness: RegistryHarness) -> None:
    harness.put("lineage", "train.csv", b"x\n1\n")
    harness.lake.set_versioning("lineage", Versioning.ENABLED)
    harness.put("lineage", "train.csv", b"x\n2\n")
    [recorded] = training_objects(harness.lake, "s3://lineage/train.csv")
    harness.put("lineage", "train.csv", b"x\n3\n")
    harness.lake.delete_object("lineage", "train.csv")
    trained_on = harness.lake.head("lineage", "train.csv", recorded["version_id"])
    assert b"".join(harness.lake.read(trained_on)) == b"x\n2\n" and trained_on.etag == recorded["etag"]


def test_production_artifacts_are_held_by_object_lock(harness: RegistryHarness) -> None:
    registry = harness.registry
    registry.create_group("held", actor="alice")
    for _ in range(2):
        registry.register("held", "ml-model:good", actor="alice")

    def held(number: int) -> bool:
        return harness.lake.head(MODEL_STORE_BUCKET, f"held/{number}/artifact").legal_hold

    assert harness.promote("held", 1).stage is Stage.PROD
    assert (held(1), held(2)) == (True, False)
    first = harness.lake.head(MODEL_STORE_BUCKET, "held/1/artifact")
    with pytest.raises(ObjectLocked):
        harness.lake.delete_object(MODEL_STORE_BUCKET, "held/1/artifact", version_id=first.version_id)
    assert harness.promote("held", 2).stage is Stage.PROD
    assert (held(1), held(2)) == (False, True)
    registry.rollback("held", actor="alice")
    assert (held(1), held(2)) == (True, False)
    registry.reject("held", 1, actor="alice")
    assert (held(1), held(2)) == (False, False)
    registry.delete_version("held", 2, actor="alice")
    assert harness.lake.list_versions(MODEL_STORE_BUCKET, prefix="held/2/").versions == []
