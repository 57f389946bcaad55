"""The lake's wiring: buckets and objects over the blob store, S3's wire, the garbage collection job."""

from __future__ import annotations

import dataclasses
import functools
import time

from altostratus.api.gateway import ServiceAdapter
from altostratus.api.lake import S3Api, S3Services
from altostratus.api.rest_xml import S3Adapter
from altostratus.app.foundation import Foundation
from altostratus.app.slice import ServiceSlice
from altostratus.functions.triggers import destination_problem
from altostratus.jobs.runner import JobContext
from altostratus.lake.access import BucketRecords
from altostratus.lake.bucket_encryption import BucketEncryption
from altostratus.lake.cors import BucketCors
from altostratus.lake.encryption import Keyring
from altostratus.lake.lifecycles import Lifecycles
from altostratus.lake.master_key import load_or_create, master_key_path
from altostratus.lake.multipart import MultipartUploads
from altostratus.lake.object_locks import ObjectLocks
from altostratus.lake.permissions import Permissions
from altostratus.lake.service import LakeService
from altostratus.lake.tagging import Tagging

LAKE_GC_JOB = "lake.collect-garbage"
LIFECYCLE_JOB = "lake.lifecycle"


@dataclasses.dataclass
class Lake:
    """The lake's objects, and its slice."""

    lake: LakeService
    multipart: MultipartUploads
    slice: ServiceSlice
    access: BucketRecords  # what the S3 authorizer reads (app/platform.py builds it)
    cors: BucketCors  # what the gateway's CORS headers read (app/platform.py)


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
        keyring=Keyring(lambda: load_or_create(master_key_path(settings.data_dir))),
        inline_limit=settings.lake_inline_bytes,
    )
    multipart = MultipartUploads(lake)
    tagging = Tagging(lake)
    locks = ObjectLocks(lake)
    lifecycles = Lifecycles(lake, multipart, day_seconds=settings.lake_lifecycle_day_seconds)
    interval = settings.lake_lifecycle_interval_seconds
    access = BucketRecords(base.metadata, base.users, base.clock)
    lake.on_bucket_change(access.forget)
    permissions = Permissions(lake, access)
    cors = BucketCors(base.metadata)
    bucket_encryption = BucketEncryption(lake)
    base.users.hold_deletion_by(lambda name: [b.name for b in lake.list_buckets(owner=name, everyone=False)])

    def collect_garbage(context: JobContext) -> dict[str, int]:
        return {"removed": lake.collect_garbage()}

    def apply_lifecycles(context: JobContext) -> dict[str, int]:
        done = dataclasses.asdict(lifecycles.apply())
        schedule_lifecycles()
        return done

    def schedule_lifecycles() -> None:
        # One job per interval, named by it: a restart, a retry or a second server process finds the job of
        # the coming interval already queued (the queue keeps it), so passes neither stop nor pile up.
        now = time.time()
        slot = int(now // interval) + 1
        base.jobs.submit(
            LIFECYCLE_JOB, {}, max_attempts=1, delay_seconds=slot * interval - now, job_id=f"{LIFECYCLE_JOB}-{slot}"
        )

    def start() -> None:
        base.jobs.submit(LAKE_GC_JOB, {}, max_attempts=1)
        schedule_lifecycles()

    def adapters() -> list[ServiceAdapter]:
        return [
            S3Adapter(
                S3Api(
                    S3Services(
                        lake,
                        multipart,
                        tagging,
                        locks,
                        permissions,
                        lifecycles,
                        cors,
                        bucket_encryption,
                        settings.lake_sse_c_over_http,
                    )
                ),
                max_object_bytes=settings.max_request_bytes,
            )
        ]

    return Lake(
        lake,
        multipart,
        ServiceSlice(
            "lake",
            jobs={LAKE_GC_JOB: collect_garbage, LIFECYCLE_JOB: apply_lifecycles},
            adapters=adapters,
            start=start,
        ),
        access,
        cors,
    )
