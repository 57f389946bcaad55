"""Predict models trained on a live server, for the registry's API and CLI tests."""

from __future__ import annotations

from tests.api.ml_data import wait
from tests.deploy.conftest import shuffled_labels_csv
from tests.live_server import LiveServer
from tests.predict.conftest import synthetic_csv

HALF = '{"splitting": {"percentBegin": 0, "percentEnd": 50, "strategy": "sequential"}}'
REST = '{"splitting": {"percentBegin": 50, "percentEnd": 100, "strategy": "sequential"}}'
SCHEMA = '{"targetAttributeName": "y"}'


def train_models(server: LiveServer) -> None:
    """Through boto3: BINARY models `good` (AUC about 0.98 on `holdout`) and `bad` (shuffled labels), evaluated."""
    s3, ml = server.client("s3"), server.client("machinelearning")
    text = synthetic_csv(600, seed=3)
    s3.create_bucket(Bucket="registry-data")
    s3.put_object(Bucket="registry-data", Key="clean/data.csv", Body=text.encode())
    s3.put_object(Bucket="registry-data", Key="shuffled/data.csv", Body=shuffled_labels_csv(text).encode())
    for source_id, key, split in (
        ("train-good", "clean/data.csv", HALF),
        ("holdout", "clean/data.csv", REST),
        ("train-bad", "shuffled/data.csv", HALF),
    ):
        spec = {"DataLocationS3": f"s3://registry-data/{key}", "DataSchema": SCHEMA, "DataRearrangement": split}
        ml.create_data_source_from_s3(DataSourceId=source_id, DataSpec=spec)
    for model_id in ("good", "bad"):
        ml.create_ml_model(MLModelId=model_id, MLModelType="BINARY", TrainingDataSourceId=f"train-{model_id}")
        ml.create_evaluation(EvaluationId=f"eval-{model_id}", MLModelId=model_id, EvaluationDataSourceId="holdout")
    for model_id in ("good", "bad"):
        assert wait(ml.get_evaluation, EvaluationId=f"eval-{model_id}")["Status"] == "COMPLETED"
