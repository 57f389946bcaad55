"""The Amazon ML API through unmodified boto3 against a real `alto serve`: upload CSV to the lake, datasources
with splits, SGD and auto models, evaluations, score thresholds, realtime and batch predictions, listings,
deletes, and bad input of every kind.

Adult (binary) and Abalone (regression) come from ../shared/data and skip without it; wine (multiclass)
ships with scikit-learn.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.ml_data import SHARED_DATA, adult_csv, split, wait, wine_csv
from tests.live_server import LiveServer, live_server

CAP = 5_000_000  # ALTO_PREDICT_MAX_DATASOURCE_BYTES of this module's server
BUCKET = "mldata"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve` with a small datasource cap, for this module."""
    env = {"ALTO_PREDICT_MAX_DATASOURCE_BYTES": str(CAP), "ALTO_JOB_WORKERS": "2"}
    with live_server(tmp_path_factory.mktemp("ml") / "data", env=env) as running:
        running.client("s3").create_bucket(Bucket=BUCKET)
        yield running


@pytest.fixture(scope="module")
def ml(server: LiveServer) -> Any:
    return server.client("machinelearning")


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    return server.client("s3")


def code_of(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = error.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def datasource(ml: Any, datasource_id: str, location: str, **spec: str) -> dict[str, Any]:
    ml.create_data_source_from_s3(
        DataSourceId=datasource_id, DataSpec={"DataLocationS3": location, **spec}, ComputeStatistics=True
    )
    return wait(ml.get_data_source, DataSourceId=datasource_id, Verbose=True)


def model(ml: Any, model_id: str, source_id: str, model_type: str, **parameters: str) -> dict[str, Any]:
    ml.create_ml_model(
        MLModelId=model_id, MLModelType=model_type, TrainingDataSourceId=source_id, Parameters=parameters
    )
    return wait(ml.get_ml_model, MLModelId=model_id, Verbose=True)


def evaluation(ml: Any, evaluation_id: str, model_id: str, source_id: str) -> dict[str, str]:
    ml.create_evaluation(EvaluationId=evaluation_id, MLModelId=model_id, EvaluationDataSourceId=source_id)
    done = wait(ml.get_evaluation, EvaluationId=evaluation_id)
    assert done["Status"] == "COMPLETED", done
    properties: dict[str, str] = done["PerformanceMetrics"]["Properties"]
    return properties


def batch_rows(ml: Any, s3: Any, batch_id: str, model_id: str, source_id: str) -> list[list[str]]:
    """Run a batch prediction to s3://mldata/out/ and read the gzip CSV back from the lake."""
    ml.create_batch_prediction(
        BatchPredictionId=batch_id,
        MLModelId=model_id,
        BatchPredictionDataSourceId=source_id,
        OutputUri=f"s3://{BUCKET}/out/",
    )
    done = wait(ml.get_batch_prediction, BatchPredictionId=batch_id)
    assert done["Status"] == "COMPLETED", done
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"out/batch-prediction/result/{batch_id}-")["Contents"]
    body = s3.get_object(Bucket=BUCKET, Key=listed[0]["Key"])["Body"].read()
    rows = list(csv.reader(io.StringIO(gzip.decompress(body).decode())))
    assert len(rows) - 1 == done["TotalRecordCount"]
    manifest = s3.get_object(Bucket=BUCKET, Key=f"out/batch-prediction/{batch_id}.manifest")["Body"].read()
    assert list(json.loads(manifest).values()) == [f"s3://{BUCKET}/{listed[0]['Key']}"]
    return rows


def predictor(server: LiveServer, ml: Any, model_id: str) -> Any:
    """CreateRealtimeEndpoint, then Predict from a client whose endpoint_url leads nowhere: it must use EndpointUrl."""
    info = ml.create_realtime_endpoint(MLModelId=model_id)["RealtimeEndpointInfo"]
    assert info["EndpointStatus"] == "READY" and info["EndpointUrl"] == server.endpoint
    client = boto3.client(
        "machinelearning",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(retries={"max_attempts": 1}),
    )

    def predict(record: dict[str, str]) -> dict[str, Any]:
        answer: dict[str, Any] = client.predict(MLModelId=model_id, Record=record, PredictEndpoint=info["EndpointUrl"])
        return answer["Prediction"]  # type: ignore[no-any-return]

    return predict


