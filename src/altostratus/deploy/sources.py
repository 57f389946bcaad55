"""What a SourceUri names, read for registration: the artifact's bytes (checked), and where it came from.

- `ml-model:<MLModelId>`: a COMPLETED predict model. Its artifact is read from the blob store and checked
  against the checksum predict recorded; the training datasource gives the data (lake keys and ETags), the
  model its parameters, and its COMPLETED evaluations its metrics.
- `s3://bucket/key`: an object in the lake, checked against its ETag (the MD5 of a single-part upload).
  Only the artifact is known; its metrics may come with ModelMetrics.

More schemes come as `SourceReader`s by prefix (the composition root adds `dl-experiment:`, see
experiment_sources.py); an unknown SourceUri is refused with the forms every scheme takes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any, Protocol

from altostratus.core import json_input
from altostratus.core.errors import NotFound
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.gates import metric_values, metrics_from_document
from altostratus.deploy.model_store import ArtifactRefused
from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.lake.objects import ObjectInfo
from altostratus.lake.service import LakeService
from altostratus.predict import ArtifactCorrupt, ListQuery, Model, PredictService, Status
from altostratus.predict.artifacts import load_model
from altostratus.storage.blobs import BlobStore

ML_MODEL = "ml-model:"
LAKE = "s3://"
MAX_TRAINING_OBJECTS = 1000


@dataclasses.dataclass(frozen=True)
class Registration:
    """A source, read: the artifact's bytes and SHA-256, and what is known of how it was made."""

    source: dict[str, Any]
    data: bytes
    sha256: str
    training_data: dict[str, Any]
    parameters: dict[str, Any]
    metrics: list[dict[str, Any]]


class SourceReader(Protocol):
    """Reads the SourceUris of one more scheme."""

    @property
    def form(self) -> str:
        """The SourceUri form it reads, for messages (e.g. "dl-experiment:<ExperimentId>")."""
        ...

    def read(self, source_uri: str) -> Registration:
        """The artifact the SourceUri names, checked, with its provenance; InvalidValue naming what is wrong."""
        ...


def parse_lake_url(field: str, url: str) -> tuple[str, str]:
    """(bucket, key) of an s3://bucket/key URL; InvalidValue naming the field otherwise."""
    bucket, _, key = url.removeprefix(LAKE).partition("/")
    if not url.startswith(LAKE) or not bucket:
        raise InvalidValue(f"{field}={url!r}; expected s3://bucket/key")
    return bucket, key


