"""What the S3 handlers work on."""

from __future__ import annotations

import dataclasses

from altostratus.lake.multipart import MultipartUploads
from altostratus.lake.service import LakeService


@dataclasses.dataclass(frozen=True)
class S3Services:
    """The lake and its multipart uploads."""

    lake: LakeService
    multipart: MultipartUploads