def shared(name: str) -> Path:
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"real data absent: {folder} (see shared/data/README.md)")
    return folder


# ---- the whole flow, three model types ---------------------------------------------------------------


def test_multiclass_flow_on_wine(server: LiveServer, ml: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="wine/wine.csv", Body=wine_csv().encode())
    schema = json.dumps({"targetAttributeName": "cultivar", "dataFileContainsHeader": True})
    seventy, rest = split(0, 70, seed="w"), split(0, 70, complement=True, seed="w")
    train = datasource(ml, "wine-train", "s3://mldata/wine/", DataSchema=schema, DataRearrangement=seventy)
    test = datasource(ml, "wine-test", "s3://mldata/wine/wine.csv", DataSchema=schema, DataRearrangement=rest)
    assert train["Status"] == test["Status"] == "COMPLETED", (train, test)
    assert train["NumberOfFiles"] == 1 and json.loads(train["DataSourceSchema"])["targetAttributeName"] == "cultivar"
    log = json.loads(urllib.request.urlopen(train["LogUri"]).read())
    assert (
        log["Statistics"]["rows"] + json.loads(urllib.request.urlopen(test["LogUri"]).read())["Statistics"]["rows"]
        == 178
    )
    proline = next(a for a in log["Statistics"]["attributes"] if a["name"] == "proline")
    assert (
        proline["missing"] == 0 and proline["numeric"]["minimum"] > 0 and proline["target_correlation"]["value"] > 0.5
    )

    trained = model(ml, "wine-sgd", "wine-train", "MULTICLASS")
    assert trained["Status"] == "COMPLETED" and trained["SizeInBytes"] > 0 and "ScoreThreshold" not in trained
    assert json.loads(trained["Schema"])["targetAttributeName"] == "cultivar" and trained["Recipe"]
    properties = evaluation(ml, "wine-eval", "wine-sgd", "wine-test")
    assert float(properties["MulticlassAvgFScore"]) > 0.9 > float(properties["Baseline"])
    assert len(json.loads(properties["ConfusionMatrix"])) == 3

    predict = predictor(server, ml, "wine-sgd")
    first = wine_csv().splitlines()[1].split(",")
    names = wine_csv().splitlines()[0].split(",")
    answer = predict(dict(zip(names[:-1], first[:-1], strict=True)))
    assert answer["predictedLabel"] == "class_0" and set(answer["predictedScores"]) == {"class_0", "class_1", "class_2"}
    assert answer["details"] == {"PredictiveModelType": "MULTICLASS", "Algorithm": "SGD"}

    rows = batch_rows(ml, s3, "wine-batch", "wine-sgd", "wine-test")
    assert rows[0] == ["class_0", "class_1", "class_2"]
    assert all(abs(sum(map(float, row)) - 1) < 1e-4 for row in rows[1:])


def test_regression_flow_on_abalone(server: LiveServer, ml: Any, s3: Any) -> None:
    folder = shared("abalone")
    s3.put_object(Bucket=BUCKET, Key="abalone.csv", Body=(folder / "abalone.csv").read_bytes())
    schema = json.dumps({"targetAttributeName": "Var09", "dataFileContainsHeader": False})
    for source_id, rearrangement in (("ab-train", split(0, 75)), ("ab-test", split(0, 75, complement=True))):
        made = datasource(ml, source_id, "s3://mldata/abalone.csv", DataSchema=schema, DataRearrangement=rearrangement)
        assert made["Status"] == "COMPLETED", made
    rmse = {}
    for algorithm in ("sgd", "auto"):
        trained = model(ml, f"ab-{algorithm}", "ab-train", "REGRESSION", algorithm=algorithm)
        assert trained["Status"] == "COMPLETED", trained
        properties = evaluation(ml, f"ab-eval-{algorithm}", f"ab-{algorithm}", "ab-test")
        rmse[algorithm] = float(properties["RegressionRMSE"])
        assert 2.9 < float(properties["Baseline"]) < 3.4 and "R2" in properties
    assert rmse["sgd"] < 2.4 and rmse["auto"] < 2.35, rmse
    value = predictor(server, ml, "ab-auto")({"Var01": "M", "Var02": "0.455", "Var08": "0.15"})["predictedValue"]
    assert 3 < value < 25
    rows = batch_rows(ml, s3, "ab-batch", "ab-sgd", "ab-test")
    assert rows[0] == ["score"] and len(rows) - 1 == round(4177 * 0.25)


