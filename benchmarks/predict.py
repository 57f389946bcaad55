"""Predict (Amazon ML API) benchmark: accuracy and training time beside scikit-learn fitted directly, Predict
latency through boto3 and in process, and batch prediction throughput.

Everything of ours goes through a real `alto serve` on 127.0.0.1 with unmodified boto3: the CSV is uploaded
to the lake, datasources, models (`algorithm` sgd, the default, and auto), evaluations and batch predictions
are created and waited for. Training time is the model's ComputeTime (the job's own time on the server);
the baselines are fitted here, in this process, on one thread as the server's training jobs are:
LogisticRegression / Ridge on one-hot categories and standardized numbers, and HistGradientBoosting with
native categories and early stopping.

- Adult: trained on adult-train (32,561 rows), evaluated on the given adult-test (16,281 rows); AUC.
- Abalone: the first 75% of the rows for training, the last 25% for testing (a fixed split); RMSE.
- Predict: p50/p99 over many records of the test set, through boto3 over HTTP (client and server share the
  machine's cores; `--rounds` rounds, the median round reported with every round's p99); over HTTP with
  requests signed beforehand (the server's share, without boto3's work); and the same model's Predictor
  called in this process.
- Batch: Adult train repeated to about 200,000 rows, predicted into gzip CSV in the lake; rows per second
  of the job's ComputeTime.

    python benchmarks/predict.py [--quick] [--rounds N] [--json OUT] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.ml_data import adult_csv, split, wait
from tests.live_server import LiveServer, live_server

from altostratus.predict import ModelType, Predictor, ReadOptions, TextSource, TrainingParameters
from altostratus.predict.inference import infer_schema
from altostratus.predict.table import load_table
from altostratus.predict.training import train

BUCKET = "bench"
MISSING = {"", "?"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer Predict calls and a smaller batch")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the boto3 Predict measurement (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    tabular = args.data / "tabular"
    if not (tabular / "adult").is_dir() or not (tabular / "abalone").is_dir():
        sys.exit(f"the real data is not at {tabular} (see shared/data/README.md); give --data")
    calls = 300 if args.quick else 2000
    batch_copies = 2 if args.quick else 6
    started = time.time()
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "data") as server:
        ml, s3 = server.client("machinelearning"), server.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        adult = Adult(tabular / "adult")
        abalone = (tabular / "abalone" / "abalone.csv").read_text()
        figures: dict[str, Any] = {
            "machine": machine(),
            "command": "python benchmarks/predict.py" + (" --quick" if args.quick else ""),
            "date": dt.date.today().isoformat(),
            "adult": accuracy_adult(ml, s3, adult),
            "abalone": accuracy_abalone(ml, s3, abalone),
        }
        figures["latency"] = latency(server, ml, adult, calls, args.rounds)
        figures["batch"] = batch_throughput(ml, s3, adult, batch_copies)
    figures["seconds"] = round(time.time() - started, 1)
    # Other work on the machine moves every figure here; the load average says how much there was.
    figures["load_average"] = [round(load, 2) for load in os.getloadavg()]
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


class Adult:
    """Adult with a header and income as 1/0, as text and as rows."""

    def __init__(self, folder: Path) -> None:
        self.train = adult_csv(folder, "train")
        self.test = adult_csv(folder, "test")
        self.header = self.train.splitlines()[0].split(",")

    def records(self, count: int) -> list[dict[str, str]]:
        """Test-set rows as Predict records (every attribute but the target)."""
        rows = list(csv.reader(io.StringIO(self.test)))[1 : count + 1]
        return [dict(zip(self.header[:-1], row[:-1], strict=True)) for row in rows]


# ---- accuracy and training time ---------------------------------------------------------------------------


def ours(ml: Any, model_id: str, source: str, model_type: str, algorithm: str, test_source: str) -> dict[str, Any]:
    """Train through the API, evaluate on the test datasource: the metric and the job's own training time."""
    started = time.monotonic()
    ml.create_ml_model(
        MLModelId=model_id, MLModelType=model_type, TrainingDataSourceId=source, Parameters={"algorithm": algorithm}
    )
    model = wait(ml.get_ml_model, timeout=1800, MLModelId=model_id)
    assert model["Status"] == "COMPLETED", model
    wall = time.monotonic() - started
    ml.create_evaluation(EvaluationId=f"{model_id}-eval", MLModelId=model_id, EvaluationDataSourceId=test_source)
    evaluation = wait(ml.get_evaluation, EvaluationId=f"{model_id}-eval")
    properties = evaluation["PerformanceMetrics"]["Properties"]
    metric = next(name for name in ("BinaryAUC", "RegressionRMSE") if name in properties)
    return {
        "metric": float(properties[metric]),
        "baseline": float(properties["Baseline"]),
        "train_seconds": model["ComputeTime"] / 1000,
        "train_wall_seconds": round(wall, 2),
        "chose": model.get("Message", ""),
    }


