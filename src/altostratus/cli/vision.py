"""`alto vision`: faces, comparisons, labels, text and face collections, over the Rekognition API with boto3.

An IMAGE is a local JPEG or PNG file, or s3://BUCKET/KEY in the lake (sent as S3Object, read by the server).
Every command prints a table for people or, with --json, the server's answer; --draw OUT writes a copy of the
image with the answer drawn on it (boxes, landmarks, labels, text).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from altostratus.cli import vision_draw as drawing
from altostratus.cli.lake import is_lake_url, parse_lake_url
from altostratus.cli.options import json_option, service_client, with_clients
from altostratus.cli.output import CommandFailed, print_json, print_table

Client = Any  # boto3 clients are built at run time and carry no static types


def _clients(endpoint_url: str | None, data_dir: Path | None) -> tuple[Client, Callable[[], Client]]:
    rekognition = service_client("rekognition", endpoint_url, data_dir)
    return rekognition, lambda: service_client("s3", endpoint_url, data_dir)


with_client = with_clients(_clients)
draw_option = click.option(
    "--draw",
    "draw_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the image with the answer drawn on it.",
)


class Picture:
    """An IMAGE argument: what to send the server, and its bytes when a drawing needs them."""

    def __init__(self, name: str, s3: Callable[[], Client]) -> None:
        self.name = name
        self._s3 = s3

    def request(self) -> dict[str, Any]:
        """Rekognition's Image member: Bytes of a local file, or S3Object of a lake URL."""
        if is_lake_url(self.name):
            bucket, key = parse_lake_url(self.name)
            return {"S3Object": {"Bucket": bucket, "Name": key}}
        return {"Bytes": self.data()}

    def data(self) -> bytes:
        """The image's bytes."""
        if is_lake_url(self.name):
            bucket, key = parse_lake_url(self.name)
            body: bytes = self._s3().get_object(Bucket=bucket, Key=key)["Body"].read()
            return body
        try:
            return Path(self.name).read_bytes()
        except OSError as error:
            raise CommandFailed(f"cannot read {self.name}: {error.strerror}") from None


def _percent(value: float) -> str:
    return f"{value:.1f}"


def _box(box: dict[str, float]) -> str:
    return f"{box['Left']:.3f},{box['Top']:.3f} {box['Width']:.3f}x{box['Height']:.3f}"


@click.group()
def vision() -> None:
    """Faces, comparisons, labels, text and face collections (Rekognition)."""


@vision.command("faces")
@click.argument("image")
@click.option("--all", "everything", is_flag=True, help="Measure every attribute (age, gender, emotions, ...).")
@json_option
@draw_option
@with_client
def faces(
    rekognition: Client, s3: Callable[[], Client], image: str, everything: bool, as_json: bool, draw_path: Path | None
) -> None:
    """Find the faces in IMAGE, largest first."""
    picture = Picture(image, s3)
    answer = rekognition.detect_faces(Image=picture.request(), Attributes=["ALL" if everything else "DEFAULT"])
    answer.pop("ResponseMetadata", None)
    details = answer["FaceDetails"]
    if draw_path:
        drawing.save(drawing.draw_faces(drawing.upright(picture.data()), details), draw_path)
    if as_json:
        print_json(answer)
        return
    rows: list[list[str | int]] = [
        [i, _box(f["BoundingBox"]), _percent(f["Confidence"]), _summary(f)] for i, f in enumerate(details)
    ]
    print_table(rows, ["face", "box (left,top wxh)", "confidence", "attributes"])


def _summary(face: dict[str, Any]) -> str:
    parts = []
    if "AgeRange" in face:
        parts.append(f"age {face['AgeRange']['Low']}-{face['AgeRange']['High']}")
    if "Gender" in face:
        parts.append(face["Gender"]["Value"].lower())
    if face.get("Emotions"):
        parts.append(face["Emotions"][0]["Type"].lower())
    if "Smile" in face and face["Smile"]["Value"]:
        parts.append("smiling")
    pose = face["Pose"]
    parts.append(f"yaw {pose['Yaw']:.0f} pitch {pose['Pitch']:.0f} roll {pose['Roll']:.0f}")
    return ", ".join(parts)