def test_binary_flow_on_adult(server: LiveServer, ml: Any, s3: Any) -> None:
    folder = shared("adult")
    s3.put_object(Bucket=BUCKET, Key="adult/train.csv", Body=adult_csv(folder, "train").encode())
    schema = json.dumps({"targetAttributeName": "income"})
    seventy, rest = split(0, 70, seed="adult"), split(0, 70, complement=True, seed="adult")
    train = datasource(ml, "adult-train", "s3://mldata/adult/train.csv", DataSchema=schema, DataRearrangement=seventy)
    test = datasource(ml, "adult-test", "s3://mldata/adult/train.csv", DataSchema=schema, DataRearrangement=rest)
    assert train["Status"] == test["Status"] == "COMPLETED", (train, test)
    statistics = json.loads(urllib.request.urlopen(train["LogUri"]).read())["Statistics"]
    workclass = next(a for a in statistics["attributes"] if a["name"] == "workclass")
    assert workclass["type"] == "CATEGORICAL" and workclass["missing"] > 1000  # "?" marks missing values

    auc = {}
    for algorithm in ("sgd", "auto"):
        trained = model(ml, f"adult-{algorithm}", "adult-train", "BINARY", algorithm=algorithm)
        assert trained["Status"] == "COMPLETED" and trained["ScoreThreshold"] == 0.5, trained
        properties = evaluation(ml, f"adult-eval-{algorithm}", f"adult-{algorithm}", "adult-test")
        auc[algorithm] = float(properties["BinaryAUC"])
        assert properties["Baseline"] == "0.5" and float(properties["BaselineAccuracy"]) > 0.74
        assert len(json.loads(properties["RocCurve"])) > 50 and len(json.loads(properties["Thresholds"])) == 101
    assert auc["sgd"] > 0.88 and auc["auto"] > 0.915, auc
    assert "chose" in ml.get_ml_model(MLModelId="adult-auto")["Message"]

    predict = predictor(server, ml, "adult-auto")
    record = {"age": "45", "education": "Bachelors", "marital-status": "Married-civ-spouse", "hours-per-week": "45"}
    score = predict(record)["predictedScores"]
    ((_, value),) = score.items()
    for threshold, expected in ((min(1.0, value + 0.01), "0"), (max(0.0, value - 0.01), "1")):
        ml.update_ml_model(MLModelId="adult-auto", ScoreThreshold=threshold)
        assert predict(record)["predictedLabel"] == expected
        assert ml.get_ml_model(MLModelId="adult-auto")["ScoreThreshold"] == pytest.approx(threshold)

    rows = batch_rows(ml, s3, "adult-batch", "adult-sgd", "adult-test")
    assert rows[0] == ["bestAnswer", "score"] and {row[0] for row in rows[1:]} == {"0", "1"}


# ---- listings, updates, deletes -------------------------------------------------------------------------


def test_describe_filters_sorts_and_pages(ml: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="tiny.csv", Body=b"x,y\n1,0\n2,1\n3,0\n4,1\n")
    before = time.time()
    for number in range(5):
        ml.create_data_source_from_s3(
            DataSourceId=f"list-{number}",
            DataSourceName=f"listing {number}",
            DataSpec={"DataLocationS3": "s3://mldata/tiny.csv", "DataSchema": '{"targetAttributeName": "y"}'},
        )
    for number in range(5):
        wait(ml.get_data_source, DataSourceId=f"list-{number}")
    ml.update_data_source(DataSourceId="list-4", DataSourceName="renamed")

    def ids(**query: Any) -> list[str]:
        return [source["DataSourceId"] for source in ml.describe_data_sources(**query)["Results"]]

    assert ids(FilterVariable="Name", Prefix="listing ") == [f"list-{n}" for n in range(4)]
    assert ids(FilterVariable="Name", Prefix="listing ", SortOrder="dsc") == [f"list-{n}" for n in (3, 2, 1, 0)]
    assert ids(FilterVariable="Name", EQ="renamed") == ["list-4"]
    assert ids(FilterVariable="CreatedAt", GE=str(before), LT=str(time.time() + 1), Limit=100)[:5] == [
        f"list-{n}" for n in range(5)
    ]
    first = ml.describe_data_sources(FilterVariable="Name", Prefix="list", Limit=2)
    second = ml.describe_data_sources(FilterVariable="Name", Prefix="list", Limit=2, NextToken=first["NextToken"])
    assert [s["DataSourceId"] for s in first["Results"] + second["Results"]] == [f"list-{n}" for n in range(4)]
    pages = ml.get_paginator("describe_data_sources").paginate(FilterVariable="Status", EQ="COMPLETED", Limit=2)
    assert {f"list-{n}" for n in range(5)} <= {s["DataSourceId"] for page in pages for s in page["Results"]}

    assert ml.delete_data_source(DataSourceId="list-0")["DataSourceId"] == "list-0"
    assert ml.get_data_source(DataSourceId="list-0")["Status"] == "DELETED"
    assert "list-0" not in ids(FilterVariable="Status", NE="DELETED")
    with pytest.raises(ClientError) as caught:
        ml.create_ml_model(MLModelId="on-deleted", MLModelType="BINARY", TrainingDataSourceId="list-0")
    assert code_of(caught)[:2] == ("InvalidInputException", 400) and "DELETED" in code_of(caught)[2]
    with pytest.raises(ClientError) as caught:
        ml.describe_data_sources(FilterVariable="IAMUser", EQ="me")
    assert "FilterVariable='IAMUser'" in code_of(caught)[2]
    with pytest.raises(ClientError) as caught:
        ml.describe_data_sources(NextToken="not-a-token")
    assert code_of(caught)[0] == "InvalidInputException"


