"""The platform: the shared foundation and every service's slice, started and stopped together."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator

from starlette.types import ASGIApp

from altostratus.api.gateway import Gateway
from altostratus.api.lake.cors import CrossOrigin
from altostratus.api.s3_access import S3Access
from altostratus.api.sigv4 import Verifier
from altostratus.app.bots import Bots, wire_bots
from altostratus.app.deploy import Deploy, Hosting, wire_deploy
from altostratus.app.dl import DeepLearning, wire_dl
from altostratus.app.foundation import Foundation, build_foundation
from altostratus.app.functions import Functions, wire_functions
from altostratus.app.lake import Lake, wire_lake
from altostratus.app.pipelines import Pipelines, wire_pipelines
from altostratus.app.predict import Predict, wire_predict
from altostratus.app.sandboxes import Sandboxes
from altostratus.app.slice import Mode, ServiceSlice
from altostratus.app.speech import Speech, wire_speech
from altostratus.app.vision import Vision, wire_vision
from altostratus.auth.keys import KeyStore
from altostratus.auth.users import UserStore
from altostratus.core.clock import Clock, SystemClock
from altostratus.core.events import EventBus
from altostratus.core.settings import Settings
from altostratus.deploy.registry import Registry
from altostratus.dl.experiments import Experiments
from altostratus.functions.access import FunctionAccess
from altostratus.functions.events import EventInvocations
from altostratus.functions.routes import RoutesService
from altostratus.functions.runtime import ProcessRuntime
from altostratus.functions.service import FunctionsService
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import WorkerPool
from altostratus.lake.access import LakeAuthorizer
from altostratus.lake.multipart import MultipartUploads
from altostratus.lake.service import LakeService
from altostratus.pipelines import PipelineRuns
from altostratus.predict import PredictService
from altostratus.speech.service import SpeechService
from altostratus.speech.tasks import SynthesisTasks
from altostratus.storage.blobs import BlobStore
from altostratus.storage.metadata import MetadataStore
from altostratus.vision.collections import FaceCollections
from altostratus.vision.service import VisionService


@dataclasses.dataclass
class Platform:
    """Every long-lived object of one process: the foundation, each service's wiring, the shared job workers."""

    base: Foundation
    lake_wiring: Lake
    functions_wiring: Functions
    predict_wiring: Predict
    deploy_wiring: Deploy
    pipelines_wiring: Pipelines
    vision_wiring: Vision
    speech_wiring: Speech
    bots_wiring: Bots
    dl_wiring: DeepLearning
    workers: WorkerPool  # the shared queue's workers, running every slice's job handlers

    @property
    def slices(self) -> list[ServiceSlice]:
        """The services, in the order they are built and started (stopped in reverse)."""
        wirings = (self.lake_wiring, self.functions_wiring, self.predict_wiring, self.deploy_wiring)
        ai = (self.dl_wiring, self.vision_wiring, self.speech_wiring, self.bots_wiring)
        return [w.slice for w in (*wirings, self.pipelines_wiring, *ai)]

    def start(self) -> None:
        """Clear a crash's temporary blobs, start the shared workers, then each service (workers of its own,
        settling what a stop left half-way).

        Only a server calls it, holding the data directory's serving lock (storage/serving_lock.py), so no other
        process has writes in flight there; building the platform, as commands do too, deletes nothing.
        """
        if self.base.mode is not Mode.SERVE:
            raise RuntimeError("a platform built for a command (Mode.TOOL) is never started")
        self.base.blobs.remove_partials()  # before any worker or request writes a blob of its own
        self.workers.start()
        for service in self.slices:
            service.start()

    def close(self) -> None:
        """Stop the shared workers, then each service in reverse order, and release the database."""
        self.workers.stop(timeout=10)
        for service in reversed(self.slices):
            service.stop()
        self.base.metadata.close()

    # The objects that tests, commands and the gateway reach for, by the names they have always had.

    @property
    def settings(self) -> Settings:
        """Settings, of the shared foundation."""
        return self.base.settings

    @property
    def clock(self) -> Clock:
        """Clock, of the shared foundation."""
        return self.base.clock

    @property
    def metadata(self) -> MetadataStore:
        """Metadata, of the shared foundation."""
        return self.base.metadata

    @property
    def blobs(self) -> BlobStore:
        """Blobs, of the shared foundation."""
        return self.base.blobs

    @property
    def bus(self) -> EventBus:
        """Bus, of the shared foundation."""
        return self.base.bus

    @property
    def keys(self) -> KeyStore:
        """Keys, of the shared foundation."""
        return self.base.keys

    @property
    def users(self) -> UserStore:
        """Users, of the shared foundation."""
        return self.base.users

    @property
    def jobs(self) -> JobQueue:
        """Jobs, of the shared foundation."""
        return self.base.jobs

    @property
    def lake(self) -> LakeService:
        """Lake, of the lake slice."""
        return self.lake_wiring.lake

    @property
    def multipart(self) -> MultipartUploads:
        """Multipart, of the lake slice."""
        return self.lake_wiring.multipart

    @property
    def functions(self) -> FunctionsService:
        """Functions, of the functions slice."""
        return self.functions_wiring.functions

    @property
    def function_access(self) -> FunctionAccess:
        """Access, of the functions slice."""
        return self.functions_wiring.access

    @property
    def events(self) -> EventInvocations:
        """Events, of the functions slice."""
        return self.functions_wiring.events

    @property
    def routes(self) -> RoutesService:
        """Routes, of the functions slice."""
        return self.functions_wiring.routes

    @property
    def runtime(self) -> ProcessRuntime:
        """Runtime, of the functions slice."""
        return self.functions_wiring.runtime

    @property
    def sandboxes(self) -> Sandboxes:
        """Sandboxes, of the functions slice."""
        return self.functions_wiring.sandboxes

    @property
    def predict(self) -> PredictService:
        """Predict, of the predict slice."""
        return self.predict_wiring.predict

    @property
    def registry(self) -> Registry:
        """Registry, of the deploy slice."""
        return self.deploy_wiring.registry

    @property
    def hosting(self) -> Hosting:
        """Hosting, of the deploy slice."""
        return self.deploy_wiring.hosting

    @property
    def pipelines(self) -> PipelineRuns:
        """Runs, of the pipelines slice."""
        return self.pipelines_wiring.runs

    @property
    def vision(self) -> VisionService:
        """Vision, of the vision slice."""
        return self.vision_wiring.vision

    @property
    def speech(self) -> SpeechService:
        """Speech, of the speech slice."""
        return self.speech_wiring.speech

    @property
    def synthesis_tasks(self) -> SynthesisTasks:
        """Synthesis tasks, of the speech slice."""
        return self.speech_wiring.tasks

    @property
    def experiments(self) -> Experiments:
        """Experiments, of the deep-learning slice."""
        return self.dl_wiring.experiments

    @property
    def face_collections(self) -> FaceCollections:
        """Collections, of the vision slice."""
        return self.vision_wiring.collections


