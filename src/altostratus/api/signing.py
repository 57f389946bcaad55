"""The arithmetic of AWS request signatures: SigV4 signing keys, canonical requests and signatures (whole requests
and aws-chunked chunks), and S3's legacy SigV2 strings to sign. sigv4.py decides what to check with them."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from altostratus.core.errors import SignatureDoesNotMatch

if TYPE_CHECKING:
    from altostratus.api.sigv4 import Credential, HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Sub-resources that SigV2 signs (botocore's HmacV1Auth.QSAOfInterest).
V2_SUBRESOURCES = frozenset(
    [
        "accelerate",
        "acl",
        "cors",
        "defaultObjectAcl",
        "location",
        "logging",
        "partNumber",
        "policy",
        "requestPayment",
        "torrent",
        "versioning",
        "versionId",
        "versions",
        "website",
        "uploads",
        "uploadId",
        "response-content-type",
        "response-content-language",
        "response-expires",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "delete",
        "lifecycle",
        "tagging",
        "restore",
        "storageClass",
        "notification",
        "replication",
        "requestPayment",
        "analytics",
        "metrics",
        "inventory",
        "select",
        "select-type",
        "object-lock",
    ]
)


def same_digest(computed: str, given: str) -> bool:
    """Constant-time comparison of a computed digest with one the client sent (which may hold any text)."""
    # hmac.compare_digest refuses str with non-ASCII characters; compare the UTF-8 bytes instead.
    return hmac.compare_digest(computed.encode(), given.encode("utf-8", "surrogateescape"))


def canonical_request(
    req: HttpRequest, signed_headers: Sequence[str], payload_hash: str, service: str, *, exclude_query: Sequence[str]
) -> str:
    """The SigV4 canonical request, built the way botocore builds it."""
    # S3 signs the path as sent; every other service signs it URI-encoded once more (botocore does the same).
    path = req.raw_path or "/"
    canonical_path = path if service == "s3" else quote(path, safe="/~")
    query = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~")) for k, v in req.query if k not in exclude_query
    )
    headers = []
    for name in signed_headers:
        value = req.headers.get(name)
        if value is None:
            raise SignatureDoesNotMatch(f"Header {name!r} is listed in SignedHeaders but not sent")
        headers.append(f"{name}:{' '.join(value.split())}\n")
    return "\n".join(
        [
            req.method,
            canonical_path,
            "&".join(f"{k}={v}" for k, v in query),
            "".join(headers),
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def derive_signing_key(secret: str, credential: Credential) -> bytes:
    """The SigV4 signing key for this secret and credential scope."""
    return _signing_key(secret, credential.date, credential.region, credential.service)


# A signing key is valid for a whole day; clients reuse one scope for thousands of requests.
@functools.lru_cache(maxsize=1024)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def chunk_signature(signing_key: bytes, amz_date: str, credential: Credential, previous: str, chunk: bytes) -> str:
    """The signature of one aws-chunked chunk, chained from the previous one."""
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            amz_date,
            credential.scope,
            previous,
            EMPTY_SHA256,
            hashlib.sha256(chunk).hexdigest(),
        ]
    )
    return hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()


def sign_v4(signing_key: bytes, amz_date: str, credential: Credential, canonical: str) -> str:
    to_sign = "\n".join([ALGORITHM, amz_date, credential.scope, hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def v2_signature(secret: str, string_to_sign: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()


def v2_paths(path: str) -> list[str]:
    # A path-style request to a bucket ("/bucket") is signed as "/bucket" by the SigV2 rules, but botocore
    # signs the virtual-host form "/bucket/"; S3 accepts both.
    if path.count("/") == 1 and len(path) > 1:
        return [path, path + "/"]
    return [path]


def v2_string_to_sign(req: HttpRequest, date: str, path: str) -> str:
    amz = sorted((name, " ".join(value.split())) for name, value in req.headers.items() if name.startswith("x-amz-"))
    sub = sorted((k, v) for k, v in req.query if k in V2_SUBRESOURCES)
    resource = path
    if sub:
        resource += "?" + "&".join(f"{k}={unquote(v)}" if v else k for k, v in sub)
    lines = [
        req.method,
        req.headers.get("content-md5", ""),
        req.headers.get("content-type", ""),
        date,
        *(f"{k}:{v}" for k, v in amz),
        resource,
    ]
    return "\n".join(lines)
