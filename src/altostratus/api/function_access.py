"""The IAM actions and resources an S3 call needs, so that a function's key is held to its access policy.

Action names are IAM's for S3 (auth/keys.py keeps the table): HeadObject needs s3:GetObject, CopyObject
s3:PutObject on the target and s3:GetObject on its source, a ListObjectsV2 s3:ListBucket on the bucket.
DeleteObjects names its keys in the body: the handler checks each one as S3 does, answering AccessDenied for the
keys the policy does not let it delete (Call.allows).
"""

from __future__ import annotations

from collections.abc import Mapping

from altostratus.api.lake.objects import parse_copy_source
from altostratus.auth.keys import FUNCTION_S3_ACTIONS
from altostratus.core.errors import AccessDenied

COPIES = frozenset({"CopyObject", "UploadPartCopy"})


def s3_needs(operation: str, path_params: Mapping[str, str], headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs an S3 call by a function's key needs before it runs; AccessDenied for an
    operation such a key may never call (refused, not waved through, if the tables ever disagree)."""
    found = FUNCTION_S3_ACTIONS.get(operation)
    if found is None:
        raise AccessDenied(f"Access Denied: a function's key may not call {operation}")
    action, scope = found
    if scope == "each key":
        return []
    bucket, key = path_params.get("Bucket", ""), path_params.get("Key", "")
    resource = {"account": "*", "bucket": f"arn:aws:s3:::{bucket}", "object": f"arn:aws:s3:::{bucket}/{key}"}[scope]
    needs = [(action, resource)]
    if operation in COPIES:
        source_bucket, source_key = parse_copy_source(headers.get("x-amz-copy-source", ""))
        needs.append(("s3:GetObject", f"arn:aws:s3:::{source_bucket}/{source_key}"))
    return needs