def test_models_evaluations_and_batches_are_listed_updated_and_deleted(ml: Any, s3: Any) -> None:
    rows = "\n".join(f"{i},{'abc'[i % 3]},{i % 2}" for i in range(200))
    s3.put_object(Bucket=BUCKET, Key="small/data.csv", Body=f"x,c,y\n{rows}\n".encode())
    datasource(ml, "small", "s3://mldata/small/", DataSchema='{"targetAttributeName": "y"}')
    model(ml, "small-model", "small", "BINARY", **{"sgd.maxPasses": "3"})
    ml.create_evaluation(EvaluationId="small-eval", MLModelId="small-model", EvaluationDataSourceId="small")
    ml.create_batch_prediction(
        BatchPredictionId="small-batch",
        MLModelId="small-model",
        BatchPredictionDataSourceId="small",
        OutputUri="s3://mldata/o/",
    )
    wait(ml.get_evaluation, EvaluationId="small-eval")
    wait(ml.get_batch_prediction, BatchPredictionId="small-batch")

    listed = ml.describe_ml_models(FilterVariable="TrainingDataSourceId", EQ="small")["Results"]
    assert [(m["MLModelId"], m["Algorithm"], m["EndpointInfo"]["EndpointStatus"]) for m in listed] == [
        ("small-model", "sgd", "NONE")
    ]
    assert (
        listed[0]["TrainingParameters"]["sgd.maxPasses"] == "3"
        and listed[0]["InputDataLocationS3"] == "s3://mldata/small/"
    )
    evaluations = ml.describe_evaluations(FilterVariable="MLModelId", EQ="small-model")["Results"]
    assert [e["EvaluationId"] for e in evaluations] == ["small-eval"] and "BinaryAUC" in evaluations[0][
        "PerformanceMetrics"
    ]["Properties"]
    batches = ml.describe_batch_predictions(FilterVariable="DataSourceId", EQ="small")["Results"]
    assert [(b["BatchPredictionId"], b["TotalRecordCount"], b["InvalidRecordCount"]) for b in batches] == [
        ("small-batch", 200, 0)
    ]

    ml.update_ml_model(MLModelId="small-model", MLModelName="better name")
    ml.update_evaluation(EvaluationId="small-eval", EvaluationName="eval name")
    ml.update_batch_prediction(BatchPredictionId="small-batch", BatchPredictionName="batch name")
    assert ml.get_ml_model(MLModelId="small-model")["Name"] == "better name"
    assert ml.get_evaluation(EvaluationId="small-eval")["Name"] == "eval name"
    assert ml.get_batch_prediction(BatchPredictionId="small-batch")["Name"] == "batch name"

    ml.create_realtime_endpoint(MLModelId="small-model")
    assert ml.delete_realtime_endpoint(MLModelId="small-model")["RealtimeEndpointInfo"]["EndpointStatus"] == "NONE"
    assert ml.delete_batch_prediction(BatchPredictionId="small-batch")["BatchPredictionId"] == "small-batch"
    assert ml.delete_evaluation(EvaluationId="small-eval")["EvaluationId"] == "small-eval"
    assert ml.delete_ml_model(MLModelId="small-model")["MLModelId"] == "small-model"
    assert ml.get_batch_prediction(BatchPredictionId="small-batch")["Status"] == "DELETED"
    assert ml.get_evaluation(EvaluationId="small-eval")["Status"] == "DELETED"
    assert ml.get_ml_model(MLModelId="small-model")["Status"] == "DELETED"
    with pytest.raises(ClientError) as caught:
        ml.create_realtime_endpoint(MLModelId="small-model")
    assert code_of(caught)[0] == "InvalidInputException"


