"""What the S3 handlers work on."""

from __future__ import annotations

import dataclasses

from altostratus.lake.bucket_encryption import BucketEncryption
from altostratus.lake.cors import BucketCors
from altostratus.lake.lifecycles import Lifecycles
from altostratus.lake.multipart import MultipartUploads
from altostratus.lake.object_locks import ObjectLocks
from altostratus.lake.permissions import Permissions
from altostratus.lake.service import LakeService
from altostratus.lake.tagging import Tagging


@dataclasses.dataclass(frozen=True)
class S3Services:
    """The lake and its facets: multipart uploads, tags, object locks, permissions, lifecycle rules, CORS."""

    lake: LakeService
    multipart: MultipartUploads
    tagging: Tagging
    locks: ObjectLocks
    permissions: Permissions
    lifecycles: Lifecycles
    cors: BucketCors
    bucket_encryption: BucketEncryption
    # Whether customer keys (SSE-C) may come over plain HTTP (settings.lake_sse_c_over_http).
    customer_keys_over_http: bool = False
