"""Server-side encryption in S3's headers: what a request asks for, the customer keys it carries, what is answered.

A customer key (SSE-C) is taken only over a secure connection, as S3 takes it: a request this server received as
https. The server speaks plain HTTP, so that is a request a TLS proxy in front of it forwarded with
X-Forwarded-Proto: https, and only from a proxy named in the trusted_proxies setting (nobody else's
X-Forwarded-Proto is believed). The lake_sse_c_over_http setting lets plain HTTP carry customer keys too
(loopback tests, or a network one trusts).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from altostratus.api.context import Call
from altostratus.core.errors import BadRequest, InvalidArgument, NotImplementedOperation
from altostratus.lake.encryption import (
    SSE_S3,
    CustomerKey,
    EncryptionKind,
    EncryptionRequest,
    Envelope,
    KmsUnavailable,
)

SSE = "x-amz-server-side-encryption"
SSE_C = "x-amz-server-side-encryption-customer-"
COPY_SOURCE_SSE_C = "x-amz-copy-source-server-side-encryption-customer-"
KMS_KEY_ID = "x-amz-server-side-encryption-aws-kms-key-id"
KMS_CONTEXT = "x-amz-server-side-encryption-context"
BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
ENCRYPTION_PREFIXES = (SSE, "x-amz-copy-source-server-side-encryption")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _customer(prefix: str) -> frozenset[str]:
    return frozenset(prefix + name for name in ("algorithm", "key", "key-md5"))


_WRITE = frozenset({SSE, BUCKET_KEY, KMS_KEY_ID, KMS_CONTEXT}) | _customer(SSE_C)
# The encryption headers each operation honours; any other is refused, never ignored.
HONOURED: Mapping[str, frozenset[str]] = {
    "PutObject": _WRITE,
    "CreateMultipartUpload": _WRITE,
    "CopyObject": _WRITE | _customer(COPY_SOURCE_SSE_C),
    "GetObject": _customer(SSE_C),
    "HeadObject": _customer(SSE_C),
    "GetObjectAttributes": _customer(SSE_C),
    "UploadPart": _customer(SSE_C),
    "UploadPartCopy": _customer(SSE_C) | _customer(COPY_SOURCE_SSE_C),
    "CompleteMultipartUpload": _customer(SSE_C),
}
# Values that are not secrets (a customer key is one) and may be shown back.
_SHOWN_VALUES = (SSE, SSE_C + "algorithm", COPY_SOURCE_SSE_C + "algorithm")


class InsecureCustomerKey(BadRequest):
    """Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."""


class InvalidEncryptionAlgorithm(BadRequest):
    """The encryption request you specified is not valid. The valid value is AES256."""

    code = "InvalidEncryptionAlgorithmError"


def refuse_unhonoured(operation: str, headers: Mapping[str, str]) -> None:
    """NotImplemented for encryption headers the operation does not honour (they would be silently ignored)."""
    honoured = HONOURED.get(operation, frozenset())
    asked = sorted(name for name in headers if name.startswith(ENCRYPTION_PREFIXES) and name not in honoured)
    if not asked:
        return
    shown = [f"{name}={headers[name]!r}" if name in _SHOWN_VALUES else name for name in asked]
    raise NotImplementedOperation(
        f"A header you provided implies functionality that is not implemented: {', '.join(shown)} on {operation}. "
        f"Server-side encryption headers are taken by {', '.join(sorted(HONOURED))} only"
    )


def customer_key(call: Call, over_http: bool, prefix: str = SSE_C) -> CustomerKey | None:
    """The customer key (SSE-C) the request's headers of this prefix carry, checked as S3 checks it; None if none."""
    headers = call.headers
    algorithm, key, md5 = (headers.get(prefix + name) for name in ("algorithm", "key", "key-md5"))
    if algorithm is None and key is None and md5 is None:
        return None
    if not (call.secure or over_http):
        raise InsecureCustomerKey(
            "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure "
            "connection."
        )
    if algorithm is None:
        raise InvalidArgument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption "
            f"algorithm: {prefix}algorithm is missing (expected AES256)"
        )
    if algorithm != "AES256":
        raise InvalidEncryptionAlgorithm(
            f"The encryption request you specified is not valid: {prefix}algorithm={algorithm!r}; expected AES256"
        )
    if key is None:
        raise InvalidArgument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate "
            f"secret key: {prefix}key is missing"
        )
    if md5 is None:
        raise InvalidArgument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide the client "
            f"calculated MD5 of the secret key: {prefix}key-md5 is missing"
        )
    try:
        secret = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != 32:
        raise InvalidArgument(
            f"The secret key was invalid for the specified algorithm: {prefix}key must be the base64 of 32 bytes"
        )
    found = CustomerKey(secret)
    if not hmac.compare_digest(found.md5, md5.strip()):
        raise InvalidArgument(
            f"The calculated MD5 hash of the key did not match the hash that was provided in {prefix}key-md5"
        )
    return found


def write_encryption(call: Call, over_http: bool) -> EncryptionRequest | None:
    """What a PUT, CopyObject or CreateMultipartUpload asks its object to be sealed with (None: the bucket's
    default): SSE-S3 or SSE-C; SSE-KMS is refused, as no key management service is configured."""
    headers = call.headers
    algorithm = headers.get(SSE)
    if algorithm in KMS_ALGORITHMS or KMS_KEY_ID in headers or KMS_CONTEXT in headers:
        raise KmsUnavailable(
            f"{SSE}={algorithm!r} (SSE-KMS) needs a key management service, and this server has none configured: "
            "no KMS key can be used. Ask for AES256 (SSE-S3) or send a customer-provided key (SSE-C)"
        )
    bucket_key = headers.get(BUCKET_KEY, "false").strip().lower()
    if bucket_key != "false":
        raise InvalidArgument(
            f"{BUCKET_KEY}={headers[BUCKET_KEY]!r}: S3 bucket keys are for SSE-KMS, which this server does not offer; "
            "expected false or no header"
        )
    key = customer_key(call, over_http)
    if key is not None:
        if algorithm is not None:
            raise InvalidArgument(
                f"Server Side Encryption with Customer provided key is incompatible with the encryption method "
                f"specified: {SSE}={algorithm!r}; send one or the other"
            )
        return EncryptionRequest(EncryptionKind.SSE_C, key)
    if algorithm is None:
        return None
    if algorithm != EncryptionKind.SSE_S3.value:
        raise InvalidArgument(
            f"The encryption method specified is not supported: {SSE}={algorithm!r}; expected AES256 or aws:kms"
        )
    return SSE_S3


def encryption_headers(envelope: Envelope | None, key: CustomerKey | None = None) -> dict[str, str]:
    """The headers S3 answers an encrypted object's (or upload's) requests with: the algorithm, and for SSE-C the
    customer key's MD5 (from the request: the key is never stored)."""
    if envelope is None:
        return {}
    if envelope.kind is EncryptionKind.SSE_S3:
        return {SSE: EncryptionKind.SSE_S3.value}
    out = {SSE_C + "algorithm": "AES256"}
    if key is not None:
        out[SSE_C + "key-md5"] = key.md5
    return out