# ---- bad input: clear errors, FAILED entities with reasons, never a crash or a half-written model ------------


def failed(entity: dict[str, Any]) -> str:
    assert entity["Status"] == "FAILED", entity
    message: str = entity["Message"]
    return message


def test_ragged_rows_fail_the_datasource_naming_row_and_line(ml: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="bad/ragged.csv", Body=b"x,y\n1,0\n2,1\n3,1,9\n4,0\n")
    message = failed(datasource(ml, "ragged", "s3://mldata/bad/ragged.csv", DataSchema='{"targetAttributeName": "y"}'))
    assert "data row 3 (line 4 of s3://mldata/bad/ragged.csv) has 3 columns; expected 2" in message


def test_text_in_a_numeric_field_names_the_attribute_row_and_value(ml: Any, s3: Any) -> None:
    rows = "\n".join(f"{i},{i % 2}" for i in range(50))
    s3.put_object(Bucket=BUCKET, Key="bad/text.csv", Body=f"x,y\n{rows}\nlots,1\n".encode())
    schema = {
        "targetAttributeName": "y",
        "dataFileContainsHeader": True,
        "attributes": [
            {"attributeName": "x", "attributeType": "NUMERIC"},
            {"attributeName": "y", "attributeType": "BINARY"},
        ],
    }
    message = failed(datasource(ml, "text-in-number", "s3://mldata/bad/text.csv", DataSchema=json.dumps(schema)))
    assert "attribute 'x' is NUMERIC" in message
    assert "row 51 (line 52 of s3://mldata/bad/text.csv) has 'lots'" in message


def test_a_schema_that_contradicts_the_data_fails_the_datasource(ml: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="bad/three.csv", Body=b"a,b,c\n1,2,0\n3,4,1\n")
    schema = {
        "targetAttributeName": "c",
        "dataFileContainsHeader": True,
        "attributes": [{"attributeName": n, "attributeType": "NUMERIC"} for n in ("a", "c")],
    }
    message = failed(datasource(ml, "contradicted", "s3://mldata/bad/three.csv", DataSchema=json.dumps(schema)))
    assert "has 3 columns; expected 2" in message
    renamed = {**schema, "attributes": [{"attributeName": n, "attributeType": "NUMERIC"} for n in ("a", "b", "z")]}
    renamed["targetAttributeName"] = "z"
    message = failed(datasource(ml, "misnamed", "s3://mldata/bad/three.csv", DataSchema=json.dumps(renamed)))
    assert "['a', 'b', 'c']" in message and "['a', 'b', 'z']" in message


def test_a_target_with_one_class_fails_the_model_and_leaves_no_model(ml: Any, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="bad/one-class.csv", Body=b"x,y\n" + b"".join(b"%d,1\n" % i for i in range(40)))
    schema = {
        "targetAttributeName": "y",
        "dataFileContainsHeader": True,
        "attributes": [
            {"attributeName": "x", "attributeType": "NUMERIC"},
            {"attributeName": "y", "attributeType": "BINARY"},
        ],
    }
    source = datasource(ml, "one-class", "s3://mldata/bad/one-class.csv", DataSchema=json.dumps(schema))
    assert source["Status"] == "COMPLETED", source
    trained = model(ml, "one-class-model", "one-class", "BINARY")
    assert "has one class" in failed(trained) and "SizeInBytes" not in trained
    with pytest.raises(ClientError) as caught:
        ml.create_realtime_endpoint(MLModelId="one-class-model")
    assert code_of(caught)[0] == "InvalidInputException" and "FAILED" in code_of(caught)[2]


