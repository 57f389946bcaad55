"""The S3 requests only browsers send, which botocore's model does not name: the CORS preflight and form uploads.

Both come unsigned: a preflight (OPTIONS) never carries credentials, and a form upload (POST Object: POST /bucket
with a multipart/form-data body) carries them in its fields, as the signature of its policy. Each is routed here
by its method and path, and authorizes itself (api/lake/cors.py, api/lake/post_object.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from altostratus.api.operations import RouteMatch

PREFLIGHT = "OptionsObject"
FORM_UPLOAD = "PostObject"
BROWSER_OPERATIONS = frozenset({PREFLIGHT, FORM_UPLOAD})


def browser_operation(method: str, raw_path: str, headers: Mapping[str, str]) -> RouteMatch | None:
    """The browser operation the request is (None: it is not one): any OPTIONS request, and a POST of a
    multipart/form-data body to a bucket."""
    bucket, _, key = raw_path.lstrip("/").partition("/")
    params = {"Bucket": unquote(bucket)}
    if method == "OPTIONS":
        return RouteMatch(PREFLIGHT, {**params, "Key": unquote(key)} if key else params)
    form = headers.get("content-type", "").lower().startswith("multipart/form-data")
    if method == "POST" and form and bucket and not key:
        return RouteMatch(FORM_UPLOAD, params)
    return None
