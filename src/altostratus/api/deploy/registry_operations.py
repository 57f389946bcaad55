"""The SageMaker model registry over the `sagemaker` json API: model package groups and versioned packages.

RegistryOperations is one half of SageMakerApi (HostingOperations is the other). A model
package's ModelApprovalStatus is its stage: PendingManualApproval (test), Approved (prod), Rejected
(archived). UpdateModelPackage(ModelApprovalStatus=Approved) starts the promotion gate and returns at
once; DescribeModelPackage shows the gate as the validation status "promotion-gate" (InProgress,
Completed or Failed with the reasons), and ApprovalDescription carries the verdict. What the registry
knows of how a version was made (training data with ETags, parameters, metrics, checksum) is its model
card (ModelCard.ModelCardContent, in SageMaker's model card JSON layout).

A group's gate policy travels as its resource policy: PutModelPackageGroupPolicy sets it (ResourcePolicy is
the gate policy's JSON, see altostratus.deploy.gates, not an IAM policy), GetModelPackageGroupPolicy shows it
("{}" when none is set: the default gate applies), DeleteModelPackageGroupPolicy returns the group to the
default gate. These are the SageMaker operations that keep one JSON document per group (up to 20,480
characters), so boto3 and the aws CLI send them unmodified; read-only keys may Get but not Put or Delete.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from altostratus.api.context import Call
from altostratus.api.deploy.listing import TOKENS, list_query
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.gates import GatePolicy
from altostratus.deploy.model_loading import content_types
from altostratus.deploy.registry import Registry
from altostratus.deploy.registry_names import parse_group
from altostratus.deploy.stages import STAGE_OF_STATUS, Stage
from altostratus.deploy.versions import GateStatus, ModelGroup, ModelVersion

GATE_NAME = "promotion-gate"
MODEL_CARD_STATUS = {Stage.TEST: "PendingReview", Stage.PROD: "Approved", Stage.ARCHIVED: "Archived"}
# CreateModelPackage fields this registry does not keep; sent anyway, they are refused rather than lost.
UNSUPPORTED_ON_CREATE = (
    "ModelPackageName",
    "SourceAlgorithmSpecification",
    "ValidationSpecification",
    "AdditionalInferenceSpecifications",
    "DriftCheckBaselines",
    "ModelCard",
)
UNSUPPORTED_ON_UPDATE = ("InferenceSpecification", "SourceUri", "ModelCard", "AdditionalInferenceSpecificationsToAdd")


class RegistryOperations:
    """SageMaker's model registry operations, over the Registry."""

    _registry: Registry

    def create_model_package_group(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateModelPackageGroup: a new group, created by the caller."""
        group = self._registry.create_group(
            params["ModelPackageGroupName"],
            actor=call.caller.principal_id,
            description=params.get("ModelPackageGroupDescription", ""),
        )
        return {"ModelPackageGroupArn": self._registry.group_arn(group.name)}

    def describe_model_package_group(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeModelPackageGroup, with who created it."""
        group = self._registry.get_group(parse_group("ModelPackageGroupName", params["ModelPackageGroupName"]))
        return {**_group(self._registry, group), "CreatedBy": _user(group.created_by)}

    def list_model_package_groups(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListModelPackageGroups, oldest first unless SortOrder says otherwise."""
        page = self._registry.list_groups(list_query(params, descending=False))
        return {
            "ModelPackageGroupSummaryList": [_group(self._registry, group) for group in page.items],
            **TOKENS.next_page(page.next_offset),
        }

    def delete_model_package_group(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteModelPackageGroup."""
        name = parse_group("ModelPackageGroupName", params["ModelPackageGroupName"])
        self._registry.delete_group(name, actor=call.caller.principal_id)
        return {}

    def put_model_package_group_policy(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """PutModelPackageGroupPolicy: ResourcePolicy is the group's gate policy."""
        name = parse_group("ModelPackageGroupName", params["ModelPackageGroupName"])
        self._registry.set_policy(name, _gate_policy(params["ResourcePolicy"]), actor=call.caller.principal_id)
        return {"ModelPackageGroupArn": self._registry.group_arn(name)}

    def get_model_package_group_policy(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """GetModelPackageGroupPolicy: the gate policy, "{}" when the default gate applies."""
        policy = self._registry.get_policy(parse_group("ModelPackageGroupName", params["ModelPackageGroupName"]))
        return {"ResourcePolicy": json.dumps(policy.to_dict() if policy else {})}

    def delete_model_package_group_policy(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteModelPackageGroupPolicy: the group returns to the default gate."""
        name = parse_group("ModelPackageGroupName", params["ModelPackageGroupName"])
        self._registry.set_policy(name, None, actor=call.caller.principal_id)
        return {}

    def create_model_package(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateModelPackage: a new version of a group, in test (PendingManualApproval)."""
        _refuse_unsupported(params, UNSUPPORTED_ON_CREATE, "CreateModelPackage")
        if "ModelPackageGroupName" not in params:
            raise InvalidValue("ModelPackageGroupName is required: this self._registry keeps versioned model packages")
        status = params.get("ModelApprovalStatus", Stage.TEST.approval_status)
        if status != Stage.TEST.approval_status:
            raise InvalidValue(
                f"ModelApprovalStatus={status!r}; a new version starts as PendingManualApproval (test) and is "
                "Approved only through the promotion gate (UpdateModelPackage)"
            )
        version = self._registry.register(
            parse_group("ModelPackageGroupName", params["ModelPackageGroupName"]),
            _source_uri(params),
            actor=call.caller.principal_id,
            description=params.get("ModelPackageDescription", ""),
            customer_metadata=params.get("CustomerMetadataProperties"),
            model_metrics=params.get("ModelMetrics"),
        )
        return {"ModelPackageArn": self._registry.version_arn(version)}

    def describe_model_package(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeModelPackage: the version, its gate status and its model card."""
        return _package(self._registry, self._registry.resolve(params["ModelPackageName"]))

    def list_model_packages(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListModelPackages: the versions of one group or every group, by stage if asked."""
        group = params.get("ModelPackageGroupName")
        status = params.get("ModelApprovalStatus")
        if params.get("ModelPackageType") == "Unversioned":
            return {"ModelPackageSummaryList": []}
        page = self._registry.list_versions(
            parse_group("ModelPackageGroupName", group) if group else None,
            stage=STAGE_OF_STATUS[status] if status else None,
            query=list_query(params, descending=False),
        )
        return {
            "ModelPackageSummaryList": [_summary(self._registry, v) for v in page.items],
            **TOKENS.next_page(page.next_offset),
        }

    def update_model_package(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateModelPackage: metadata and description; ModelApprovalStatus moves the stage."""
        _refuse_unsupported(params, UNSUPPORTED_ON_UPDATE, "UpdateModelPackage")
        version = self._registry.resolve(params["ModelPackageArn"], "ModelPackageArn")
        name, number, actor = version.group_name, version.version, call.caller.principal_id
        status, description = params.get("ModelApprovalStatus"), params.get("ApprovalDescription")
        metadata, removed = params.get("CustomerMetadataProperties"), params.get("CustomerMetadataPropertiesToRemove")
        if metadata or removed or (status is None and description is not None):
            self._registry.update(
                name,
                number,
                actor=actor,
                approval_description=description if status is None else None,
                set_metadata=metadata,
                remove_metadata=removed or (),
            )
        reason = description or ""
        if status == Stage.PROD.approval_status:
            self._registry.request_promotion(name, number, actor=actor, reason=reason)
        elif status == Stage.ARCHIVED.approval_status:
            self._registry.reject(name, number, actor=actor, reason=reason)
        elif status == Stage.TEST.approval_status:
            self._registry.reopen(name, number, actor=actor, reason=reason)
        return {"ModelPackageArn": self._registry.version_arn(version)}

    def delete_model_package(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteModelPackage: one version."""
        version = self._registry.resolve(params["ModelPackageName"])
        self._registry.delete_version(version.group_name, version.version, actor=call.caller.principal_id)
        return {}


def model_card(registry: Registry, version: ModelVersion) -> dict[str, Any]:
    """What the registry knows of how a version was made, in SageMaker's model card layout."""
    training = version.training_data
    objects = training.get("objects") or []
    return {
        "model_overview": {
            "model_description": version.description,
            "model_artifact": [registry.artifact_location(version)],
            "algorithm_type": str(version.parameters.get("learner") or ""),
        },
        "training_details": {
            "training_job_details": {
                "training_datasets": [f"s3://{o['bucket']}/{o['key']}" for o in objects]
                or ([training["location"]] if training.get("location") else []),
                "hyper_parameters": [
                    {"name": key, "value": str(value)}
                    for key, value in (version.parameters.get("training_parameters") or {}).items()
                ],
            }
        },
        "evaluation_details": [
            {
                "name": str(metrics.get("source", "")),
                "datasets": [metrics["datasource_id"]] if metrics.get("datasource_id") else [],
                "metric_groups": [
                    {
                        "name": "metrics",
                        "metric_data": [
                            {"name": key, "type": "number", "value": value}
                            for key, value in (metrics.get("values") or {}).items()
                        ],
                    }
                ],
            }
            for metrics in version.metrics
        ],
        "additional_information": {
            "custom_details": {
                "artifact_sha256": version.artifact_sha256,
                "source_uri": version.source_uri,
                "training_datasource": str(training.get("datasource_id") or ""),
                "training_data": json.dumps(objects),
                "parameters": json.dumps(dict(version.parameters)),
            }
        },
    }


def _package(registry: Registry, version: ModelVersion) -> dict[str, Any]:
    gate: dict[str, Any] = {"Name": GATE_NAME, "Status": version.gate_status.value}
    if version.gate_status is GateStatus.FAILED:
        gate["FailureReason"] = "; ".join((version.gate_report or {}).get("reasons") or [])
    content = json.dumps(model_card(registry, version))
    return {
        **_summary(registry, version),
        "InferenceSpecification": {
            "Containers": [{"ModelDataUrl": registry.artifact_location(version)}],
            "SupportedContentTypes": content_types(version.source),
            "SupportedResponseMIMETypes": ["application/json"],
        },
        "ModelPackageStatusDetails": {"ValidationStatuses": [gate]},
        "CreatedBy": _user(version.created_by),
        "LastModifiedTime": version.updated_at,
        "LastModifiedBy": _user(version.updated_by),
        "ApprovalDescription": version.approval_description or None,
        "SourceUri": version.source_uri,
        "ModelMetrics": version.model_metrics,
        "CustomerMetadataProperties": dict(version.customer_metadata) or None,
        "ModelCard": {"ModelCardContent": content, "ModelCardStatus": MODEL_CARD_STATUS[version.stage]},
    }


def _summary(registry: Registry, version: ModelVersion) -> dict[str, Any]:
    return {
        "ModelPackageName": version.group_name,
        "ModelPackageGroupName": version.group_name,
        "ModelPackageVersion": version.version,
        "ModelPackageArn": registry.version_arn(version),
        "ModelPackageDescription": version.description or None,
        "CreationTime": version.created_at,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": version.stage.approval_status,
    }


def _group(registry: Registry, group: ModelGroup) -> dict[str, Any]:
    return {
        "ModelPackageGroupName": group.name,
        "ModelPackageGroupArn": registry.group_arn(group.name),
        "ModelPackageGroupDescription": group.description or None,
        "CreationTime": group.created_at,
        "ModelPackageGroupStatus": "Completed",
    }


def _user(principal: str) -> dict[str, Any]:
    return {"IamIdentity": {"PrincipalId": principal}}


def _source_uri(params: Mapping[str, Any]) -> str:
    """SourceUri, or else the one container's ModelDataUrl (how older SDKs register an artifact)."""
    if params.get("SourceUri"):
        return str(params["SourceUri"])
    containers = (params.get("InferenceSpecification") or {}).get("Containers") or []
    if len(containers) == 1 and containers[0].get("ModelDataUrl"):
        return str(containers[0]["ModelDataUrl"])
    raise InvalidValue(
        "SourceUri is required: ml-model:<MLModelId> for a predict model, dl-experiment:<ExperimentId>[/<family>] "
        "for a trained image model, or s3://bucket/key for an artifact in the lake"
    )


def _gate_policy(text: str) -> dict[str, Any]:
    """The gate policy a ResourcePolicy holds, checked; InvalidValue naming what is wrong otherwise."""
    try:
        return GatePolicy.from_json(text).to_dict()
    except InvalidValue as error:
        raise InvalidValue(
            f"ResourcePolicy: {error.message} (a model package group's ResourcePolicy here is its promotion "
            "gate's policy, not an IAM policy)"
        ) from None


def _refuse_unsupported(params: Mapping[str, Any], fields: tuple[str, ...], operation: str) -> None:
    given = [field for field in fields if params.get(field) is not None]
    if given:
        raise InvalidValue(f"{operation} with {given}: this registry does not keep them; leave them out")