class ArtifactSources:
    """Reads what SourceUris name, from predict and the lake."""

    def __init__(
        self,
        predict: PredictService,
        lake: LakeService,
        blobs: BlobStore,
        readers: Mapping[str, SourceReader] | None = None,
    ) -> None:
        self._predict = predict
        self._lake = lake
        self._blobs = blobs
        self._readers = dict(readers or {})

    def read(self, source_uri: str) -> Registration:
        """The artifact a SourceUri names, checked, with its provenance."""
        if source_uri.startswith(ML_MODEL):
            return self._predict_model(source_uri.removeprefix(ML_MODEL))
        if source_uri.startswith(LAKE):
            return self._lake_object(source_uri)
        for prefix, reader in self._readers.items():
            if source_uri.startswith(prefix):
                return reader.read(source_uri)
        forms = ["ml-model:<MLModelId>", "s3://bucket/key", *(reader.form for reader in self._readers.values())]
        raise InvalidValue(f"SourceUri={source_uri!r}; expected {', '.join(forms[:-1])} or {forms[-1]}")

    def metrics_document(self, url: str, digest: str | None) -> dict[str, float]:
        """The metrics in a JSON document in the lake (ModelMetrics' Statistics), checked against its digest."""
        info = self._head("ModelMetrics.ModelQuality.Statistics.S3Uri", url)
        data = b"".join(self._lake.read(info))
        if digest and digest.lower() != f"sha256:{hashlib.sha256(data).hexdigest()}":
            raise InvalidValue(f"ContentDigest={digest!r} does not match the object at {url}")
        try:
            document = json_input.loads(data)
        except ValueError:
            raise InvalidValue(f"ModelMetrics.ModelQuality.Statistics.S3Uri={url!r} is not a JSON document") from None
        if not isinstance(document, Mapping):
            raise InvalidValue(f"ModelMetrics.ModelQuality.Statistics.S3Uri={url!r} is not a JSON object")
        return metrics_from_document(document)

    def training_objects(self, location: str) -> list[dict[str, Any]]:
        """The lake objects at a data location (one object, or every object under a prefix), with their ETags."""
        return training_objects(self._lake, location)

    def _predict_model(self, model_id: str) -> Registration:
        try:
            model = self._predict.get_model(model_id)
        except NotFound:
            raise InvalidValue(f"SourceUri='ml-model:{model_id}': MLModel {model_id!r} does not exist") from None
        if model.status is not Status.COMPLETED or not model.artifact_key:
            raise InvalidValue(
                f"SourceUri='ml-model:{model_id}': MLModel {model_id!r} is {model.status}; it must be COMPLETED"
            )
        data = b"".join(self._blobs.read(model.artifact_key))
        try:
            load_model(data, model.artifact_sha256)
        except ArtifactCorrupt as corrupt:
            raise ArtifactRefused(f"MLModel {model_id!r}: {corrupt.message}: refused") from None
        source = {
            "kind": "ml-model",
            "model_id": model_id,
            "model_type": model.model_type,
            "artifact_sha256": model.artifact_sha256,
            "score_threshold": model.score_threshold,
        }
        return Registration(
            source=source,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            training_data=self._training_data(model),
            parameters={
                "model_type": model.model_type,
                "learner": model.learner,
                "training_parameters": dict(model.parameters),
                "recipe": model.recipe_used or model.recipe,
                "score_threshold": model.score_threshold,
            },
            metrics=self._evaluations(model_id),
        )

    def _training_data(self, model: Model) -> dict[str, Any]:
        datasource = self._predict.get_datasource(model.training_datasource_id)
        return {
            "datasource_id": datasource.datasource_id,
            "location": datasource.data_location,
            "rearrangement": datasource.data_rearrangement,
            "rows": datasource.row_count,
            "objects": self.training_objects(datasource.data_location),
        }

    def _evaluations(self, model_id: str) -> list[dict[str, Any]]:
        page = self._predict.list_evaluations(ListQuery(field="model_id", eq=model_id))
        return [
            {
                "source": f"evaluation:{evaluation.evaluation_id}",
                "datasource_id": evaluation.datasource_id,
                "records": evaluation.metrics.get("records"),
                "values": metric_values(evaluation.metrics),
            }
            for evaluation in page.items
            if evaluation.status is Status.COMPLETED and evaluation.metrics
        ]

    def _lake_object(self, url: str) -> Registration:
        info = self._head("SourceUri", url)
        data = b"".join(self._lake.read(info))
        etag = info.etag.strip('"')
        if "-" not in etag and hashlib.md5(data).hexdigest() != etag:
            raise ArtifactRefused(f"the object at {url} does not match its ETag {info.etag}: refused")
        source = {"kind": "lake", "bucket": info.bucket, "key": info.key, "etag": info.etag, "size": info.size}
        return Registration(source, data, hashlib.sha256(data).hexdigest(), {}, {}, [])

    def _head(self, field: str, url: str) -> ObjectInfo:
        bucket, key = parse_lake_url(field, url)
        try:
            return self._lake.head(bucket, key)
        except (NoSuchBucket, NoSuchKey):
            raise InvalidValue(f"{field}={url!r}: there is no such object in the lake") from None


def training_objects(lake: LakeService, location: str) -> list[dict[str, Any]]:
    """The lake objects at a data location (one object, or every object under a prefix), with their ETags."""
    if not location.startswith(LAKE):
        return []
    bucket, key = parse_lake_url("location", location)
    try:
        if key and not key.endswith("/"):
            return [_object(lake.head(bucket, key))]
    except NoSuchKey:
        pass
    except NoSuchBucket:
        return []
    found: list[dict[str, Any]] = []
    after = ""
    while len(found) < MAX_TRAINING_OBJECTS:
        try:
            page = lake.list_objects(bucket, prefix=key, after=after)
        except NoSuchBucket:
            return found
        found.extend(_object(info) for info in page.objects)
        if not page.is_truncated:
            break
        after = page.last_item
    return found[:MAX_TRAINING_OBJECTS]


def _object(info: ObjectInfo) -> dict[str, Any]:
    # The version id names these very bytes in a versioned bucket even after the key is overwritten or deleted.
    return {"bucket": info.bucket, "key": info.key, "etag": info.etag, "size": info.size, "version_id": info.version_id}