def test_a_datasource_over_the_size_cap_fails_with_the_limit(ml: Any, s3: Any) -> None:
    part = b"x,y\n" + b"1234567890,1\n" * (CAP // 26)
    for number in range(3):  # each object is under the cap; the prefix is not
        s3.put_object(Bucket=BUCKET, Key=f"big/part-{number}.csv", Body=part)
    message = failed(datasource(ml, "too-big", "s3://mldata/big/", DataSchema='{"targetAttributeName": "y"}'))
    assert f"this server reads at most {CAP} bytes per datasource" in message


def test_missing_locations_fail_with_the_location_named(ml: Any) -> None:
    message = failed(datasource(ml, "no-bucket", "s3://no-such-bucket/data.csv"))
    assert "bucket 'no-such-bucket' does not exist" in message
    message = failed(datasource(ml, "no-object", "s3://mldata/nothing-here/"))
    assert "holds no object" in message
    with pytest.raises(ClientError) as caught:
        ml.create_data_source_from_s3(DataSourceId="not-s3", DataSpec={"DataLocationS3": "http://example.com/x.csv"})
    assert code_of(caught)[:2] == ("InvalidInputException", 400) and "s3://bucket/key" in code_of(caught)[2]


def test_predict_errors_name_the_field(server: LiveServer, ml: Any, s3: Any) -> None:
    rows = "\n".join(f"{i},{'ab'[i % 2]},{int(i > 25)}" for i in range(50))
    s3.put_object(Bucket=BUCKET, Key="p/data.csv", Body=f"x,c,y\n{rows}\n".encode())
    datasource(ml, "p", "s3://mldata/p/data.csv", DataSchema='{"targetAttributeName": "y"}')
    model(ml, "p-model", "p", "BINARY")
    with pytest.raises(ClientError) as caught:
        ml.predict(MLModelId="p-model", Record={"x": "1"}, PredictEndpoint=server.endpoint)
    assert code_of(caught)[:2] == ("PredictorNotMountedException", 400)
    predict = predictor(server, ml, "p-model")
    assert predict({})["predictedLabel"] in ("0", "1")  # every field missing is allowed, as in Amazon ML
    for record, expected in (
        ({"x": "1", "colour": "a"}, "Record field 'colour' is not an attribute of the model"),
        ({"x": "many"}, "Record field 'x'='many' is not a valid NUMERIC value"),
    ):
        with pytest.raises(ClientError) as caught:
            predict(record)
        assert code_of(caught)[:2] == ("InvalidInputException", 400) and expected in code_of(caught)[2]
    with pytest.raises(ClientError) as caught:
        ml.predict(MLModelId="no-such-model", Record={}, PredictEndpoint=server.endpoint)
    assert code_of(caught)[:2] == ("ResourceNotFoundException", 400)


def test_request_errors_are_amazon_ml_errors(server: LiveServer, ml: Any) -> None:
    raw = server.client("machinelearning", parameter_validation=False)
    with pytest.raises(ClientError) as caught:
        raw.create_ml_model(MLModelId="m", MLModelType="RANKING", TrainingDataSourceId="p")
    code, status, message = code_of(caught)
    assert (code, status) == ("InvalidInputException", 400) and "MLModelType='RANKING'" in message
    with pytest.raises(ClientError) as caught:
        ml.create_ml_model(MLModelId="m", MLModelType="BINARY", TrainingDataSourceId="p", Parameters={"sgd.x": "1"})
    assert "Parameters ['sgd.x'] are not known" in code_of(caught)[2]
    with pytest.raises(ClientError) as caught:
        ml.get_ml_model(MLModelId="absent")
    assert code_of(caught)[:2] == ("ResourceNotFoundException", 400)
    ml.create_data_source_from_s3(DataSourceId="twice", DataSpec={"DataLocationS3": "s3://mldata/tiny.csv"})
    ml.create_data_source_from_s3(DataSourceId="twice", DataSpec={"DataLocationS3": "s3://mldata/tiny.csv"})
    with pytest.raises(ClientError) as caught:
        ml.create_data_source_from_s3(DataSourceId="twice", DataSpec={"DataLocationS3": "s3://mldata/other.csv"})
    assert code_of(caught)[0] == "IdempotentParameterMismatchException"
    with pytest.raises(ClientError) as caught:
        ml.update_ml_model(MLModelId="p-model", ScoreThreshold=1.5)
    assert code_of(caught)[0] == "InvalidInputException"
    with urllib.request.urlopen(f"{server.endpoint}/_alto/health") as health:
        assert health.status == 200  # nothing above hurt the server
