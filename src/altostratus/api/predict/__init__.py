"""Predict's wire handlers: the Amazon ML API (boto3's `machinelearning`) and the links its LogUri hands out."""

from altostratus.api.predict.log_links import LogLinks
from altostratus.api.predict.machine_learning import MachineLearningApi

__all__ = ["LogLinks", "MachineLearningApi"]
