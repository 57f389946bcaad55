"""Predict: numbers and classes from historical data, like Amazon Machine Learning (datasources,
recipes, SGD models and gradient boosting, evaluations, realtime and batch predictions)."""

from altostratus.predict.datasources import CsvSource, FileSource, TextSource
from altostratus.predict.entities import BatchPrediction, DataSource, Endpoint, Evaluation, Model, Status
from altostratus.predict.errors import (
    ArtifactCorrupt,
    Cancelled,
    IdempotentParameterMismatch,
    InvalidInput,
    LimitExceeded,
    PredictorNotMounted,
    ResourceNotFound,
)
from altostratus.predict.locations import DataLocations, LocalFiles
from altostratus.predict.models import Algorithm, Learner, ModelType, TrainingParameters
from altostratus.predict.predictor import Predictor
from altostratus.predict.schema import Attribute, AttributeType, Schema
from altostratus.predict.service import PredictService
from altostratus.predict.splits import Rearrangement
from altostratus.predict.values import ReadOptions
from altostratus.predict.work import JOB_BATCH, JOB_DATASOURCE, JOB_EVALUATE, JOB_TRAIN
from altostratus.storage.paging import ListQuery, Page

__all__ = [
    "JOB_BATCH",
    "JOB_DATASOURCE",
    "JOB_EVALUATE",
    "JOB_TRAIN",
    "Algorithm",
    "ArtifactCorrupt",
    "Attribute",
    "AttributeType",
    "BatchPrediction",
    "Cancelled",
    "CsvSource",
    "DataLocations",
    "DataSource",
    "Endpoint",
    "Evaluation",
    "FileSource",
    "IdempotentParameterMismatch",
    "InvalidInput",
    "Learner",
    "LimitExceeded",
    "ListQuery",
    "LocalFiles",
    "Model",
    "ModelType",
    "Page",
    "PredictService",
    "Predictor",
    "PredictorNotMounted",
    "ReadOptions",
    "Rearrangement",
    "ResourceNotFound",
    "Schema",
    "Status",
    "TextSource",
    "TrainingParameters",
]
