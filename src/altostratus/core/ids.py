"""Identifiers: request ids, resource ids and ARNs."""

from __future__ import annotations

import secrets
import string
import uuid

_ALNUM = string.ascii_uppercase + string.digits


def request_id() -> str:
    """A new request id, shaped like AWS's (a UUID4)."""
    return str(uuid.uuid4())


def short_id(length: int = 10) -> str:
    """A random id of upper-case letters and digits, as AWS uses for bot, model and job ids."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def token(nbytes: int = 24) -> str:
    """A URL-safe random token (upload ids, continuation tokens) that starts with a letter."""
    # One in 64 URL-safe tokens starts with '-', which command lines read as an option:
    # `aws s3api upload-part --upload-id -Xb...` fails with "expected one argument".
    return secrets.choice(string.ascii_letters) + secrets.token_urlsafe(nbytes)


# The platform's one local account: every ARN, bucket owner and policy principal names it.
ACCOUNT_ID = "000000000000"


def arn(service: str, region: str, resource: str, account: str = ACCOUNT_ID) -> str:
    """An ARN in this platform's single local account."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"