@vision.command("compare")
@click.argument("source")
@click.argument("target")
@click.option("--threshold", type=click.FloatRange(0, 100), default=80.0, show_default=True, help="Least similarity.")
@json_option
@draw_option
@with_client
def compare(
    rekognition: Client,
    s3: Callable[[], Client],
    source: str,
    target: str,
    threshold: float,
    as_json: bool,
    draw_path: Path | None,
) -> None:
    """Compare the largest face of SOURCE with every face of TARGET."""
    target_picture = Picture(target, s3)
    answer = rekognition.compare_faces(
        SourceImage=Picture(source, s3).request(), TargetImage=target_picture.request(), SimilarityThreshold=threshold
    )
    answer.pop("ResponseMetadata", None)
    if draw_path:
        image = drawing.upright(target_picture.data())
        matches = answer["FaceMatches"]
        drawing.draw_faces(
            image, [m["Face"] for m in matches], drawing.MATCH_COLOUR, [f"{m['Similarity']:.0f}%" for m in matches]
        )
        drawing.save(drawing.draw_faces(image, answer["UnmatchedFaces"], drawing.OTHER_COLOUR), draw_path)
    if as_json:
        print_json(answer)
        return
    rows = [["match", _box(m["Face"]["BoundingBox"]), _percent(m["Similarity"])] for m in answer["FaceMatches"]]
    rows += [["no match", _box(f["BoundingBox"]), "-"] for f in answer["UnmatchedFaces"]]
    print_table(rows, ["target face", "box (left,top wxh)", "similarity"])


@vision.command("labels")
@click.argument("image")
@click.option("--max-labels", type=click.IntRange(1), help="At most this many labels.")
@click.option("--min-confidence", type=click.FloatRange(0, 100), default=55.0, show_default=True)
@click.option("--properties", is_flag=True, help="Also measure the image: quality and dominant colours.")
@json_option
@draw_option
@with_client
def labels(
    rekognition: Client,
    s3: Callable[[], Client],
    image: str,
    max_labels: int | None,
    min_confidence: float,
    properties: bool,
    as_json: bool,
    draw_path: Path | None,
) -> None:
    """Name what is in IMAGE: labels with their parents, categories and boxes."""
    picture = Picture(image, s3)
    options: dict[str, Any] = {"MinConfidence": min_confidence}
    if max_labels:
        options["MaxLabels"] = max_labels
    if properties:
        options["Features"] = ["GENERAL_LABELS", "IMAGE_PROPERTIES"]
    answer = rekognition.detect_labels(Image=picture.request(), **options)
    answer.pop("ResponseMetadata", None)
    if draw_path:
        drawing.save(drawing.draw_labels(drawing.upright(picture.data()), answer["Labels"]), draw_path)
    if as_json:
        print_json(answer)
        return
    rows = [
        [x["Name"], _percent(x["Confidence"]), ", ".join(p["Name"] for p in x["Parents"]), len(x["Instances"])]
        for x in answer["Labels"]
    ]
    print_table(rows, ["label", "confidence", "parents", "boxes"])
    if "ImageProperties" in answer:
        quality = answer["ImageProperties"]["Quality"]
        colours = ", ".join(
            f"{c['SimplifiedColor']} {c['PixelPercent']:.0f}%" for c in answer["ImageProperties"]["DominantColors"]
        )
        measured = f"brightness {quality['Brightness']:.0f}, sharpness {quality['Sharpness']:.0f}"
        click.echo(f"{measured}, contrast {quality['Contrast']:.0f}; colours: {colours}")


@vision.command("text")
@click.argument("image")
@json_option
@draw_option
@with_client
def text(rekognition: Client, s3: Callable[[], Client], image: str, as_json: bool, draw_path: Path | None) -> None:
    """Read the lines and words of text in IMAGE."""
    picture = Picture(image, s3)
    answer = rekognition.detect_text(Image=picture.request())
    answer.pop("ResponseMetadata", None)
    if draw_path:
        drawing.save(drawing.draw_text(drawing.upright(picture.data()), answer["TextDetections"]), draw_path)
    if as_json:
        print_json(answer)
        return
    lines = [d for d in answer["TextDetections"] if d["Type"] == "LINE"]
    print_table(
        [[d["Id"], d["DetectedText"], _percent(d["Confidence"])] for d in lines], ["line", "text", "confidence"]
    )


