"""PredictService end to end on SQLite and local files: jobs, statuses, idempotency, errors, predictions."""

from __future__ import annotations

import gzip
import json

import pytest

from altostratus.core.clock import SystemClock
from altostratus.jobs import JobRunner
from altostratus.predict import (
    JOB_BATCH,
    JOB_DATASOURCE,
    JOB_EVALUATE,
    JOB_TRAIN,
    IdempotentParameterMismatch,
    InvalidInput,
    ListQuery,
    PredictorNotMounted,
    ResourceNotFound,
    Status,
)
from tests.predict.conftest import Harness, synthetic_csv

RECORD = {"x": "1.2", "color": "red", "note": "good w3 w4"}


def test_handlers_cover_every_job_kind(harness: Harness) -> None:
    assert set(harness.service.handlers()) == {JOB_DATASOURCE, JOB_TRAIN, JOB_EVALUATE, JOB_BATCH}


def test_the_whole_flow(harness: Harness) -> None:
    service = harness.service
    location = harness.put("data/train.csv", synthetic_csv(300, kind="binary"))
    split = '{"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random", "randomSeed": "s"}}'
    rest = split.replace('"strategy"', '"complement": true, "strategy"')
    created = service.create_datasource("train", location, name="training", rearrangement=split, target="y")
    assert created.status is Status.PENDING
    service.create_datasource("holdout", location, rearrangement=rest, target="y")
    service.create_model("model", "train", "BINARY", parameters={"sgd.maxPasses": "5"})
    service.create_evaluation("eval", "model", "holdout")
    service.create_batch_prediction("batch", "model", "holdout", "results/")
    harness.run_jobs()

    train = service.get_datasource("train")
    assert train.status is Status.COMPLETED and train.rows_read == 300
    assert train.row_count + service.get_datasource("holdout").row_count == 300  # type: ignore[operator]
    assert train.statistics is not None and train.statistics["rows"] == train.row_count
    assert json.loads(train.data_schema or "")["targetAttributeName"] == "y"

    model = service.get_model("model")
    assert model.status is Status.COMPLETED and model.size_bytes and model.artifact_sha256
    assert model.parameters["sgd.maxPasses"] == "5" and model.learner == "SGD" and model.endpoint is None

    evaluation = service.get_evaluation("eval")
    assert evaluation.status is Status.COMPLETED and evaluation.metrics is not None
    assert evaluation.metrics["metric"] == "BinaryAUC" and evaluation.metrics["value"] > 0.9

    batch = service.get_batch_prediction("batch")
    assert batch.status is Status.COMPLETED and batch.output_location is not None
    lines = gzip.decompress((harness.root / "lake" / batch.output_location).read_bytes()).decode().splitlines()
    assert lines[0] == "bestAnswer,score" and len(lines) - 1 == batch.total_records == 300 - train.row_count  # type: ignore[operator]
    assert (harness.root / "lake" / "results/batch-prediction/batch.manifest").is_file()

    with pytest.raises(PredictorNotMounted):
        service.predict("model", RECORD)
    endpoint = service.create_endpoint("model", "http://127.0.0.1:8000/")
    assert endpoint.status == "READY" and service.get_model("model").endpoint == endpoint
    first = service.predict("model", RECORD)
    score = first["predictedScores"][first["predictedLabel"]]
    service.update_model("model", score_threshold=min(1.0, score + 0.01), name="renamed")
    assert service.predict("model", RECORD)["predictedLabel"] == "0"
    assert service.get_model("model").name == "renamed"
    assert service.delete_endpoint("model").status == "NONE"
    with pytest.raises(PredictorNotMounted):
        service.predict("model", RECORD)


def test_creating_again_is_idempotent_only_with_the_same_parameters(harness: Harness) -> None:
    location = harness.put("d.csv", synthetic_csv(50))
    first = harness.service.create_datasource("ds", location, target="y")
    assert harness.service.create_datasource("ds", location, target="y") == first
    with pytest.raises(IdempotentParameterMismatch, match="data_location"):
        harness.service.create_datasource("ds", "other.csv", target="y")


