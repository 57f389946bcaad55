"""SageMaker hosting's operations: models, endpoint configs, endpoints and their weights.

HostingOperations is one half of SageMakerApi; the model registry's operations (RegistryOperations) are
the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.api.context import Call
from altostratus.api.deploy.listing import TOKENS, list_query
from altostratus.deploy.endpoints import EndpointService
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.hosting import Endpoint, EndpointConfig, EndpointStatus, Variant, VariantSpec


class HostingOperations:
    """SageMaker's hosting operations, over the EndpointService."""

    _endpoints: EndpointService

    def create_model(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateModel: one container, naming a registered model package version."""
        containers, primary = _containers(params)
        model = self._endpoints.create_model(
            params["ModelName"], containers[0]["ModelPackageName"], containers=containers, primary=primary
        )
        return {"ModelArn": model.arn}

    def describe_model(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeModel."""
        model = self._endpoints.get_model(params["ModelName"])
        shown = {"PrimaryContainer": model.containers[0]} if model.primary else {"Containers": list(model.containers)}
        return {"ModelName": model.name, "ModelArn": model.arn, "CreationTime": model.created_at, **shown}

    def delete_model(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteModel."""
        self._endpoints.delete_model(params["ModelName"])
        return {}

    def list_models(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListModels."""
        page = self._endpoints.list_models(list_query(params))
        items = [{"ModelName": name, "ModelArn": arn, "CreationTime": at} for name, arn, at in page.items]
        return {"Models": items, **TOKENS.next_page(page.next_offset)}

    def create_endpoint_config(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateEndpointConfig: production variants and shadow variants."""
        specs = [_spec(v, shadow=False) for v in params["ProductionVariants"]]
        specs += [_spec(v, shadow=True) for v in params.get("ShadowProductionVariants", ())]
        config = self._endpoints.create_config(params["EndpointConfigName"], specs)
        return {"EndpointConfigArn": config.arn}

    def describe_endpoint_config(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeEndpointConfig."""
        return _config(self._endpoints.get_config(params["EndpointConfigName"]))

    def delete_endpoint_config(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteEndpointConfig."""
        self._endpoints.delete_config(params["EndpointConfigName"])
        return {}

    def list_endpoint_configs(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListEndpointConfigs."""
        page = self._endpoints.list_configs(list_query(params))
        items = [{"EndpointConfigName": n, "EndpointConfigArn": a, "CreationTime": t} for n, a, t in page.items]
        return {"EndpointConfigs": items, **TOKENS.next_page(page.next_offset)}

    def create_endpoint(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateEndpoint: deploys the config's variants."""
        endpoint = self._endpoints.create_endpoint(
            params["EndpointName"], params["EndpointConfigName"], actor=call.caller.principal_id
        )
        return {"EndpointArn": endpoint.arn}

    def describe_endpoint(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeEndpoint: its status and each variant's weights and instances."""
        return _endpoint(self._endpoints.get_endpoint(params["EndpointName"]))

    def list_endpoints(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListEndpoints, of one status if StatusEquals says so."""
        status = EndpointStatus(params["StatusEquals"]) if "StatusEquals" in params else None
        page = self._endpoints.list_endpoints(list_query(params), status)
        items = [
            {"EndpointName": n, "EndpointArn": a, "CreationTime": c, "LastModifiedTime": m, "EndpointStatus": s.value}
            for n, a, c, m, s in page.items
        ]
        return {"Endpoints": items, **TOKENS.next_page(page.next_offset)}

    def update_endpoint(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateEndpoint: moves the endpoint to another config, keeping the weights if asked."""
        endpoint = self._endpoints.update_endpoint(
            params["EndpointName"],
            params["EndpointConfigName"],
            actor=call.caller.principal_id,
            retain_weights=bool(params.get("RetainAllVariantProperties")),
        )
        return {"EndpointArn": endpoint.arn}

    def update_endpoint_weights_and_capacities(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateEndpointWeightsAndCapacities: the variants' weights."""
        desired = params["DesiredWeightsAndCapacities"]
        weights = {item["VariantName"]: item["DesiredWeight"] for item in desired if "DesiredWeight" in item}
        endpoint = self._endpoints.set_weights(
            params["EndpointName"], weights, actor=call.caller.principal_id, reason="UpdateEndpointWeightsAndCapacities"
        )
        return {"EndpointArn": endpoint.arn}

    def delete_endpoint(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteEndpoint."""
        self._endpoints.delete_endpoint(params["EndpointName"], actor=call.caller.principal_id)
        return {}


def _containers(params: Mapping[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    primary = "PrimaryContainer" in params
    containers = [params["PrimaryContainer"]] if primary else list(params.get("Containers") or ())
    if len(containers) != 1:
        raise InvalidValue(
            f"the model has {len(containers)} containers; this server runs one registered model version: give "
            "PrimaryContainer (or one entry of Containers) with ModelPackageName"
        )
    if "ModelPackageName" not in containers[0]:
        raise InvalidValue(
            "PrimaryContainer.ModelPackageName is required: this server runs model package versions from the "
            "model registry (register an artifact with CreateModelPackage first)"
        )
    return containers, primary


def _spec(variant: Mapping[str, Any], *, shadow: bool) -> VariantSpec:
    if "ModelName" not in variant:
        raise InvalidValue(f"ModelName is required in variant {variant.get('VariantName')!r}")
    return VariantSpec(
        name=variant["VariantName"],
        model_name=variant["ModelName"],
        weight=float(variant.get("InitialVariantWeight", 1.0)),
        instance_count=int(variant.get("InitialInstanceCount", 1)),
        instance_type=variant.get("InstanceType"),
        shadow=shadow,
    )


def _config(config: EndpointConfig) -> dict[str, Any]:
    def shown(specs: Sequence[VariantSpec]) -> list[dict[str, Any]]:
        return [
            {
                "VariantName": s.name,
                "ModelName": s.model_name,
                "InitialInstanceCount": s.instance_count,
                "InitialVariantWeight": s.weight,
                **({"InstanceType": s.instance_type} if s.instance_type else {}),
            }
            for s in specs
        ]

    document: dict[str, Any] = {
        "EndpointConfigName": config.name,
        "EndpointConfigArn": config.arn,
        "ProductionVariants": shown(config.production),
        "CreationTime": config.created_at,
    }
    if config.shadows:
        document["ShadowProductionVariants"] = shown(config.shadows)
    return document


def _endpoint(endpoint: Endpoint) -> dict[str, Any]:
    document: dict[str, Any] = {
        "EndpointName": endpoint.name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.config_name,
        "ProductionVariants": [_variant(v, endpoint.updated_at) for v in endpoint.production],
        "EndpointStatus": endpoint.status.value,
        "CreationTime": endpoint.created_at,
        "LastModifiedTime": endpoint.updated_at,
    }
    if endpoint.shadows:
        document["ShadowProductionVariants"] = [_variant(v, endpoint.updated_at) for v in endpoint.shadows]
    if endpoint.failure_reason:
        document["FailureReason"] = endpoint.failure_reason[:1024]
    if endpoint.pending_config is not None:
        document["PendingDeploymentSummary"] = {
            "EndpointConfigName": endpoint.pending_config,
            "StartTime": endpoint.updated_at,
        }
    return document


def _variant(variant: Variant, at: dt.datetime) -> dict[str, Any]:
    # DeployedImages shows what runs: the registry version in place of a container image.
    return {
        "VariantName": variant.name,
        "DeployedImages": [
            {"SpecifiedImage": variant.package_arn, "ResolvedImage": variant.package_arn, "ResolutionTime": at}
        ],
        "CurrentWeight": variant.current_weight,
        "DesiredWeight": variant.desired_weight,
        "CurrentInstanceCount": variant.instance_count,
        "DesiredInstanceCount": variant.instance_count,
    }
