"""SageMaker hosting over the `sagemaker` json API: models, endpoint configs, endpoints and their weights.

`endpoint_handlers` is one part of the `sagemaker` handler table; the model registry's operations are the
other (the composition root joins them into one JsonAdapter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.api.context import Call
from altostratus.api.model_adapters import Handler
from altostratus.deploy.endpoints import EndpointService
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.hosting import Endpoint, EndpointConfig, EndpointStatus, Variant, VariantSpec
from altostratus.storage.paging import MAX_PAGE, ListQuery, Page

SORT_FIELDS = ("Name", "CreationTime")


def endpoint_handlers(service: EndpointService) -> dict[str, Handler]:
    """The handlers of SageMaker's hosting operations, by operation name."""

    def create_model(params: dict[str, Any], call: Call) -> dict[str, Any]:
        containers, primary = _containers(params)
        model = service.create_model(
            params["ModelName"], containers[0]["ModelPackageName"], containers=containers, primary=primary
        )
        return {"ModelArn": model.arn}

    def describe_model(params: dict[str, Any], call: Call) -> dict[str, Any]:
        model = service.get_model(params["ModelName"])
        shown = {"PrimaryContainer": model.containers[0]} if model.primary else {"Containers": list(model.containers)}
        return {"ModelName": model.name, "ModelArn": model.arn, "CreationTime": model.created_at, **shown}

    def delete_model(params: dict[str, Any], call: Call) -> dict[str, Any]:
        service.delete_model(params["ModelName"])
        return {}

    def list_models(params: dict[str, Any], call: Call) -> dict[str, Any]:
        page = service.list_models(list_query(params))
        items = [{"ModelName": name, "ModelArn": arn, "CreationTime": at} for name, arn, at in page.items]
        return {"Models": items, **_token(page)}

    def create_endpoint_config(params: dict[str, Any], call: Call) -> dict[str, Any]:
        specs = [_spec(v, shadow=False) for v in params["ProductionVariants"]]
        specs += [_spec(v, shadow=True) for v in params.get("ShadowProductionVariants", ())]
        config = service.create_config(params["EndpointConfigName"], specs)
        return {"EndpointConfigArn": config.arn}

    def describe_endpoint_config(params: dict[str, Any], call: Call) -> dict[str, Any]:
        return _config(service.get_config(params["EndpointConfigName"]))

    def delete_endpoint_config(params: dict[str, Any], call: Call) -> dict[str, Any]:
        service.delete_config(params["EndpointConfigName"])
        return {}

    def list_endpoint_configs(params: dict[str, Any], call: Call) -> dict[str, Any]:
        page = service.list_configs(list_query(params))
        items = [{"EndpointConfigName": n, "EndpointConfigArn": a, "CreationTime": t} for n, a, t in page.items]
        return {"EndpointConfigs": items, **_token(page)}

    def create_endpoint(params: dict[str, Any], call: Call) -> dict[str, Any]:
        endpoint = service.create_endpoint(
            params["EndpointName"], params["EndpointConfigName"], actor=call.caller.principal_id
        )
        return {"EndpointArn": endpoint.arn}

    def describe_endpoint(params: dict[str, Any], call: Call) -> dict[str, Any]:
        return _endpoint(service.get_endpoint(params["EndpointName"]))

    def list_endpoints(params: dict[str, Any], call: Call) -> dict[str, Any]:
        status = EndpointStatus(params["StatusEquals"]) if "StatusEquals" in params else None
        page = service.list_endpoints(list_query(params), status)
        items = [
            {"EndpointName": n, "EndpointArn": a, "CreationTime": c, "LastModifiedTime": m, "EndpointStatus": s.value}
            for n, a, c, m, s in page.items
        ]
        return {"Endpoints": items, **_token(page)}

    def update_endpoint(params: dict[str, Any], call: Call) -> dict[str, Any]:
        endpoint = service.update_endpoint(
            params["EndpointName"],
            params["EndpointConfigName"],
            actor=call.caller.principal_id,
            retain_weights=bool(params.get("RetainAllVariantProperties")),
        )
        return {"EndpointArn": endpoint.arn}

    def update_weights(params: dict[str, Any], call: Call) -> dict[str, Any]:
        desired = params["DesiredWeightsAndCapacities"]
        weights = {item["VariantName"]: item["DesiredWeight"] for item in desired if "DesiredWeight" in item}
        endpoint = service.set_weights(
            params["EndpointName"], weights, actor=call.caller.principal_id, reason="UpdateEndpointWeightsAndCapacities"
        )
        return {"EndpointArn": endpoint.arn}

    def delete_endpoint(params: dict[str, Any], call: Call) -> dict[str, Any]:
        service.delete_endpoint(params["EndpointName"], actor=call.caller.principal_id)
        return {}

    return {
        "CreateModel": create_model,
        "DescribeModel": describe_model,
        "DeleteModel": delete_model,
        "ListModels": list_models,
        "CreateEndpointConfig": create_endpoint_config,
        "DescribeEndpointConfig": describe_endpoint_config,
        "DeleteEndpointConfig": delete_endpoint_config,
        "ListEndpointConfigs": list_endpoint_configs,
        "CreateEndpoint": create_endpoint,
        "DescribeEndpoint": describe_endpoint,
        "ListEndpoints": list_endpoints,
        "UpdateEndpoint": update_endpoint,
        "UpdateEndpointWeightsAndCapacities": update_weights,
        "DeleteEndpoint": delete_endpoint,
    }


def list_query(params: Mapping[str, Any]) -> ListQuery:
    """A ListQuery from SageMaker's NameContains, CreationTime*, SortBy, SortOrder, MaxResults and NextToken."""
    token = params.get("NextToken")
    if token is not None and not token.isdigit():
        raise InvalidValue(f"NextToken={token!r} is not a token this server handed out")
    return ListQuery(
        name_contains=params.get("NameContains"),
        created_after=params.get("CreationTimeAfter"),
        created_before=params.get("CreationTimeBefore"),
        by_name=params.get("SortBy") == "Name",
        descending=params.get("SortOrder", "Descending") == "Descending",
        limit=int(params.get("MaxResults", MAX_PAGE)),
        offset=int(token or 0),
    )


def _token(page: Page[Any]) -> dict[str, str]:
    return {"NextToken": str(page.next_offset)} if page.next_offset is not None else {}


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