def build_platform(settings: Settings, *, clock: Clock | None = None, mode: Mode = Mode.SERVE) -> Platform:
    """Build every service from settings; the database is migrated to the newest schema. Nothing is started,
    deleted or bound: that waits for start(), which only a server calls."""
    base = build_foundation(settings, mode, clock or SystemClock())
    lake = wire_lake(base)
    functions = wire_functions(base, lake.lake)
    predict = wire_predict(base, lake.lake)
    dl = wire_dl(base, lake.lake)
    deploy = wire_deploy(base, lake.lake, predict.predict, functions.functions, dl.experiments)
    pipelines = wire_pipelines(base, lake, functions, predict, deploy)
    vision = wire_vision(base, lake.lake, dl.experiments)
    speech = wire_speech(base, lake.lake)
    bots = wire_bots(base, lake.lake, functions.functions, speech.speech)
    slices = [lake.slice, functions.slice, predict.slice, deploy.slice, pipelines.slice, vision.slice, speech.slice]
    slices += [bots.slice, dl.slice]
    handlers = {name: handler for service in slices for name, handler in service.jobs.items()}
    workers = WorkerPool(
        base.jobs,
        handlers,
        workers=settings.job_workers,
        lease_seconds=settings.job_lease_seconds,
        clock=base.clock,
    )
    return Platform(base, lake, functions, predict, deploy, pipelines, vision, speech, bots, dl, workers)


@contextlib.contextmanager
def open_platform(settings: Settings) -> Iterator[Platform]:
    """The platform of a data directory for a command beside a server that may be running (Mode.TOOL)."""
    platform = build_platform(settings, mode=Mode.TOOL)
    try:
        yield platform
    finally:
        platform.close()


def create_asgi_app(platform: Platform) -> ASGIApp:
    """The HTTP gateway over the platform's services: every slice's protocol adapters and HTTP handlers."""
    settings = platform.settings
    verifier = (
        Verifier(platform.keys.get, max_skew=dt.timedelta(seconds=settings.max_clock_skew_seconds))
        if settings.auth
        else None
    )
    channels = platform.sandboxes.channels
    return Gateway(
        [adapter for service in platform.slices for adapter in service.adapters()],
        verifier=verifier,
        clock=platform.clock,
        http_handlers=[handler for service in platform.slices for handler in service.http_handlers(verifier)],
        max_in_flight=settings.max_requests_in_flight,
        body_timeout=settings.http_stall_timeout_seconds,
        channel_principal=channels.principal if channels else None,
        s3_access=S3Access(
            LakeAuthorizer(platform.lake_wiring.access, function_access=platform.function_access.allows)
        ),
        cross_origin=CrossOrigin(platform.lake_wiring.cors),
    )
