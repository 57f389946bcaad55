"""Amazon ML's LogUri: a presigned S3 URL of a JSON document about one datasource, model or evaluation.

Amazon ML shows a datasource's statistics only in its console; the API hands out nothing but LogUri, "a
link to the file containing logs". Here that file holds what the console would show: the statistics
(counts, missing and invalid values, distributions, correlation with the target), the schema, and a
model's training report. It is written into the lake (bucket `alto-predict-logs`, created on first use)
once per version of the entity, and linked with a URL presigned by the caller's own key, so any HTTP
client can read it and nobody without a key can.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from altostratus.auth.keys import AccessKey
from altostratus.core.caller import Caller
from altostratus.lake.errors import BucketAlreadyOwnedByYou, NoSuchBucket, NoSuchKey
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService

LOG_BUCKET = "alto-predict-logs"
LINK_SECONDS = 3600  # Amazon ML's LogUri links last an hour too
WRITER = Caller("alto-predict")


class LogFiles:
    """Writes predict logs into the lake and links them."""

    def __init__(self, lake: LakeService, endpoint_url: str, region: str) -> None:
        self._lake = lake
        self._endpoint = endpoint_url.rstrip("/")
        self._region = region

    def link(self, key: str, document: Mapping[str, Any], caller: AccessKey | None) -> str:
        """The URL of the log at `key` (written now unless it already is), presigned with the caller's key."""
        self._ensure(key, document)
        url = f"{self._endpoint}/{LOG_BUCKET}/{quote(key)}"
        if caller is None:  # authentication is off: anyone may read
            return url
        request = AWSRequest(method="GET", url=url)
        credentials = Credentials(caller.access_key_id, caller.secret_access_key)
        S3SigV4QueryAuth(credentials, "s3", self._region, expires=LINK_SECONDS).add_auth(request)
        return str(request.url)

    def _ensure(self, key: str, document: Mapping[str, Any]) -> None:
        try:
            self._lake.head(LOG_BUCKET, key)
            return
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
