"""Amazon ML's LogUri: a presigned S3 URL of a log the predict domain wrote into the lake (predict/log_files.py).

The URL is presigned with the caller's own key, so any HTTP client can read the log and nobody without a
key can.
"""

from __future__ import annotations

from urllib.parse import quote

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from altostratus.auth.keys import AccessKey

LINK_SECONDS = 3600  # Amazon ML's LogUri links last an hour too


class LogLinks:
    """Links lake objects with URLs this server's S3 API answers, presigned by the caller's key."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self._endpoint = endpoint_url.rstrip("/")
        self._region = region

    def link(self, bucket: str, key: str, caller: AccessKey | None) -> str:
        """The URL of `bucket`/`key`, presigned with the caller's key for LINK_SECONDS."""
        url = f"{self._endpoint}/{bucket}/{quote(key)}"
        if caller is None:  # authentication is off: anyone may read
            return url
        request = AWSRequest(method="GET", url=url)
        credentials = Credentials(caller.access_key_id, caller.secret_access_key)
        S3SigV4QueryAuth(credentials, "s3", self._region, expires=LINK_SECONDS).add_auth(request)
        return str(request.url)
