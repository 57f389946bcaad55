"""The parts every service shares: settings, clock, metadata and blob stores, the event bus, keys, the job queue."""

from __future__ import annotations

import dataclasses

from altostratus.app.slice import Mode
from altostratus.auth.keys import KeyStore
from altostratus.auth.users import UserStore
from altostratus.core.clock import Clock
from altostratus.core.events import EventBus
from altostratus.core.settings import Settings
from altostratus.jobs.queue import JobQueue
from altostratus.storage.blobs import BlobStore
from altostratus.storage.factory import blob_store_from_settings
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.private_files import make_private_dirs


@dataclasses.dataclass
class Foundation:
    """The shared parts, built once per process and handed to every service's wiring function."""

    settings: Settings
    mode: Mode
    clock: Clock
    metadata: MetadataStore
    blobs: BlobStore
    bus: EventBus
    keys: KeyStore
    users: UserStore
    jobs: JobQueue  # the shared queue: every slice's `jobs` handlers run on its workers


def build_foundation(settings: Settings, mode: Mode, clock: Clock) -> Foundation:
    """The shared parts; the database is migrated to the newest schema."""
    make_private_dirs(settings.data_dir)
    metadata = MetadataStore(settings.resolved_database_url)
    metadata.migrate()
    return Foundation(
        settings=settings,
        mode=mode,
        clock=clock,
        metadata=metadata,
        blobs=blob_store_from_settings(settings),
        bus=EventBus(),
        keys=KeyStore(metadata, clock),
        users=UserStore(metadata, clock),
        jobs=JobQueue(metadata, clock),
    )
