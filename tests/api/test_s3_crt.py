"""boto3 with the CRT against the live server: the CRT's signer and checksums are accepted too.

The suite drives boto3 as `pip install boto3` installs it (tests/conftest.py sets BOTO_DISABLE_CRT); awscrt is
installed all the same, and boto3 then signs S3 requests with the CRT. That runs in a process of its own, whose
environment drops BOTO_DISABLE_CRT.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.live_server import LiveServer

CLIENT = Path(__file__).with_name("crt_client.py")


def test_boto3_with_the_crt(server: LiveServer, s3: Any, bucket: str) -> None:
    env = {name: value for name, value in server.aws_env().items() if name != "BOTO_DISABLE_CRT"}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
    done = subprocess.run(
        [sys.executable, str(CLIENT), bucket], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert (seen["has_crt"], seen["signer"]) == (True, "CrtS3SigV4Auth")
    assert seen["get"] == seen["presigned"] == "through the CRT signer"
    assert seen["multipart_etag"].endswith('-3"') and seen["multipart_same"]
    assert seen["CRC64NVME"] == ["Qeh8oXvGiSo=", "Qeh8oXvGiSo="]  # ceph s3-tests' value for 1,024 bytes of "A"
    assert seen["CRC32C"][0] == seen["CRC32C"][1]
    assert s3.head_object(Bucket=bucket, Key="CRC64NVME", ChecksumMode="ENABLED")["ChecksumCRC64NVME"] == "Qeh8oXvGiSo="
