"""The Rekognition API (boto3's `rekognition`, json) over the vision service and the face collections.

Handlers parse, call, wrap. Image work runs in the adapter's worker threads, never on the event loop.
Beyond and beside Rekognition:
- FaceModelVersion, LabelModelVersion and TextModelVersion name our models, not Rekognition's numbers;
- Attributes naming EYE_DIRECTION, BEARD or MUSTACHE are refused (not measured); with ALL, FaceDetail has none of them;
- S3Object.Version is refused: the lake keeps one version of each object.
"""

from __future__ import annotations

from typing import Any

from altostratus.api.context import BodyLimit, Call
from altostratus.api.model_adapters import Handler, JsonAdapter, operation_handlers
from altostratus.api.vision import requests
from altostratus.api.vision.collections import (
    DEFAULT_MAX_FACES,
    DEFAULT_THRESHOLD,
    DEFAULT_USER_THRESHOLD,
    CollectionOperations,
    face,
    face_matches,
    user_matches,
)
from altostratus.api.vision.custom_labels import CustomLabelOperations
from altostratus.api.vision.shapes import (
    box,
    compared_face,
    face_detail,
    image_properties,
    label,
    text_detection,
)
from altostratus.dl.custom_labels import CustomLabels
from altostratus.vision.collections import FaceCollections
from altostratus.vision.errors import ImageTooLarge, InvalidParameter
from altostratus.vision.quality import QualityBar, parse_bar
from altostratus.vision.service import FacesToIndex, VisionService

LABEL_MODEL = "efficientnet-lite0+yolov3-tiny"
TEXT_MODEL = "rapidocr-ppocr-v4"
DEFAULT_SIMILARITY = 80.0
DEFAULT_MIN_LABEL_CONFIDENCE = 55.0
# A 5 MB image is 6.7 MB as base64; the body may hold the JSON around it too (two images for CompareFaces).
ONE_IMAGE = BodyLimit(8 * 1024 * 1024, ImageTooLarge)
TWO_IMAGES = BodyLimit(16 * 1024 * 1024, ImageTooLarge)
IMAGE_OPERATIONS = (
    "DetectCustomLabels",
    "DetectFaces",
    "DetectLabels",
    "DetectText",
    "IndexFaces",
    "SearchFacesByImage",
    "SearchUsersByImage",
)