@vision.command("index")
@click.argument("collection")
@click.argument("images", nargs=-1, required=True)
@click.option("--external-id", help="ExternalImageId for the faces (default: the image's file name).")
@click.option("--max-faces", type=click.IntRange(1), help="Index at most this many faces of each image.")
@click.option("--create", is_flag=True, help="Create the collection first when it does not exist.")
@json_option
@with_client
def index(
    rekognition: Client,
    s3: Callable[[], Client],
    collection: str,
    images: tuple[str, ...],
    external_id: str | None,
    max_faces: int | None,
    create: bool,
    as_json: bool,
) -> None:
    """Add the faces of IMAGES to COLLECTION (only their vectors are kept)."""
    if create and collection not in _collection_ids(rekognition):
        rekognition.create_collection(CollectionId=collection)
    answers, rows = [], []
    for name in images:
        options: dict[str, Any] = {"ExternalImageId": external_id or _external_id(name)}
        if max_faces:
            options["MaxFaces"] = max_faces
        answer = rekognition.index_faces(CollectionId=collection, Image=Picture(name, s3).request(), **options)
        answer.pop("ResponseMetadata", None)
        answers.append(answer)
        rows += [[name, r["Face"]["FaceId"], _box(r["Face"]["BoundingBox"]), "indexed"] for r in answer["FaceRecords"]]
        rows += [
            [name, "-", _box(u["FaceDetail"]["BoundingBox"]), ",".join(u["Reasons"])] for u in answer["UnindexedFaces"]
        ]
    if as_json:
        print_json(answers)
        return
    print_table(rows, ["image", "face id", "box (left,top wxh)", "result"])


def _external_id(name: str) -> str:
    stem = name.rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() or c in "_.-:" else "_" for c in stem)[:255] or "image"


def _collection_ids(rekognition: Client) -> set[str]:
    found: set[str] = set()
    for page in rekognition.get_paginator("list_collections").paginate():
        found.update(page["CollectionIds"])
    return found


@vision.command("search")
@click.argument("collection")
@click.argument("image")
@click.option("--threshold", type=click.FloatRange(0, 100), default=80.0, show_default=True, help="Least similarity.")
@click.option("--max-faces", type=click.IntRange(1, 4096), default=10, show_default=True)
@json_option
@draw_option
@with_client
def search(
    rekognition: Client,
    s3: Callable[[], Client],
    collection: str,
    image: str,
    threshold: float,
    max_faces: int,
    as_json: bool,
    draw_path: Path | None,
) -> None:
    """Search COLLECTION for the largest face of IMAGE."""
    picture = Picture(image, s3)
    answer = rekognition.search_faces_by_image(
        CollectionId=collection, Image=picture.request(), FaceMatchThreshold=threshold, MaxFaces=max_faces
    )
    answer.pop("ResponseMetadata", None)
    if draw_path:
        searched = {"BoundingBox": answer["SearchedFaceBoundingBox"]}
        drawing.save(drawing.draw_faces(drawing.upright(picture.data()), [searched]), draw_path)
    if as_json:
        print_json(answer)
        return
    rows = [
        [m["Face"]["FaceId"], m["Face"].get("ExternalImageId", ""), _percent(m["Similarity"])]
        for m in answer["FaceMatches"]
    ]
    print_table(rows, ["face id", "external image id", "similarity"])


@vision.group("collections")
def collections() -> None:
    """Face collections: list, create, describe, delete."""


@collections.command("list")
@json_option
@with_client
def list_collections(rekognition: Client, s3: Callable[[], Client], as_json: bool) -> None:
    """Every collection."""
    ids = sorted(_collection_ids(rekognition))
    if as_json:
        print_json(ids)
        return
    print_table([[name] for name in ids], ["collection"])


@collections.command("create")
@click.argument("collection")
@with_client
def create_collection(rekognition: Client, s3: Callable[[], Client], collection: str) -> None:
    """Create COLLECTION."""
    click.echo(rekognition.create_collection(CollectionId=collection)["CollectionArn"])


@collections.command("describe")
@click.argument("collection")
@json_option
@with_client
def describe_collection(rekognition: Client, s3: Callable[[], Client], collection: str, as_json: bool) -> None:
    """Faces and users in COLLECTION."""
    answer = rekognition.describe_collection(CollectionId=collection)
    answer.pop("ResponseMetadata", None)
    if as_json:
        print_json(answer)
        return
    print_table(
        [[collection, answer["FaceCount"], answer.get("UserCount", 0), answer["FaceModelVersion"]]],
        ["collection", "faces", "users", "model"],
    )


@collections.command("delete")
@click.argument("collection")
@with_client
def delete_collection(rekognition: Client, s3: Callable[[], Client], collection: str) -> None:
    """Delete COLLECTION and every face vector in it."""
    rekognition.delete_collection(CollectionId=collection)
    click.echo(f"deleted {collection}")
