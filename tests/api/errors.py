"""Checking the errors the server answers with, as boto3 and raw HTTP clients see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError


def fails(call: Callable[[], Any], code: str, status: int) -> ClientError:
    """Run call, expect the S3 error `code` with HTTP `status`, return it."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value
    assert (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    return error


def error_code(response: httpx.Response) -> str:
    """The <Code> of an S3 XML error body ('' when there is none)."""
    text = response.text
    start = text.find("<Code>")
    return text[start + len("<Code>") : text.find("</Code>")] if start >= 0 else ""