class RekognitionApi(CollectionOperations):
    """Rekognition's image operations (DetectFaces, CompareFaces, DetectLabels, DetectText, IndexFaces, searches),
    the collections', and Custom Labels' (api/vision/custom_labels.py) when given CustomLabels."""

    def __init__(
        self,
        vision: VisionService,
        collections: FaceCollections,
        *,
        face_model: str,
        custom_labels: CustomLabels | None = None,
    ) -> None:
        super().__init__(collections, face_model=face_model)
        self._vision = vision
        self._custom_labels = None if custom_labels is None else CustomLabelOperations(custom_labels)

    def adapter(self) -> JsonAdapter:
        """The json adapter; bad parameters are InvalidParameterException, images past 5 MB ImageTooLarge."""
        limits = {name: ONE_IMAGE for name in IMAGE_OPERATIONS} | {"CompareFaces": TWO_IMAGES}
        return JsonAdapter(
            "rekognition",
            self.handlers(),
            validation_error=InvalidParameter,
            body_limits=limits,
            too_long={"ImageBlob": ImageTooLarge},
        )

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler: the image and collection operations, and Custom Labels' when it is served."""
        found = operation_handlers(self, "rekognition")
        if self._custom_labels is not None:
            found |= operation_handlers(self._custom_labels, "rekognition")
        return found

    # ---- faces ------------------------------------------------------------------------------------

    def detect_faces(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DetectFaces: up to 100 faces, largest first; Attributes DEFAULT, ALL or a list of attributes."""
        everything, members = requests.attribute_members(params.get("Attributes"))
        found = self._vision.detect_faces(requests.image(params["Image"]), attributes=everything)
        answer: dict[str, Any] = {"FaceDetails": [face_detail(f, members) for f in found.faces]}
        return _with_orientation(answer, "OrientationCorrection", found.orientation_correction)

    def compare_faces(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CompareFaces: the source image's largest face against every face in the target image."""
        comparison = self._vision.compare_faces(
            requests.image(params["SourceImage"], "SourceImage"),
            requests.image(params["TargetImage"], "TargetImage"),
            threshold=params.get("SimilarityThreshold", DEFAULT_SIMILARITY),
            quality=parse_bar(params.get("QualityFilter"), QualityBar.NONE),
        )
        source = comparison.source
        answer: dict[str, Any] = {
            "SourceImageFace": {"BoundingBox": compared_face(source)["BoundingBox"], "Confidence": source.confidence},
            "FaceMatches": [{"Similarity": m.similarity, "Face": compared_face(m.face)} for m in comparison.matches],
            "UnmatchedFaces": [compared_face(f) for f in comparison.unmatched],
        }
        _with_orientation(answer, "SourceImageOrientationCorrection", comparison.source_orientation)
        return _with_orientation(answer, "TargetImageOrientationCorrection", comparison.target_orientation)

    # ---- collections, from images

    def index_faces(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """IndexFaces: the largest MaxFaces faces that pass QualityFilter (AUTO unless said) join the collection."""
        collection = params["CollectionId"]
        self._collections.describe(collection)  # an unknown collection is refused before the image is read
        everything, members = requests.attribute_members(params.get("DetectionAttributes"))
        found = self._vision.faces_to_index(
            requests.image(params["Image"]),
            max_faces=params.get("MaxFaces"),
            quality=parse_bar(params.get("QualityFilter"), QualityBar.AUTO),
            attributes=everything,
        )
        indexed = self._collections.add_faces(
            collection, found.accepted, external_image_id=params.get("ExternalImageId")
        )
        answer: dict[str, Any] = {
            "FaceRecords": [
                {"Face": face(record, self.face_model), "FaceDetail": face_detail(vector.face, members)}
                for record, vector in zip(indexed, found.accepted, strict=True)
            ],
            "FaceModelVersion": self.face_model,
            "UnindexedFaces": [
                {"Reasons": refused.reasons, "FaceDetail": face_detail(refused.face, members)}
                for refused in found.refused
            ],
        }
        return _with_orientation(answer, "OrientationCorrection", found.orientation_correction)

    def search_faces_by_image(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """SearchFacesByImage: the collection's faces most like the image's largest face."""
        collection = params["CollectionId"]
        found = self._face_to_search(collection, params)
        searched = found.accepted[0]
        matches = self._collections.search_by_vector(
            collection,
            searched.vector,
            threshold=params.get("FaceMatchThreshold", DEFAULT_THRESHOLD),
            max_faces=params.get("MaxFaces", DEFAULT_MAX_FACES),
        )
        return {
            "SearchedFaceBoundingBox": box(searched.face.box),
            "SearchedFaceConfidence": searched.face.confidence,
            "FaceMatches": face_matches(matches, self.face_model),
            "FaceModelVersion": self.face_model,
        }

    def search_users_by_image(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """SearchUsersByImage: the users whose faces are most like the image's largest face."""
        collection = params["CollectionId"]
        found = self._face_to_search(collection, params)
        searched = found.accepted[0]
        matches = self._collections.search_users(
            collection,
            vector=searched.vector,
            threshold=params.get("UserMatchThreshold", DEFAULT_USER_THRESHOLD),
            max_users=params.get("MaxUsers", DEFAULT_MAX_FACES),
        )
        unsearched = [
            {
                "FaceDetails": face_detail(refused.face, ()),
                "Reasons": ["FACE_NOT_LARGEST" if r == "EXCEEDS_MAX_FACES" else r for r in refused.reasons],
            }
            for refused in found.refused
        ]
        return {
            "UserMatches": user_matches(matches),
            "FaceModelVersion": self.face_model,
            "SearchedFace": {"FaceDetail": face_detail(searched.face, ())},
            "UnsearchedFaces": unsearched,
        }

    def _face_to_search(self, collection: str, params: dict[str, Any]) -> FacesToIndex:
        """The image's largest face (QualityFilter NONE unless said); an unknown collection before the image."""
        self._collections.describe(collection)
        quality = parse_bar(params.get("QualityFilter"), QualityBar.NONE)
        return self._vision.face_to_search(requests.image(params["Image"]), quality=quality)

    # ---- labels and text --------------------------------------------------------------------------

    def detect_labels(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DetectLabels: GENERAL_LABELS (the default) and IMAGE_PROPERTIES, filtered by Settings.GeneralLabels."""
        features = set(params.get("Features") or ["GENERAL_LABELS"])
        settings = params.get("Settings") or {}
        if settings.get("ImageProperties") and "IMAGE_PROPERTIES" not in features:
            raise InvalidParameter("Settings.ImageProperties is given but Features does not ask for IMAGE_PROPERTIES")
        max_colors = (settings.get("ImageProperties") or {}).get("MaxDominantColors", 10)
        found = self._vision.detect_labels(
            requests.image(params["Image"]),
            general="GENERAL_LABELS" in features,
            properties="IMAGE_PROPERTIES" in features,
            max_labels=params.get("MaxLabels"),
            min_confidence=params.get("MinConfidence", DEFAULT_MIN_LABEL_CONFIDENCE),
            filters=requests.label_filters(settings),
            colours=max_colors,
        )
        answer: dict[str, Any] = {"Labels": [label(x) for x in found.labels], "LabelModelVersion": LABEL_MODEL}
        if found.properties is not None:
            answer["ImageProperties"] = image_properties(found.properties)
        return _with_orientation(answer, "OrientationCorrection", found.orientation_correction)

    def detect_text(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DetectText: lines and their words, with WordFilter and RegionsOfInterest applied."""
        filters = requests.text_filters(params.get("Filters"))
        detections = filters.apply(self._vision.detect_text(requests.image(params["Image"])))
        return {"TextDetections": [text_detection(d) for d in detections], "TextModelVersion": TEXT_MODEL}


def _with_orientation(answer: dict[str, Any], member: str, correction: str | None) -> dict[str, Any]:
    # Rekognition names the correction only for images whose EXIF data says how they are turned.
    if correction is not None:
        answer[member] = correction
    return answer
