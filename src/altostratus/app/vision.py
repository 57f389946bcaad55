"""Vision's wiring: the face, label and text engines, the face collections, and the Rekognition wire."""

from __future__ import annotations

import dataclasses

from altostratus.api.gateway import ServiceAdapter
from altostratus.api.vision.rekognition import RekognitionApi
from altostratus.app.foundation import Foundation
from altostratus.app.slice import Mode, ServiceSlice
from altostratus.lake.service import LakeService
from altostratus.vision.collections import FaceCollections
from altostratus.vision.faces import FaceAnalyzer
from altostratus.vision.faces.similarity import similarities
from altostratus.vision.labels import LabelDetector
from altostratus.vision.lake_images import LakeImages
from altostratus.vision.service import VisionService
from altostratus.vision.text import TextReader

# The embedding model's name, as IndexFaces and the collections answer FaceModelVersion.
FACE_MODEL_VERSION = "dlib-resnet-v1"


@dataclasses.dataclass
class Vision:
    """Vision's service, its collections, and its slice."""

    vision: VisionService
    collections: FaceCollections
    slice: ServiceSlice


def wire_vision(base: Foundation, lake: LakeService) -> Vision:
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

    def adapters() -> list[ServiceAdapter]:
        return [RekognitionApi(vision, collections, face_model=FACE_MODEL_VERSION).adapter()]

    # At stop, graphs still building are cancelled and every changed graph is saved for the next start.
    return Vision(vision, collections, ServiceSlice("vision", adapters=adapters, stop=collections.close))
