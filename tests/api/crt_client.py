"""boto3 with the CRT (run as a script, in a process whose environment does not set BOTO_DISABLE_CRT): put/get, a
multipart upload_file, CRC64NVME and CRC32C puts, a presigned GET. Prints what it saw as JSON."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

import boto3
import botocore.auth
import botocore.compat
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def main() -> None:
    """Drive the server named by AWS_ENDPOINT_URL with the bucket given as the first argument."""
    bucket = sys.argv[1]
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        config=Config(signature_version="s3v4"),
    )
    seen: dict[str, object] = {
        "has_crt": botocore.compat.HAS_CRT,
        "signer": botocore.auth.AUTH_TYPE_MAPS["s3v4"].__name__,
    }
    s3.put_object(Bucket=bucket, Key="small", Body=b"through the CRT signer")
    seen["get"] = s3.get_object(Bucket=bucket, Key="small")["Body"].read().decode()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.bin"
        path.write_bytes(os.urandom(11 * 1024 * 1024))
        config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
        s3.upload_file(str(path), bucket, "big.bin", Config=config)
        seen["multipart_etag"] = s3.head_object(Bucket=bucket, Key="big.bin")["ETag"]
        seen["multipart_same"] = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == path.read_bytes()
    for algorithm in ("CRC64NVME", "CRC32C"):
        put = s3.put_object(Bucket=bucket, Key=algorithm, Body=b"A" * 1024, ChecksumAlgorithm=algorithm)
        got = s3.get_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
        got["Body"].read()  # the CRT checks the body against the checksum as it reads
        seen[algorithm] = [put[f"Checksum{algorithm}"], got[f"Checksum{algorithm}"]]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small"}, ExpiresIn=60)
    with urllib.request.urlopen(url) as answer:
        seen["presigned"] = answer.read().decode()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
