"""The signature of a browser form's policy (S3's POST Object), SigV4 or SigV2, checked against the server's keys.

SigV4: x-amz-signature is the hex HMAC-SHA256 of the base64 policy, as sent, under the signing key of
x-amz-credential's scope (its day must be x-amz-date's). SigV2: signature is the base64 HMAC-SHA1 of the policy
under the key's secret. The policy's own expiration bounds how long a form may be used, so x-amz-date is not held
to the clock as a request's date is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from altostratus.api.signing import derive_signing_key, same_digest
from altostratus.api.sigv4 import Credential, Verifier
from altostratus.auth.keys import AccessKey
from altostratus.core.errors import InvalidArgument, SignatureDoesNotMatch

_CREDENTIAL = re.compile(r"^([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request$")
_AMZ_DATE = re.compile(r"^\d{8}T\d{6}Z$")
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing "
    "method: a form's signature signs its policy field, as sent"
)


def verify_v4(verifier: Verifier, credential_text: str, amz_date: str, signature: str, policy: str) -> AccessKey:
    """The key whose SigV4 signature of the policy this is; InvalidArgument for a malformed credential or date,
    InvalidAccessKeyId or SignatureDoesNotMatch otherwise."""
    found = _CREDENTIAL.match(credential_text)
    if found is None:
        raise InvalidArgument(
            f"x-amz-credential={credential_text[:128]!r} is malformed; expected "
            "<key id>/<YYYYMMDD>/<region>/s3/aws4_request"
        )
    credential = Credential(*found.groups())
    if _AMZ_DATE.match(amz_date) is None or amz_date[:8] != credential.date:
        raise InvalidArgument(
            f"x-amz-date={amz_date[:32]!r}; expected YYYYMMDDTHHMMSSZ on the day of x-amz-credential "
            f"({credential.date})"
        )
    if credential.service != "s3":
        raise InvalidArgument(f"x-amz-credential names the service {credential.service!r}; a form is signed for s3")
    key = verifier.key(credential.access_key_id)
    computed = hmac.new(derive_signing_key(key.secret_access_key, credential), policy.encode(), hashlib.sha256)
    if not same_digest(computed.hexdigest(), signature):
        raise SignatureDoesNotMatch(_MISMATCH)
    return key


def verify_v2(verifier: Verifier, access_key_id: str, signature: str, policy: str) -> AccessKey:
    """The key whose SigV2 signature of the policy this is; InvalidAccessKeyId or SignatureDoesNotMatch otherwise."""
    key = verifier.key(access_key_id)
    computed = hmac.new(key.secret_access_key.encode(), policy.encode(), hashlib.sha1).digest()
    if not same_digest(base64.b64encode(computed).decode(), signature):
        raise SignatureDoesNotMatch(_MISMATCH)
    return key
