"""Bad input gets Rekognition's error every time, never a 500, and the server keeps serving."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.live_server import LiveServer
from tests.vision_photos import jpeg, skimage_photo


@pytest.fixture(scope="module")
def rekognition(server: LiveServer) -> Any:
    return server.client("rekognition")


def png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def error_code(call: Any) -> str:
    with pytest.raises(Exception) as raised:
        call()
    response = getattr(raised.value, "response", None)
    assert response is not None, raised.value
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(response["Error"]["Code"])


def test_not_an_image(rekognition: Any) -> None:
    assert (
        error_code(lambda: rekognition.detect_faces(Image={"Bytes": b"plain text, no image"}))
        == "InvalidImageFormatException"
    )


def test_a_gif_is_not_a_format_rekognition_takes(rekognition: Any) -> None:
    out = io.BytesIO()
    Image.new("RGB", (32, 32)).save(out, "GIF")
    assert (
        error_code(lambda: rekognition.detect_labels(Image={"Bytes": out.getvalue()})) == "InvalidImageFormatException"
    )


def test_a_truncated_jpeg(rekognition: Any) -> None:
    data = skimage_photo("astronaut")
    assert (
        error_code(lambda: rekognition.detect_faces(Image={"Bytes": data[: len(data) // 3]}))
        == "InvalidImageFormatException"
    )


def test_a_decompression_bomb_is_refused_before_decoding(rekognition: Any) -> None:
    assert (
        error_code(lambda: rekognition.detect_faces(Image={"Bytes": png_declaring(60_000, 60_000)}))
        == "ImageTooLargeException"
    )


def test_over_five_megabytes_as_bytes(rekognition: Any) -> None:
    big = b"\xff\xd8" + b"\0" * (5 * 1024 * 1024)
    assert error_code(lambda: rekognition.detect_faces(Image={"Bytes": big})) == "ImageTooLargeException"


def test_zero_bytes_sent_past_boto3s_own_check(server: LiveServer, http: httpx.Client) -> None:
    # boto3 refuses an empty Bytes before sending; a raw request shows what the server answers.
    answer = _raw(server, http, "DetectFaces", {"Image": {"Bytes": ""}})
    assert answer.status_code == 400
    assert answer.json()["__type"] in ("InvalidParameterException", "InvalidImageFormatException")


def _raw(server: LiveServer, http: httpx.Client, operation: str, body: dict[str, Any]) -> httpx.Response:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    data = json.dumps(body).encode()
    headers = {"X-Amz-Target": f"RekognitionService.{operation}", "Content-Type": "application/x-amz-json-1.1"}
    request = AWSRequest("POST", server.endpoint + "/", data=data, headers=headers)
    SigV4Auth(Credentials(server.access_key, server.secret_key), "rekognition", "us-east-1").add_auth(request)
    return http.post(server.endpoint + "/", content=data, headers=dict(request.headers))


def test_unknown_collection(rekognition: Any) -> None:
    image = {"Bytes": skimage_photo("astronaut")}
    assert (
        error_code(lambda: rekognition.index_faces(CollectionId="absent", Image=image)) == "ResourceNotFoundException"
    )
    assert error_code(lambda: rekognition.describe_collection(CollectionId="absent")) == "ResourceNotFoundException"
    assert error_code(lambda: rekognition.list_faces(CollectionId="absent")) == "ResourceNotFoundException"


def test_a_collection_that_exists_already(rekognition: Any) -> None:
    rekognition.create_collection(CollectionId="twice")
    assert error_code(lambda: rekognition.create_collection(CollectionId="twice")) == "ResourceAlreadyExistsException"


def test_a_face_id_that_does_not_exist(rekognition: Any) -> None:
    rekognition.create_collection(CollectionId="no-such-face")
    absent = "00000000-0000-4000-8000-000000000000"
    assert (
        error_code(lambda: rekognition.search_faces(CollectionId="no-such-face", FaceId=absent))
        == "InvalidParameterException"
    )


def test_max_faces_out_of_range(server: LiveServer, http: httpx.Client, rekognition: Any) -> None:
    rekognition.create_collection(CollectionId="max-faces")
    image = base64.b64encode(skimage_photo("astronaut")).decode()
    for value in (0, 4097):
        answer = _raw(
            server,
            http,
            "SearchFacesByImage",
            {"CollectionId": "max-faces", "Image": {"Bytes": image}, "MaxFaces": value},
        )
        assert (answer.status_code, answer.json()["__type"]) == (400, "InvalidParameterException")
    answer = _raw(server, http, "IndexFaces", {"CollectionId": "max-faces", "Image": {"Bytes": image}, "MaxFaces": 0})
    assert (answer.status_code, answer.json()["__type"]) == (400, "InvalidParameterException")


def test_eye_direction_is_refused_rather_than_left_out(rekognition: Any) -> None:
    image = {"Bytes": jpeg(np.zeros((64, 64, 3), dtype=np.uint8))}
    assert (
        error_code(lambda: rekognition.detect_faces(Image=image, Attributes=["EYE_DIRECTION"]))
        == "InvalidParameterException"
    )


def test_the_server_keeps_serving(rekognition: Any) -> None:
    for _ in range(3):
        error_code(lambda: rekognition.detect_faces(Image={"Bytes": b"\x89PNG\r\n\x1a\n broken"}))
    assert rekognition.detect_faces(Image={"Bytes": skimage_photo("coffee")})["FaceDetails"] == []
