"""SageMaker's `sagemaker` json API: the model registry's operations and hosting's, one class for one service."""

from __future__ import annotations

from altostratus.api.deploy.hosting_operations import HostingOperations
from altostratus.api.deploy.registry_operations import RegistryOperations
from altostratus.api.model_adapters import Handler, JsonAdapter, operation_handlers
from altostratus.deploy.endpoints import EndpointService
from altostratus.deploy.registry import Registry


class SageMakerApi(RegistryOperations, HostingOperations):
    """The `sagemaker` operations served here: model package groups and versions, models, configs, endpoints."""

    def __init__(self, registry: Registry, endpoints: EndpointService) -> None:
        self._registry = registry
        self._endpoints = endpoints

    def adapter(self) -> JsonAdapter:
        """The json adapter serving these operations."""
        return JsonAdapter("sagemaker", self.handlers())

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler."""
        return operation_handlers(self, "sagemaker")
