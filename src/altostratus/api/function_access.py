"""The IAM actions and resources an S3 call needs, so that a function's key is held to its access policy.

Action names are IAM's for S3 (HeadObject needs s3:GetObject, CopyObject s3:PutObject on the target and
s3:GetObject on the source, a ListObjectsV2 s3:ListBucket on the bucket). DeleteObjects names its keys in the
body, which is read later: it needs s3:DeleteObject on every key of the bucket (`arn:aws:s3:::BUCKET/*`).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

# operation -> (action, what it acts on: "account", "bucket", "object" or "every object")
S3_ACTIONS: dict[str, tuple[str, str]] = {
    "ListBuckets": ("s3:ListAllMyBuckets", "account"),
    "HeadBucket": ("s3:ListBucket", "bucket"),
    "GetBucketLocation": ("s3:GetBucketLocation", "bucket"),
    "ListObjects": ("s3:ListBucket", "bucket"),
    "ListObjectsV2": ("s3:ListBucket", "bucket"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "bucket"),
    "HeadObject": ("s3:GetObject", "object"),
    "GetObject": ("s3:GetObject", "object"),
    "GetObjectAttributes": ("s3:GetObject", "object"),
    "PutObject": ("s3:PutObject", "object"),
    "CopyObject": ("s3:PutObject", "object"),
    "DeleteObject": ("s3:DeleteObject", "object"),
    "DeleteObjects": ("s3:DeleteObject", "every object"),
    "CreateMultipartUpload": ("s3:PutObject", "object"),
    "UploadPart": ("s3:PutObject", "object"),
    "UploadPartCopy": ("s3:PutObject", "object"),
    "CompleteMultipartUpload": ("s3:PutObject", "object"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "object"),
    "ListParts": ("s3:ListMultipartUploadParts", "object"),
}
COPIES = frozenset({"CopyObject", "UploadPartCopy"})


def s3_needs(operation: str, path_params: Mapping[str, str], headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs an S3 call needs; empty for operations a function's key may never call."""
    found = S3_ACTIONS.get(operation)
    if found is None:
        return []
    action, scope = found
    bucket, key = path_params.get("Bucket", ""), path_params.get("Key", "")
    resource = {
        "account": "*",
        "bucket": f"arn:aws:s3:::{bucket}",
        "object": f"arn:aws:s3:::{bucket}/{key}",
        "every object": f"arn:aws:s3:::{bucket}/*",
    }[scope]
    needs = [(action, resource)]
    if operation in COPIES:
        source = unquote(headers.get("x-amz-copy-source", "")).split("?", 1)[0].lstrip("/")
        needs.append(("s3:GetObject", f"arn:aws:s3:::{source}"))
    return needs