def datasources(ml: Any, pairs: Sequence[tuple[str, str, str | None, str]]) -> dict[str, Any]:
    """Create datasources (id, location, rearrangement, schema) and wait for them; the first one's description."""
    for source_id, location, rearrangement, schema in pairs:
        spec = {"DataLocationS3": location, "DataSchema": schema}
        if rearrangement:
            spec["DataRearrangement"] = rearrangement
        ml.create_data_source_from_s3(DataSourceId=source_id, DataSpec=spec, ComputeStatistics=False)
    described = [wait(ml.get_data_source, DataSourceId=pair[0], Verbose=True) for pair in pairs]
    assert all(d["Status"] == "COMPLETED" for d in described), described
    return described[0]


def accuracy_adult(ml: Any, s3: Any, adult: Adult) -> dict[str, Any]:
    s3.put_object(Bucket=BUCKET, Key="adult/train.csv", Body=adult.train.encode())
    s3.put_object(Bucket=BUCKET, Key="adult/test.csv", Body=adult.test.encode())
    hints = json.dumps({"targetAttributeName": "income", "dataFileContainsHeader": True})
    trained = datasources(ml, [("adult-train", f"s3://{BUCKET}/adult/train.csv", None, hints)])
    # The test datasource takes the training one's schema, so both type every attribute alike.
    datasources(ml, [("adult-test", f"s3://{BUCKET}/adult/test.csv", None, trained["DataSourceSchema"])])
    result = {f"alto_{a}": ours(ml, f"adult-{a}", "adult-train", "BINARY", a, "adult-test") for a in ("sgd", "auto")}
    schema = json.loads(trained["DataSourceSchema"])
    categorical = [a["attributeType"] != "NUMERIC" for a in schema["attributes"][:-1]]
    X, y = rows_of(adult.train, categorical)
    X_test, y_test = rows_of(adult.test, categorical)
    for name, fit in (("sklearn_logistic", logistic), ("sklearn_hgb", boosted_classifier)):
        seconds, model = timed(lambda fit=fit: fit(X, y.astype(int), categorical))
        result[name] = {
            "metric": float(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])),
            "train_seconds": seconds,
        }
    return result


def accuracy_abalone(ml: Any, s3: Any, text: str) -> dict[str, Any]:
    s3.put_object(Bucket=BUCKET, Key="abalone.csv", Body=text.encode())
    hints = json.dumps({"targetAttributeName": "Var09", "dataFileContainsHeader": False})
    location = f"s3://{BUCKET}/abalone.csv"
    datasources(
        ml, [("ab-train", location, split(0, 75), hints), ("ab-test", location, split(0, 75, complement=True), hints)]
    )
    result = {f"alto_{a}": ours(ml, f"ab-{a}", "ab-train", "REGRESSION", a, "ab-test") for a in ("sgd", "auto")}
    categorical = [True] + [False] * 7
    X, y = rows_of(text, categorical, header=False)
    cut = sum(1 for r in range(len(y)) if r * 100 / len(y) < 75)  # the sequential split's first 75%
    for name, fit in (("sklearn_ridge", ridge), ("sklearn_hgb", boosted_regressor)):
        seconds, model = timed(lambda fit=fit: fit(X[:cut], y[:cut], categorical))
        rmse = float(np.sqrt(np.mean((model.predict(X[cut:]) - y[cut:]) ** 2)))
        result[name] = {"metric": rmse, "train_seconds": seconds}
    return result


