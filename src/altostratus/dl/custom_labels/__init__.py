"""Rekognition Custom Labels: projects, their datasets from Ground Truth manifests, versions trained by experiments,
and the hosting that answers DetectCustomLabels."""

from __future__ import annotations

import dataclasses

from altostratus.dl.custom_labels.datasets import Dataset, Datasets, DatasetStatus, ManifestSource
from altostratus.dl.custom_labels.entries import EntryFilter
from altostratus.dl.custom_labels.hosting import DetectedLabel, Hosting
from altostratus.dl.custom_labels.lake_files import LakeFiles, LakeServiceFiles
from altostratus.dl.custom_labels.names import Arns
from altostratus.dl.custom_labels.projects import Project, Projects
from altostratus.dl.custom_labels.training import TrainedModel, Training
from altostratus.dl.custom_labels.versions import OutputLocation, Version, Versions, VersionStatus

__all__ = [
    "Arns",
    "CustomLabels",
    "Dataset",
    "DatasetStatus",
    "Datasets",
    "DetectedLabel",
    "EntryFilter",
    "Hosting",
    "LakeFiles",
    "LakeServiceFiles",
    "ManifestSource",
    "OutputLocation",
    "Project",
    "Projects",
    "TrainedModel",
    "Training",
    "Version",
    "VersionStatus",
    "Versions",
]


@dataclasses.dataclass(frozen=True)
class CustomLabels:
    """The four parts the Rekognition wire serves Custom Labels from."""

    projects: Projects
    datasets: Datasets
    versions: Versions
    hosting: Hosting
