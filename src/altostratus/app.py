"""The composition root: the one place that builds the platform's objects and wires them together."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from starlette.types import ASGIApp

from altostratus.api.gateway import Gateway
from altostratus.api.s3.adapter import S3Adapter
from altostratus.api.s3.services import S3Services
from altostratus.api.sigv4 import Verifier
from altostratus.auth.keys import KeyStore
from altostratus.core.clock import Clock, SystemClock
from altostratus.core.events import EventBus
from altostratus.core.settings import Settings
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import JobContext, WorkerPool
from altostratus.lake.multipart import MultipartUploads
from altostratus.lake.service import LakeService
from altostratus.storage.blobs import BlobStore
from altostratus.storage.factory import blob_store_from_settings
from altostratus.storage.metadata import MetadataStore

log = logging.getLogger(__name__)
LAKE_GC_JOB = "lake.collect-garbage"


@dataclasses.dataclass
class Platform:
    """Every long-lived object of one server process."""

    settings: Settings
    clock: Clock
    metadata: MetadataStore
    blobs: BlobStore
    bus: EventBus
    keys: KeyStore
    lake: LakeService
    multipart: MultipartUploads
    jobs: JobQueue
    workers: WorkerPool

    def start(self) -> None:
        """Start the background workers and queue the lake's garbage collection."""
        self.workers.start()
        self.jobs.submit(LAKE_GC_JOB, {}, max_attempts=1)

    def close(self) -> None:
        """Stop the workers and release the database."""
        self.workers.stop(timeout=10)
        self.metadata.close()


def build_platform(settings: Settings, *, clock: Clock | None = None) -> Platform:
    """Build every service from settings; the database is migrated to the newest schema."""
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    metadata = MetadataStore(settings.resolved_database_url)
    metadata.migrate()
    blobs = blob_store_from_settings(settings)
    bus = EventBus()
    lake = LakeService(metadata, blobs, bus, clock, settings.region)
    jobs = JobQueue(metadata, clock)

    def collect_lake_garbage(context: JobContext) -> dict[str, int]:
        return {"removed": lake.collect_garbage()}

    workers = WorkerPool(
        jobs,
        {LAKE_GC_JOB: collect_lake_garbage},
        workers=settings.job_workers,
        lease_seconds=settings.job_lease_seconds,
        clock=clock,
    )
    return Platform(
        settings=settings,
        clock=clock,
        metadata=metadata,
        blobs=blobs,
        bus=bus,
        keys=KeyStore(metadata, clock),
        lake=lake,
        multipart=MultipartUploads(lake),
        jobs=jobs,
        workers=workers,
    )


def create_asgi_app(platform: Platform) -> ASGIApp:
    """The HTTP gateway over the platform's services."""
    settings = platform.settings
    verifier = (
        Verifier(platform.keys.get, max_skew=dt.timedelta(seconds=settings.max_clock_skew_seconds))
        if settings.auth
        else None
    )
    s3 = S3Adapter(S3Services(platform.lake, platform.multipart, settings.max_request_bytes))
    return Gateway([s3], verifier=verifier, clock=platform.clock, max_request_bytes=settings.max_request_bytes)