def rows_of(text: str, categorical: Sequence[bool], *, header: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Attributes (object array: strings for categories, floats with NaN for missing numbers) and the target."""
    rows = list(csv.reader(io.StringIO(text), skipinitialspace=True))[1 if header else 0 :]
    rows = [row for row in rows if row]
    X = np.empty((len(rows), len(categorical)), dtype=object)
    for column, is_category in enumerate(categorical):
        values = [row[column].strip() for row in rows]
        X[:, column] = values if is_category else [np.nan if v in MISSING else float(v) for v in values]
    return X, np.array([float(row[-1]) for row in rows])


def _columns(categorical: Sequence[bool]) -> tuple[list[int], list[int]]:
    return [i for i, c in enumerate(categorical) if c], [i for i, c in enumerate(categorical) if not c]


def logistic(X: np.ndarray, y: np.ndarray, categorical: Sequence[bool]) -> Any:
    cats, nums = _columns(categorical)
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), cats), ("num", StandardScaler(), nums)], sparse_threshold=1.0
    )
    return make_pipeline(encode, LogisticRegression(max_iter=2000)).fit(X, y)


def ridge(X: np.ndarray, y: np.ndarray, categorical: Sequence[bool]) -> Any:
    cats, nums = _columns(categorical)
    encode = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), cats), ("num", StandardScaler(), nums)])
    return make_pipeline(encode, Ridge(alpha=1.0)).fit(X, y)


def _ordinal(categorical: Sequence[bool]) -> ColumnTransformer:
    cats, nums = _columns(categorical)
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)
    return ColumnTransformer([("cat", ordinal, cats), ("num", "passthrough", nums)])


def boosted_classifier(X: np.ndarray, y: np.ndarray, categorical: Sequence[bool]) -> Any:
    mask = [True] * sum(categorical) + [False] * (len(categorical) - sum(categorical))
    model = HistGradientBoostingClassifier(categorical_features=mask, max_iter=500, random_state=0)
    return make_pipeline(_ordinal(categorical), model).fit(X, y)


def boosted_regressor(X: np.ndarray, y: np.ndarray, categorical: Sequence[bool]) -> Any:
    mask = [True] * sum(categorical) + [False] * (len(categorical) - sum(categorical))
    model = HistGradientBoostingRegressor(categorical_features=mask, max_iter=500, early_stopping=True, random_state=0)
    return make_pipeline(_ordinal(categorical), model).fit(X, y)


def timed(fit: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of a fit on one thread, as the server's training jobs run."""
    with threadpool_limits(1):
        started = time.perf_counter()
        model = fit()
    return round(time.perf_counter() - started, 3), model


# ---- Predict latency --------------------------------------------------------------------------------------


def latency(server: LiveServer, ml: Any, adult: Adult, calls: int, rounds: int) -> dict[str, Any]:
    records = adult.records(500)
    sources = [TextSource("train.csv", adult.train)]
    table = load_table(sources, infer_schema(sources, ReadOptions(), target="income"), ReadOptions()).table
    figures = {}
    for algorithm in ("sgd", "auto"):
        model_id = f"adult-{algorithm}"
        url = ml.create_realtime_endpoint(MLModelId=model_id)["RealtimeEndpointInfo"]["EndpointUrl"]
        client = server.client("machinelearning")

        def remote(record: dict[str, str], client: Any = client, model_id: str = model_id, url: str = url) -> Any:
            return client.predict(MLModelId=model_id, Record=record, PredictEndpoint=url)

        local = Predictor(train(table, ModelType.BINARY, TrainingParameters.from_mapping({"algorithm": algorithm})))
        figures[algorithm] = {
            "learner": local.model.learner.value,
            "http_ms": over_rounds([percentiles(remote, records, calls) for _ in range(rounds)]),
            "signed_http_ms": percentiles(presigned(server, model_id, url, records), records, calls),
            "in_process_ms": percentiles(local.predict, records, calls),
        }
    return figures


def over_rounds(rounds: list[dict[str, float]]) -> dict[str, Any]:
    """Several rounds of the same measurement: the median round's figures, and every round's p99.

    On a shared machine one round's tail moves with whatever else runs at that moment; the spread of
    the rounds shows how much."""
    middle = sorted(rounds, key=lambda figures: figures["p99"])[len(rounds) // 2]
    return {**middle, "p99_rounds": [figures["p99"] for figures in rounds]}


def presigned(server: LiveServer, model_id: str, url: str, records: Sequence[dict[str, str]]) -> Callable[..., Any]:
    """Predict over one kept-alive HTTP connection with requests signed beforehand: the server's share of the
    latency, without boto3's own work on each call (building, signing and parsing take it 1-2 ms)."""
    credentials = Credentials(server.access_key, server.secret_key)
    prepared = {}
    for record in records:
        body = json.dumps({"MLModelId": model_id, "Record": record, "PredictEndpoint": url})
        request = AWSRequest("POST", f"{url}/", data=body, headers={"X-Amz-Target": "AmazonML_20141212.Predict"})
        request.headers["Content-Type"] = "application/x-amz-json-1.1"
        SigV4Auth(credentials, "machinelearning", "us-east-1").add_auth(request)
        prepared[id(record)] = (body.encode(), dict(request.headers.items()))
    connection = http.client.HTTPConnection("127.0.0.1", server.port)

    def call(record: dict[str, str]) -> Any:
        body, headers = prepared[id(record)]
        connection.request("POST", "/", body, headers)
        answer = connection.getresponse()
        data = answer.read()
        assert answer.status == 200, data
        return data

    return call


def percentiles(
    call: Callable[[dict[str, str]], Any], records: Sequence[dict[str, str]], calls: int
) -> dict[str, float]:
    for record in records[:50]:  # warm up: connections, caches, the endpoint's mounted model
        call(record)
    times = []
    for i in range(calls):
        started = time.perf_counter()
        call(records[i % len(records)])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50": round(times[len(times) // 2], 3),
        "p99": round(times[int(len(times) * 0.99)], 3),
        "mean": round(statistics.fmean(times), 3),
        "calls": calls,
    }


# ---- batch prediction -------------------------------------------------------------------------------------


def batch_throughput(ml: Any, s3: Any, adult: Adult, copies: int) -> dict[str, Any]:
    lines = adult.train.splitlines()
    body = "\n".join([lines[0], *(lines[1:] * copies)]) + "\n"
    s3.put_object(Bucket=BUCKET, Key="big/adult.csv", Body=body.encode())
    schema = ml.get_data_source(DataSourceId="adult-train", Verbose=True)["DataSourceSchema"]
    datasources(ml, [("big", f"s3://{BUCKET}/big/adult.csv", None, schema)])
    figures = {"rows": (len(lines) - 1) * copies, "bytes": len(body)}
    for algorithm in ("sgd", "auto"):
        batch_id = f"batch-{algorithm}"
        started = time.monotonic()
        ml.create_batch_prediction(
            BatchPredictionId=batch_id,
            MLModelId=f"adult-{algorithm}",
            BatchPredictionDataSourceId="big",
            OutputUri=f"s3://{BUCKET}/out/",
        )
        done = wait(ml.get_batch_prediction, timeout=1800, BatchPredictionId=batch_id)
        assert done["Status"] == "COMPLETED", done
        wall = time.monotonic() - started
        figures[algorithm] = {
            "rows_per_second": round(done["TotalRecordCount"] / (done["ComputeTime"] / 1000)),
            "compute_seconds": done["ComputeTime"] / 1000,
            "wall_seconds": round(wall, 2),
        }
    return figures


# ---- report -----------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "",
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def report(figures: dict[str, Any]) -> None:
    load = ", ".join(map(str, figures["load_average"]))
    print(f"{figures['machine']}\n{figures['command']}  ({figures['date']}, {figures['seconds']} s, load {load})\n")
    for data, metric in (("adult", "test AUC"), ("abalone", "test RMSE")):
        print(f"{data}: {metric}, training seconds")
        for name, row in figures[data].items():
            extra = f"  [{row['chose']}]" if row.get("chose") else ""
            print(f"  {name:18} {row['metric']:.4f}  {row['train_seconds']:7.2f} s{extra}")
    print("\nPredict latency (ms): p50 / p99 / mean")
    for algorithm, row in figures["latency"].items():
        for where in ("http_ms", "signed_http_ms", "in_process_ms"):
            f = row[where]
            rounds = "  (p99 of each round: " + " / ".join(map(str, f["p99_rounds"])) + ")" if "p99_rounds" in f else ""
            print(
                f"  {algorithm} ({row['learner']}) {where[:-3]:12} {f['p50']:7.3f} {f['p99']:7.3f} {f['mean']:7.3f}"
                + rounds
            )
    batch = figures["batch"]
    print(f"\nbatch prediction, {batch['rows']} rows ({batch['bytes'] / 1e6:.1f} MB)")
    for algorithm in ("sgd", "auto"):
        row = batch[algorithm]
        print(
            f"  {algorithm:5} {row['rows_per_second']:>9,} rows/s"
            f"  ({row['compute_seconds']} s, wall {row['wall_seconds']} s)"
        )


if __name__ == "__main__":
    main()
