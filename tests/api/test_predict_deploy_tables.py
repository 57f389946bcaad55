"""The predict and deploy APIs: each class's operations make its table, and a handler runs alone, without HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest

from altostratus.api.context import Call
from altostratus.api.deploy import SageMakerApi, SageMakerRuntimeApi
from altostratus.api.predict import MachineLearningApi
from altostratus.deploy.endpoints import EndpointService
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.registry import Registry
from altostratus.storage.paging import ListQuery, Page

REGISTRY = {
    "CreateModelPackageGroup",
    "DescribeModelPackageGroup",
    "ListModelPackageGroups",
    "DeleteModelPackageGroup",
    "PutModelPackageGroupPolicy",
    "GetModelPackageGroupPolicy",
    "DeleteModelPackageGroupPolicy",
    "CreateModelPackage",
    "DescribeModelPackage",
    "ListModelPackages",
    "UpdateModelPackage",
    "DeleteModelPackage",
}
HOSTING = {
    "CreateModel",
    "DescribeModel",
    "DeleteModel",
    "ListModels",
    "CreateEndpointConfig",
    "DescribeEndpointConfig",
    "DeleteEndpointConfig",
    "ListEndpointConfigs",
    "CreateEndpoint",
    "DescribeEndpoint",
    "ListEndpoints",
    "UpdateEndpoint",
    "UpdateEndpointWeightsAndCapacities",
    "DeleteEndpoint",
}
MACHINE_LEARNING = {
    f"{verb}{noun}"
    for noun in ("DataSource", "MLModel", "Evaluation", "BatchPrediction")
    for verb in ("Get", "Update", "Delete")
} | {
    "CreateDataSourceFromS3",
    "CreateMLModel",
    "CreateEvaluation",
    "CreateBatchPrediction",
    "DescribeDataSources",
    "DescribeMLModels",
    "DescribeEvaluations",
    "DescribeBatchPredictions",
    "CreateRealtimeEndpoint",
    "DeleteRealtimeEndpoint",
    "Predict",
}
NOTHING: Any = None  # the tables are read off the classes' methods; no service is called


class Models:
    """An EndpointService stand-in that lists two models and says a third page follows."""

    def __init__(self) -> None:
        self.queries: list[ListQuery] = []

    def list_models(self, query: ListQuery) -> Page[tuple[str, str, dt.datetime]]:
        self.queries.append(query)
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return Page([("a", "arn:a", at), ("b", "arn:b", at)], query.offset + 2)


def test_sagemaker_serves_the_registry_and_hosting_operations() -> None:
    assert set(SageMakerApi(NOTHING, NOTHING).handlers()) == REGISTRY | HOSTING
    assert set(SageMakerRuntimeApi(NOTHING).handlers()) == {"InvokeEndpoint"}


def test_machine_learning_serves_amazon_mls_operations() -> None:
    api = MachineLearningApi(NOTHING, NOTHING, NOTHING, NOTHING, "http://localhost")
    assert set(api.handlers()) == MACHINE_LEARNING


def test_a_hosting_operation_runs_alone_and_pages_by_the_token_it_hands_out() -> None:
    models = Models()
    api = SageMakerApi(cast(Registry, NOTHING), cast(EndpointService, models))
    call = cast(Call, NOTHING)
    first = api.list_models({"MaxResults": 2}, call)
    assert [m["ModelName"] for m in first["Models"]] == ["a", "b"]
    api.list_models({"NextToken": first["NextToken"]}, call)
    assert [q.offset for q in models.queries] == [0, 2] and models.queries[0].limit == 2
    with pytest.raises(InvalidValue, match="NextToken='2'"):
        api.list_models({"NextToken": "2"}, call)
