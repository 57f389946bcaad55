"""Rekognition's request members as our nouns: Image, Attributes, DetectLabels' Settings, DetectText's Filters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from altostratus.api.vision.shapes import ATTRIBUTE_MEMBERS
from altostratus.vision.errors import InvalidParameter, InvalidS3Object
from altostratus.vision.labels.filters import LabelFilters
from altostratus.vision.results import Box, Point
from altostratus.vision.sources import ImageSource
from altostratus.vision.text_filters import Region, TextFilters

# Attributes this server cannot measure: asking for one by name is refused rather than answered without it.
UNMEASURED = {"EYE_DIRECTION": "EyeDirection", "BEARD": "Beard", "MUSTACHE": "Mustache"}


def image(value: Mapping[str, Any], member: str = "Image") -> ImageSource:
    """The ImageSource an Image names: Bytes, or S3Object's Bucket and Name."""
    data, s3 = value.get("Bytes"), value.get("S3Object")
    if (data is None) == (s3 is None):
        raise InvalidParameter(f"{member} must give either Bytes or S3Object")
    if data is not None:
        return ImageSource(data=data)
    assert s3 is not None
    if s3.get("Version"):
        # The lake keeps one version of an object; a named version cannot be honoured, so it is refused.
        raise InvalidS3Object(f"{member}.S3Object.Version: the lake keeps no object versions; leave Version out")
    if not s3.get("Bucket") or not s3.get("Name"):
        raise InvalidParameter(f"{member}.S3Object needs Bucket and Name")
    return ImageSource(bucket=s3["Bucket"], key=s3["Name"])


def attribute_members(names: list[str] | None) -> tuple[bool, set[str] | None]:
    """(whether to measure beyond the defaults, which FaceDetail members to answer: None for all measured)."""
    asked = set(names or ["DEFAULT"])
    unmeasured = sorted(asked & set(UNMEASURED))
    if unmeasured:
        raise InvalidParameter(
            f"Attributes={unmeasured}: this server does not measure {', '.join(UNMEASURED[n] for n in unmeasured)}; "
            f"ask for ALL, DEFAULT or some of {sorted(ATTRIBUTE_MEMBERS)}"
        )
    if "ALL" in asked:
        return True, None
    members = {ATTRIBUTE_MEMBERS[n] for n in asked if n in ATTRIBUTE_MEMBERS}
    return bool(members), members


def label_filters(settings: Mapping[str, Any] | None) -> LabelFilters:
    """Settings.GeneralLabels as LabelFilters (names and categories to keep or leave out)."""
    general = (settings or {}).get("GeneralLabels") or {}
    return LabelFilters(
        include_labels=tuple(general.get("LabelInclusionFilters", ())),
        exclude_labels=tuple(general.get("LabelExclusionFilters", ())),
        include_categories=tuple(general.get("LabelCategoryInclusionFilters", ())),
        exclude_categories=tuple(general.get("LabelCategoryExclusionFilters", ())),
    )


def text_filters(filters: Mapping[str, Any] | None) -> TextFilters:
    """DetectText's Filters: WordFilter's bars and the RegionsOfInterest."""
    filters = filters or {}
    word = filters.get("WordFilter") or {}
    regions = tuple(_region(r, i) for i, r in enumerate(filters.get("RegionsOfInterest") or ()))
    return TextFilters(
        min_confidence=word.get("MinConfidence", 0.0),
        min_height=word.get("MinBoundingBoxHeight", 0.0),
        min_width=word.get("MinBoundingBoxWidth", 0.0),
        regions=regions,
    )


def _region(value: Mapping[str, Any], index: int) -> Region:
    where = f"Filters.RegionsOfInterest[{index}]"
    if "BoundingBox" in value:
        b = value["BoundingBox"]
        return Region(box=Box(b.get("Left", 0.0), b.get("Top", 0.0), b.get("Width", 1.0), b.get("Height", 1.0)))
    polygon = tuple(Point(p.get("X", 0.0), p.get("Y", 0.0)) for p in value.get("Polygon") or ())
    if len(polygon) < 3:
        raise InvalidParameter(f"{where} needs a BoundingBox or a Polygon of at least 3 points")
    return Region(polygon=polygon)
