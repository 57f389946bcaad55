"""The lake's wiring: buckets and objects over the blob store, S3's wire, the garbage collection job."""

from __future__ import annotations

import dataclasses
import functools

from altostratus.api.gateway import ServiceAdapter
from altostratus.api.lake import S3Api, S3Services
from altostratus.api.rest_xml import S3Adapter
from altostratus.app.foundation import Foundation
from altostratus.app.slice import ServiceSlice
from altostratus.functions.triggers import destination_problem
from altostratus.jobs.runner import JobContext
from altostratus.lake.multipart import MultipartUploads
from altostratus.lake.service import LakeService

LAKE_GC_JOB = "lake.collect-garbage"


@dataclasses.dataclass
class Lake:
    """The lake's objects, and its slice."""

    lake: LakeService
    multipart: MultipartUploads
    slice: ServiceSlice


def wire_lake(base: Foundation) -> Lake:
    """The lake over the shared blob and metadata stores; notification rules may target functions."""
    settings = base.settings
    lake = LakeService(
        base.metadata,
        base.blobs,
        base.bus,
        base.clock,
        settings.region,
        check_destination=functools.partial(destination_problem, region=settings.region),
    )
    multipart = MultipartUploads(lake)

    def collect_garbage(context: JobContext) -> dict[str, int]:
        return {"removed": lake.collect_garbage()}

    def start() -> None:
        base.jobs.submit(LAKE_GC_JOB, {}, max_attempts=1)

    def adapters() -> list[ServiceAdapter]:
        return [S3Adapter(S3Api(S3Services(lake, multipart)), max_object_bytes=settings.max_request_bytes)]

    return Lake(
        lake,
        multipart,
        ServiceSlice(
            "lake",
            jobs={LAKE_GC_JOB: collect_garbage},
            adapters=lambda: [
                S3Adapter(S3Api(S3Services(lake, multipart)), max_object_bytes=settings.max_request_bytes)
            ],
            start=start,
        ),
    )
