"""Rekognition Custom Labels' operations: projects, datasets, versions (training and hosting), DetectCustomLabels.

Beside Rekognition: projects are CUSTOM_LABELS only; Tags, KmsKeyId and FeatureConfig are refused (not kept);
versions train from the project's datasets, so TrainingData and TestingData's Assets are refused (TestingData's
AutoCreate splits a test set off even when the project has a TEST dataset). DetectCustomLabels without
MinConfidence keeps the labels at or above their thresholds chosen in training (Custom Labels' assumed thresholds).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from altostratus.api.context import Call
from altostratus.api.paging import PageTokens
from altostratus.api.vision import requests
from altostratus.dl.custom_labels import CustomLabels, Dataset, EntryFilter, ManifestSource, OutputLocation, Version
from altostratus.dl.custom_labels.projects import DatasetSummary, Project
from altostratus.vision.errors import InvalidParameter

TOKENS = PageTokens(InvalidParameter)
FEATURE = "CUSTOM_LABELS"
DEFAULT_PAGE = 100
MAX_LABEL_FILTERS = 10


def _refuse_unkept(params: Mapping[str, Any], *members: str) -> None:
    given = [m for m in members if params.get(m)]
    if given:
        raise InvalidParameter(f"{', '.join(given)}: not kept by this server; leave {' and '.join(given)} out")


def _s3_object(bucket: str, key: str) -> dict[str, Any]:
    return {"S3Object": {"Bucket": bucket, "Name": key}}


def _dataset_metadata(value: DatasetSummary) -> dict[str, Any]:
    return {
        "CreationTimestamp": value.created_at,
        "DatasetType": value.dataset_type,
        "DatasetArn": value.arn,
        "Status": value.status,
        "StatusMessage": value.status_message,
        "StatusMessageCode": value.status_code,
    }


def _project(value: Project) -> dict[str, Any]:
    return {
        "ProjectArn": value.arn,
        "CreationTimestamp": value.created_at,
        "Status": str(value.status),
        "Datasets": [_dataset_metadata(d) for d in value.datasets],
        "Feature": FEATURE,
    }


def _dataset(value: Dataset) -> dict[str, Any]:
    counts = value.counts
    return {
        "CreationTimestamp": value.created_at,
        "LastUpdatedTimestamp": value.updated_at,
        "Status": str(value.status),
        "StatusMessage": value.status_message,
        "StatusMessageCode": value.status_code,
        "DatasetStats": {
            "LabeledEntries": counts.labeled,
            "TotalEntries": counts.total,
            "TotalLabels": len(counts.labels),
            "ErrorEntries": counts.errors,
        },
    }


def _version(value: Version) -> dict[str, Any]:
    details = value.details
    output = details["output"]
    bucket = output["bucket"]
    manifests = details["manifests"]
    auto = bool(details.get("auto_create"))
    found: dict[str, Any] = {
        "ProjectVersionArn": value.arn,
        "CreationTimestamp": value.created_at,
        "Status": str(value.status),
        "StatusMessage": value.status_message,
        "OutputConfig": {"S3Bucket": bucket, "S3KeyPrefix": output["prefix"]},
        "TrainingDataResult": {
            "Input": {"Assets": []},
            "Output": {"Assets": [{"GroundTruthManifest": _s3_object(bucket, manifests["train"])}]},
        },
        "TestingDataResult": {
            "Input": {"Assets": [], "AutoCreate": auto},
            "Output": {"Assets": [{"GroundTruthManifest": _s3_object(bucket, manifests["test"])}], "AutoCreate": auto},
        },
        "Feature": FEATURE,
    }
    if details.get("description"):
        found["VersionDescription"] = details["description"]
    if "trained_at" in details:
        found["TrainingEndTimestamp"] = dt.datetime.fromisoformat(details["trained_at"])
        found["BillableTrainingTimeInSeconds"] = round(details["seconds"])
    if details.get("f1") is not None:
        evaluation: dict[str, Any] = {"F1Score": details["f1"]}
        if details.get("summary"):
            evaluation["Summary"] = _s3_object(*details["summary"])
        found["EvaluationResult"] = evaluation
    if "min_units" in details:
        found["MinInferenceUnits"] = details["min_units"]
        found["MaxInferenceUnits"] = details["max_units"]
    return found


def _manifest(source: Mapping[str, Any]) -> ManifestSource | None:
    manifest = source.get("GroundTruthManifest")
    if manifest is None:
        return None
    s3 = manifest.get("S3Object") or {}
    if s3.get("Version"):
        raise InvalidParameter("DatasetSource.GroundTruthManifest.S3Object.Version: the lake keeps no versions")
    if not s3.get("Bucket") or not s3.get("Name"):
        raise InvalidParameter("DatasetSource.GroundTruthManifest.S3Object needs Bucket and Name")
    return ManifestSource(s3["Bucket"], s3["Name"])


def _entry_filter(params: Mapping[str, Any]) -> EntryFilter:
    labels = params.get("ContainsLabels")
    if labels is not None and not 1 <= len(labels) <= MAX_LABEL_FILTERS:
        raise InvalidParameter(f"ContainsLabels holds {len(labels)} labels; expected 1 to {MAX_LABEL_FILTERS}")
    return EntryFilter(
        contains_labels=None if labels is None else frozenset(labels),
        labeled=params.get("Labeled"),
        source_ref_contains=params.get("SourceRefContains"),
        has_errors=params.get("HasErrors"),
    )


class CustomLabelOperations:
    """The Custom Labels operations of the rekognition client, over the CustomLabels parts."""

    def __init__(self, custom_labels: CustomLabels) -> None:
        self._labels = custom_labels

    # ---- projects

    def create_project(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateProject: a CUSTOM_LABELS project."""
        feature = params.get("Feature", FEATURE)
        if feature != FEATURE:
            raise InvalidParameter(f"Feature={feature!r}; this server has {FEATURE} projects only")
        _refuse_unkept(params, "AutoUpdate", "Tags")
        return {"ProjectArn": self._labels.projects.create(params["ProjectName"]).arn}

    def describe_projects(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeProjects, newest first, with each project's datasets."""
        features = params.get("Features")
        if features is not None and FEATURE not in features:
            return {"ProjectDescriptions": []}
        page = self._labels.projects.page(
            names=params.get("ProjectNames"),
            offset=TOKENS.offset(params.get("NextToken")),
            limit=params.get("MaxResults", DEFAULT_PAGE),
        )
        return {"ProjectDescriptions": [_project(p) for p in page.items], **TOKENS.next_page(page.next_offset)}

    def delete_project(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteProject: refused while it has versions; its datasets go with it."""
        return {"Status": str(self._labels.projects.delete(params["ProjectArn"]))}

    # ---- datasets

    def create_dataset(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateDataset: from a Ground Truth manifest in the lake, a copy of a dataset, or empty."""
        _refuse_unkept(params, "Tags")
        source = params.get("DatasetSource") or {}
        dataset = self._labels.datasets.create(
            params["ProjectArn"], params["DatasetType"], manifest=_manifest(source), copy_of=source.get("DatasetArn")
        )
        return {"DatasetArn": dataset.arn}

    def describe_dataset(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeDataset: its status and entry counts."""
        return {"DatasetDescription": _dataset(self._labels.datasets.get(params["DatasetArn"]))}

    def list_dataset_entries(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListDatasetEntries: the JSON lines that pass the filters, a page at a time."""
        page = self._labels.datasets.entry_page(
            params["DatasetArn"],
            _entry_filter(params),
            offset=TOKENS.offset(params.get("NextToken")),
            limit=params.get("MaxResults", DEFAULT_PAGE),
        )
        return {"DatasetEntries": page.items, **TOKENS.next_page(page.next_offset)}

    def list_dataset_labels(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListDatasetLabels: each label and how many entries carry it."""
        page = self._labels.datasets.label_page(
            params["DatasetArn"],
            offset=TOKENS.offset(params.get("NextToken")),
            limit=params.get("MaxResults", DEFAULT_PAGE),
        )
        labels = [{"LabelName": name, "LabelStats": {"EntryCount": n, "BoundingBoxCount": 0}} for name, n in page.items]
        return {"DatasetLabelDescriptions": labels, **TOKENS.next_page(page.next_offset)}

    def delete_dataset(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteDataset."""
        self._labels.datasets.delete(params["DatasetArn"])
        return {}

    # ---- versions

    def create_project_version(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateProjectVersion: training starts on the project's datasets."""
        _refuse_unkept(params, "Tags", "KmsKeyId", "FeatureConfig")
        if (params.get("TrainingData") or {}).get("Assets") or (params.get("TestingData") or {}).get("Assets"):
            raise InvalidParameter("TrainingData and TestingData Assets: train from the project's datasets instead")
        output = params["OutputConfig"]
        if not output.get("S3Bucket"):
            raise InvalidParameter("OutputConfig.S3Bucket is required: the bucket the training results go to")
        version = self._labels.versions.create(
            params["ProjectArn"],
            params["VersionName"],
            OutputLocation(output["S3Bucket"], output.get("S3KeyPrefix", "")),
            split_test_off=bool((params.get("TestingData") or {}).get("AutoCreate")),
            description=params.get("VersionDescription"),
        )
        return {"ProjectVersionArn": version.arn}

    def describe_project_versions(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeProjectVersions, newest first: status, evaluation, training and testing data."""
        page = self._labels.versions.page(
            params["ProjectArn"],
            names=params.get("VersionNames"),
            offset=TOKENS.offset(params.get("NextToken")),
            limit=params.get("MaxResults", DEFAULT_PAGE),
        )
        return {"ProjectVersionDescriptions": [_version(v) for v in page.items], **TOKENS.next_page(page.next_offset)}

    def start_project_version(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """StartProjectVersion: the model loads (STARTING, then RUNNING)."""
        status = self._labels.hosting.start(
            params["ProjectVersionArn"],
            min_units=params["MinInferenceUnits"],
            max_units=params.get("MaxInferenceUnits"),
        )
        return {"Status": str(status)}

    def stop_project_version(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """StopProjectVersion: the model unloads (STOPPING, then STOPPED)."""
        return {"Status": str(self._labels.hosting.stop(params["ProjectVersionArn"]))}

    def delete_project_version(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteProjectVersion: refused while it trains or runs."""
        return {"Status": str(self._labels.versions.delete(params["ProjectVersionArn"]))}

    def detect_custom_labels(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DetectCustomLabels: the running model's labels for the image, most confident first."""
        found = self._labels.hosting.detect(
            params["ProjectVersionArn"],
            requests.image(params["Image"]),
            min_confidence=params.get("MinConfidence"),
            max_results=params.get("MaxResults"),
        )
        return {"CustomLabels": [{"Name": label.name, "Confidence": label.confidence} for label in found]}