def test_bad_data_fails_the_datasource_with_the_reason(harness: Harness) -> None:
    harness.put("ragged.csv", "x,y\n1,2\n3\n")
    harness.service.create_datasource("ragged", "ragged.csv")
    harness.service.create_datasource("absent", "nothing-here.csv")
    harness.run_jobs()
    ragged = harness.service.get_datasource("ragged")
    assert ragged.status is Status.FAILED and "(line 3 of" in ragged.message
    assert "ragged.csv) has 1 columns; expected 2" in ragged.message
    assert "holds no file" in harness.service.get_datasource("absent").message


def test_a_model_on_a_one_class_target_fails_and_leaves_no_artifact(harness: Harness) -> None:
    schema = json.dumps(
        {
            "targetAttributeName": "y",
            "dataFileContainsHeader": True,
            "attributes": [
                {"attributeName": "x", "attributeType": "NUMERIC"},
                {"attributeName": "y", "attributeType": "BINARY"},
            ],
        }
    )
    harness.put("one.csv", "x,y\n" + "".join(f"{i},1\n" for i in range(30)))
    harness.service.create_datasource("one", "one.csv", schema=schema)
    harness.service.create_model("m", "one", "BINARY")
    harness.run_jobs()
    model = harness.service.get_model("m")
    assert model.status is Status.FAILED and "has one class" in model.message and model.artifact_key is None
    assert not list((harness.root / "blobs").rglob("*.model"))


def test_training_waits_for_its_datasource(harness: Harness) -> None:
    location = harness.put("d.csv", synthetic_csv(80))
    harness.service.create_datasource("ds", location, target="y")
    harness.service.create_model("m", "ds", "BINARY")
    claimed = harness.queue.claim("w", [JOB_TRAIN], 60)  # the model's job runs before the datasource's
    assert claimed is not None
    JobRunner(harness.queue, harness.service.handlers(), clock=SystemClock()).run(claimed, "w")
    assert "waiting for DataSource 'ds'" in harness.service.get_model("m").message
    harness.run_jobs()
    assert harness.service.get_model("m").status is Status.COMPLETED


def test_validation_happens_at_creation(harness: Harness) -> None:
    service = harness.service
    with pytest.raises(InvalidInput, match="DataSourceId='a b'"):
        service.create_datasource("a b", "x.csv")
    with pytest.raises(InvalidInput, match="Unknown strategy type"):
        service.create_datasource("ds", "x.csv", rearrangement='{"splitting": {"strategy": "zigzag"}}')
    with pytest.raises(ResourceNotFound, match="DataSource 'nope' does not exist"):
        service.create_model("m", "nope", "BINARY")
    service.create_datasource("ds", harness.put("d.csv", synthetic_csv(30)), target="y")
    with pytest.raises(InvalidInput, match="MLModelType='BINARYISH'"):
        service.create_model("m", "ds", "BINARYISH")
    with pytest.raises(InvalidInput, match="unknown function 'sqrt'"):
        service.create_model("m", "ds", "BINARY", recipe='{"outputs": ["sqrt(x)"]}')
    with pytest.raises(InvalidInput, match="ScoreThreshold=2"):
        service.create_model("m", "ds", "BINARY")
        service.update_model("m", score_threshold=2)


def test_delete_marks_deleted_and_lists_filter(harness: Harness) -> None:
    service = harness.service
    for name in ("a", "b", "c"):
        service.create_datasource(f"ds-{name}", harness.put(f"{name}.csv", synthetic_csv(30)), name=f"set {name}")
    deleted = service.delete_datasource("ds-b")
    assert deleted.status is Status.DELETED
    assert (
        harness.queue.get(deleted.job_id or "").cancel_requested
        or harness.queue.get(deleted.job_id or "").state.is_terminal
    )
    page = service.list_datasources(ListQuery(field="status", eq="DELETED"))
    assert [d.datasource_id for d in page.items] == ["ds-b"]
    first = service.list_datasources(ListQuery(field="name", prefix="set ", limit=2))
    assert [d.name for d in first.items] == ["set a", "set b"] and first.next_offset == 2
    second = service.list_datasources(ListQuery(field="name", prefix="set ", limit=2, offset=2))
    assert [d.name for d in second.items] == ["set c"] and second.next_offset is None
    with pytest.raises(InvalidInput, match="FilterVariable 'colour'"):
        service.list_datasources(ListQuery(field="colour"))
