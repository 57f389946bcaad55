"""Deploy's wire handlers: SageMaker (model registry and hosting) and SageMaker Runtime (InvokeEndpoint)."""

from altostratus.api.deploy.sagemaker import SageMakerApi
from altostratus.api.deploy.sagemaker_runtime import SageMakerRuntimeApi

__all__ = ["SageMakerApi", "SageMakerRuntimeApi"]
