"""Vision's wiring: the face, label and text engines, the face collections, Custom Labels, the Rekognition wire."""

from __future__ import annotations

import dataclasses

from altostratus.api.gateway import ServiceAdapter
from altostratus.api.vision.rekognition import RekognitionApi
from altostratus.app.foundation import Foundation
from altostratus.app.slice import Mode, ServiceSlice
from altostratus.dl.custom_labels import (
    Arns,
    CustomLabels,
    Datasets,
    Hosting,
    LakeServiceFiles,
    Projects,
    Training,
    Versions,
)
from altostratus.lake.service import LakeService
from altostratus.vision.collections import FaceCollections
from altostratus.vision.faces import FaceAnalyzer
from altostratus.vision.faces.similarity import similarities
from altostratus.vision.labels import LabelDetector
from altostratus.vision.lake_images import LakeImages
from altostratus.vision.service import VisionService
from altostratus.vision.text import TextReader

# The account in ARNs: this platform's single local one, as the collections' ARNs name it.
ACCOUNT = "000000000000"
# The embedding model's name, as IndexFaces and the collections answer FaceModelVersion.
FACE_MODEL_VERSION = "dlib-resnet-v1"


@dataclasses.dataclass
class Vision:
    """Vision's service, its collections, and its slice."""

    vision: VisionService
    collections: FaceCollections
    custom_labels: CustomLabels
    slice: ServiceSlice


def wire_custom_labels(base: Foundation, lake: LakeService, experiments: Training) -> CustomLabels:
    """Custom Labels' projects, datasets and versions on the shared stores, trained by the experiments service."""
    settings = base.settings
    files = LakeServiceFiles(lake)
    projects = Projects(base.metadata, base.blobs, base.clock, Arns(settings.region, ACCOUNT))
    datasets = Datasets(base.metadata, base.blobs, base.clock, projects, files)
    families = tuple(name.strip() for name in settings.custom_labels_families.split(",") if name.strip())
    versions = Versions(base.metadata, base.clock, projects, datasets, files, experiments, families=families)
    return CustomLabels(projects, datasets, versions, Hosting(versions, experiments, LakeImages(lake)))


def wire_vision(base: Foundation, lake: LakeService, experiments: Training) -> Vision:
    """The engines (each loads its models on first use), the collections on the shared metadata store."""
    settings = base.settings
    # Only the server keeps the graphs' snapshots (one process per snapshot folder): a command reads the rows.
    snapshots = settings.data_dir / "vision-index" if base.mode is Mode.SERVE else None
    collections = FaceCollections(
        base.metadata,
        base.clock,
        similarity=similarities,
        exact_limit=settings.vision_exact_search_limit,
        region=settings.region,
        face_model_version=FACE_MODEL_VERSION,
        snapshot_dir=snapshots,
    )
    vision = VisionService(
        FaceAnalyzer(),
        LabelDetector(),
        TextReader(),
        LakeImages(lake),
        concurrency=settings.vision_concurrency,
    )

    custom_labels = wire_custom_labels(base, lake, experiments)

    def adapters() -> list[ServiceAdapter]:
        api = RekognitionApi(vision, collections, face_model=FACE_MODEL_VERSION, custom_labels=custom_labels)
        return [api.adapter()]

    def stop() -> None:
        # At stop, graphs still building are cancelled and every changed graph is saved for the next start.
        collections.close()
        custom_labels.hosting.close()

    # At start (only a server starts), models a stop left starting are loaded and those it left stopping stopped.
    start = custom_labels.hosting.settle
    return Vision(vision, collections, custom_labels, ServiceSlice("vision", adapters=adapters, start=start, stop=stop))
