"""A datasource's or a model's log: a JSON document in the lake with what Amazon ML's console would show.

Amazon ML shows a datasource's statistics only in its console; its API hands out nothing but LogUri, "a
link to the file containing logs". Here that file holds the statistics (counts, missing and invalid
values, distributions, correlation with the target), the schema, and a model's training report. It is
written into the lake (bucket `alto-predict-logs`, created on first use) once per version of the entity,
under `KIND/ID/VERSION-MILLISECONDS.json`; the API links it (api/predict/log_links.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from altostratus.core.caller import Caller
from altostratus.lake.errors import BucketAlreadyOwnedByYou, NoSuchBucket, NoSuchKey
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.predict.entities import DataSource, Model

LOG_BUCKET = "alto-predict-logs"
WRITER = Caller("alto-predict")


class LogFiles:
    """Writes the logs of finished datasources and models into the lake, once per version."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def datasource_log(self, source: DataSource) -> str:
        """The key of the datasource's log in LOG_BUCKET (written now unless it already is)."""
        document = {
            "DataSourceId": source.datasource_id,
            "Status": source.status.value,
            "Message": source.message,
            "DataSchema": json.loads(source.data_schema) if source.data_schema else None,
            "Statistics": source.statistics,
        }
        return self._ensure(_key("datasources", source.datasource_id, source.updated_at), document)

    def model_log(self, model: Model) -> str:
        """The key of the model's log (its training report) in LOG_BUCKET (written now unless it already is)."""
        document = {
            "MLModelId": model.model_id,
            "Status": model.status.value,
            "Message": model.message,
            "Learner": model.learner,
            "TrainingParameters": dict(model.parameters),
            "TrainingReport": model.training_report,
        }
        return self._ensure(_key("models", model.model_id, model.updated_at), document)

    def _ensure(self, key: str, document: Mapping[str, Any]) -> str:
        try:
            self._lake.head(LOG_BUCKET, key)
            return key
        except NoSuchKey:
            pass
        except NoSuchBucket:  # the first log ever
            with contextlib.suppress(BucketAlreadyOwnedByYou):
                self._lake.create_bucket(LOG_BUCKET)
        body = json.dumps(document, indent=1, default=str).encode()
        writer = self._lake.object_writer(LOG_BUCKET, key, ObjectMeta("application/json"))
        with writer:
            writer.write(body)
            writer.commit(WRITER)
        return key


def _key(kind: str, entity_id: str, version: dt.datetime) -> str:
    # One log per version: an entity updated later gets a new log, an unchanged one keeps its own.
    return f"{kind}/{entity_id}/{int(version.timestamp() * 1000)}.json"
