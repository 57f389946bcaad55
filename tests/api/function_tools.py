"""Helpers for tests that deploy functions on a live server and watch what they leave in the lake."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

from altostratus.functions.access import CACHE_SECONDS as ACCESS_CACHE_SECONDS
from tests.functions.wheels import make_zip
from tests.live_server import ALTO, LiveServer

T = TypeVar("T")
ROLE = "arn:aws:iam::000000000000:role/test"
# For servers whose tests are about events and triggers, not keys: their functions record runs in buckets of their
# own. How a function's key is scoped by default is tested in test_function_access.py.
LAKE_FOR_ALL = {"ALTO_FUNCTIONS_LAKE_ACCESS": "all"}

# Writes one object per run under runs/REQUEST-ID/, holding when it started, the event, and its trace header;
# with {"fail": true} it writes the object, then raises.
RECORDER = make_zip(
    {
        "app.py": (
            "import json, os, time, uuid\n"
            "import boto3\n"
            "s3 = boto3.client('s3')\n"
            "def handler(event, context):\n"
            "    started = time.time()\n"
            "    print('EVENT ' + json.dumps(event))\n"
            "    run = {'started': started, 'event': event, 'trace': os.environ.get('_X_AMZN_TRACE_ID', '')}\n"
            '    key = f"runs/{context.aws_request_id}/{uuid.uuid4().hex}"\n'
            "    s3.put_object(Bucket=os.environ['OUT_BUCKET'], Key=key, Body=json.dumps(run).encode())\n"
            "    if isinstance(event, dict) and event.get('fail'):\n"
            "        raise ValueError('asked to fail')\n"
            "    if isinstance(event, dict) and event.get('sleep'):\n"
            "        time.sleep(event['sleep'])\n"
            "    return 'ok'\n"
        )
    }
)


def create_function(lam: Any, name: str, code: bytes = RECORDER, **settings: Any) -> dict[str, Any]:
    """CreateFunction with a Python handler app.handler, and anything else given."""
    defaults = {"Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler"}
    answer: dict[str, Any] = lam.create_function(FunctionName=name, Code={"ZipFile": code}, **{**defaults, **settings})
    return answer


def eventually(probe: Callable[[], T | None], *, timeout: float = 30, interval: float = 0.05) -> T:
    """The first result of probe() that is not None or empty, polling until timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing came within {timeout} s (last: {result!r})")
        time.sleep(interval)


def keys_under(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every key in the bucket under prefix, in order."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def lake_policy(*buckets: str) -> dict[str, Any]:
    """An access policy letting a function's key read, write and list these whole buckets."""
    resources = [arn for bucket in buckets for arn in (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")]
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": resources}]}


def grant_lake(server: LiveServer, name: str, *buckets: str, after_use: bool = False) -> None:
    """Widen a function's key to these buckets with `alto functions access set` (after_use: the function has
    called the server already, so wait until its cached access has expired)."""
    document = json.dumps(lake_policy(*buckets))
    done = subprocess.run(
        [ALTO, "functions", "access", "set", name, document, "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, **server.env},
    )
    assert done.returncode == 0, done.stderr
    if after_use:
        time.sleep(ACCESS_CACHE_SECONDS)
