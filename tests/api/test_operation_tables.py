"""Each AWS service's handlers are one class whose public methods are exactly its operations, as boto3 names them."""

from __future__ import annotations

import pytest
from botocore import xform_name

from altostratus.api.deploy import SageMakerApi, SageMakerRuntimeApi
from altostratus.api.functions.lambda_api import LambdaApi
from altostratus.api.functions.logs_api import LogsApi
from altostratus.api.lake import S3Api
from altostratus.api.model_adapters import operation_handlers
from altostratus.api.predict import MachineLearningApi

# (the class, its service in botocore, its public methods that are not operations)
APIS = [
    # S3's browser operations (api/lake/browser.py) are not in botocore's model: rest_xml routes them itself.
    (S3Api, "s3", {"post_object", "options_object"}),
    (LambdaApi, "lambda", {"adapter", "handlers"}),
    (LogsApi, "logs", {"adapter", "handlers"}),
    (MachineLearningApi, "machinelearning", {"adapter", "handlers"}),
    (SageMakerApi, "sagemaker", {"adapter", "handlers"}),
    (SageMakerRuntimeApi, "sagemaker-runtime", {"adapter", "handlers"}),
]


@pytest.mark.parametrize(("api", "service", "plumbing"), APIS, ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_method_is_an_operation(api: type, service: str, plumbing: set[str]) -> None:
    # A method misnamed would silently drop out of the table and its operation answer NotImplemented.
    table = operation_handlers(api, service)
    methods = {name for name in dir(api) if not name.startswith("_") and callable(getattr(api, name))}
    assert methods - plumbing == {xform_name(operation) for operation in table}


def test_s3_serves_both_names_of_the_notification_operations() -> None:
    table = operation_handlers(S3Api, "s3")
    for old, new in (
        ("PutBucketNotification", "PutBucketNotificationConfiguration"),
        ("GetBucketNotification", "GetBucketNotificationConfiguration"),
    ):
        assert old in table and new in table
