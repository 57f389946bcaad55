"""The composition root: the one place that builds the platform's objects and wires them together."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import shlex
from collections.abc import Iterator
from pathlib import Path

from starlette.types import ASGIApp

from altostratus.api.gateway import Gateway, ServiceAdapter
from altostratus.api.http_routes import RouteHandler
from altostratus.api.lambda_api import LambdaApi
from altostratus.api.logs_api import LogsApi
from altostratus.api.ml_api import MachineLearningApi
from altostratus.api.ml_logs import LogFiles
from altostratus.api.model_adapters import JsonAdapter
from altostratus.api.s3.adapter import S3Adapter
from altostratus.api.s3.services import S3Services
from altostratus.api.sagemaker_endpoints import endpoint_handlers
from altostratus.api.sagemaker_registry import registry_handlers
from altostratus.api.sagemaker_runtime import sagemaker_runtime_adapter
from altostratus.api.sigv4 import Verifier
from altostratus.auth.keys import KeyStore
from altostratus.core.caller import Caller
from altostratus.core.clock import Clock, SystemClock
from altostratus.core.events import EventBus
from altostratus.core.settings import SANDBOX_UIDS, Settings
from altostratus.deploy.canary import CanaryController
from altostratus.deploy.endpoints import EndpointService, ModelCache
from altostratus.deploy.experiment_records import ExperimentStore
from altostratus.deploy.experiments import ExperimentRecorder, ExperimentReports
from altostratus.deploy.gates import FunctionCheck
from altostratus.deploy.heartbeat import Heartbeat
from altostratus.deploy.model_store import ModelStore
from altostratus.deploy.outcomes import LakeObjects, OutcomeFeed
from altostratus.deploy.promotion import Promotions
from altostratus.deploy.registry import Registry
from altostratus.deploy.runners import predict_loader
from altostratus.deploy.serving import EndpointRuntime
from altostratus.deploy.sources import ArtifactSources
from altostratus.functions.access import FunctionAccess
from altostratus.functions.dead_letters import DeadLetters
from altostratus.functions.dependencies import DependencyInstaller
from altostratus.functions.deployment import DEPENDENCIES_JOB, CodeDeployment
from altostratus.functions.events import INVOKE_ASYNC_JOB, EventInvocations
from altostratus.functions.names import parse_ref
from altostratus.functions.packaging import CodeStore
from altostratus.functions.registry import FunctionRegistry
from altostratus.functions.routes import RoutesService, RouteStore
from altostratus.functions.runtime import ProcessRuntime, WorkerOptions
from altostratus.functions.runtime.host import WorkerHost
from altostratus.functions.runtime.pool import DEFAULT_MAX_PROCESSES
from altostratus.functions.runtime.process import WORKER_PROGRAM, unsandboxed_host
from altostratus.functions.sandbox import ApiChannels, SandboxSupport, UnavailableHost, probe, sandbox_host
from altostratus.functions.service import FunctionsService
from altostratus.functions.triggers import Triggers, destination_problem
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import JobContext, WorkerPool
from altostratus.lake import notifications
from altostratus.lake.errors import BucketAlreadyOwnedByYou
from altostratus.lake.multipart import MultipartUploads
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.pipelines import PipelineRunner, PipelineRuns, Services
from altostratus.predict import PredictService, ReadOptions
from altostratus.predict.lake_locations import LakeLocations
from altostratus.storage.blobs import BlobStore
from altostratus.storage.factory import blob_store_from_settings
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.private_files import make_private_dirs

log = logging.getLogger(__name__)
LAKE_GC_JOB = "lake.collect-garbage"
OUTCOME_POLL_SECONDS = 2.0
PIPELINE_WORKERS = 2  # one run waiting on an experiment leaves another free to run


@dataclasses.dataclass
class Hosting:
    """Endpoints and their experiments: the service, the runtime, statistics, canaries, outcomes, their threads."""

    endpoints: EndpointService
    runtime: EndpointRuntime
    recorder: ExperimentRecorder
    reports: ExperimentReports
    canaries: CanaryController
    outcomes: OutcomeFeed
    workers: WorkerPool
    heartbeat: Heartbeat

    def start(self) -> None:
        """Settle endpoints a stop left half-way, start the settling worker and the statistics heartbeat."""
        self.workers.start()
        self.endpoints.resume()
        self.heartbeat.start()

    def close(self) -> None:
        """Run the queued shadow copies, flush the last statistics, stop the worker."""
        self.runtime.close()
        self.heartbeat.stop()
        self.workers.stop(timeout=10)


@dataclasses.dataclass
class Sandboxes:
    """How functions run: what the machine allows, the API channels of their sandboxes, the worker host."""

    support: SandboxSupport | None  # None: sandboxes were turned off (--insecure-functions-unsandboxed)
    channels: ApiChannels | None
    host: WorkerHost
    # The API endpoint as functions reach it (inside a sandbox, its forwarder on the sandbox's own loopback).
    endpoint_url: str
    # The group that may read function code and requirements (sandboxes with uids of their own), if any.
    code_gid: int | None = None

    def close(self) -> None:
        """Close the channel sockets."""
        if self.channels is not None:
            self.channels.close()


def build_sandboxes(settings: Settings) -> Sandboxes:
    """Sandboxed workers when the machine allows them, a host that says why not when it does not, or (asked for
    explicitly) plain unsandboxed workers."""
    if not settings.functions_sandbox:
        return Sandboxes(None, None, unsandboxed_host(), settings.endpoint_url)
    support = probe()
    if not support.ok:
        return Sandboxes(support, None, UnavailableHost(support.problems), settings.endpoint_url)
    # Twice the workers: an evicted worker's sandbox may still hold its channel while its successor starts.
    channels = ApiChannels(2 * DEFAULT_MAX_PROCESSES, settings.port)
    host = sandbox_host(
        support,
        Path(WORKER_PROGRAM),
        uid_base=settings.functions_sandbox_uid_base,
        uid_count=SANDBOX_UIDS,
        channels=channels,
        outbound_for_all=settings.functions_outbound_network,
    )
    return Sandboxes(support, channels, host, f"http://127.0.0.1:{settings.port}", host.code_gid)


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
    runtime: ProcessRuntime
    sandboxes: Sandboxes
    functions: FunctionsService
    function_access: FunctionAccess
    events: EventInvocations
    event_workers: WorkerPool
    routes: RoutesService
    predict: PredictService
    registry: Registry
    hosting: Hosting
    pipelines: PipelineRuns
    pipeline_workers: WorkerPool

    def start(self) -> None:
        """Clear a crash's temporary blobs, start the background workers and queue the lake's garbage collection.

        Only a server calls it, holding the data directory's serving lock (storage/serving_lock.py), so no other
        process has writes in flight there; building the platform, as CLI commands do too, deletes nothing.
        """
        self.blobs.remove_partials()
        self.workers.start()
        self.event_workers.start()
        self.hosting.start()
        self.pipeline_workers.start()
        self.jobs.submit(LAKE_GC_JOB, {}, max_attempts=1)

    def close(self) -> None:
        """Stop the workers and the functions' processes, and release the database."""
        self.pipeline_workers.stop(timeout=10)
        self.workers.stop(timeout=10)
        self.event_workers.stop(timeout=10)
        self.hosting.close()
        self.runtime.shutdown()
        self.sandboxes.close()
        self.functions.close()
        self.metadata.close()


def build_platform(settings: Settings, *, clock: Clock | None = None) -> Platform:
    """Build every service from settings; the database is migrated to the newest schema."""
    clock = clock or SystemClock()
    make_private_dirs(settings.data_dir)
    metadata = MetadataStore(settings.resolved_database_url)
    metadata.migrate()
    blobs = blob_store_from_settings(settings)
    bus = EventBus()
    lake = LakeService(
        metadata,
        blobs,
        bus,
        clock,
        settings.region,
        check_destination=functools.partial(destination_problem, region=settings.region),
    )
    jobs = JobQueue(metadata, clock)
    keys = KeyStore(metadata, clock)
    sandboxes = build_sandboxes(settings)
    runtime = ProcessRuntime(WorkerOptions(sandboxes.host, region=settings.region), max_processes=DEFAULT_MAX_PROCESSES)
    function_registry = FunctionRegistry(metadata)
    functions = build_functions(settings, function_registry, blobs, lake, keys, jobs, runtime, clock, sandboxes)
    function_access = FunctionAccess(
        function_registry,
        # Its input buckets: those whose notifications invoke it, and those of pipelines it preprocesses for.
        lambda name: [*trigger_buckets(lake, name), *pipelines.preprocessed_buckets(name)],
        clock,
        lake_access=settings.functions_lake_access,
    )

    def collect_lake_garbage(context: JobContext) -> dict[str, int]:
        return {"removed": lake.collect_garbage()}

    def install_function_dependencies(context: JobContext) -> dict[str, object]:
        return functions.install_dependencies(context.payload)

    predict = PredictService(
        metadata,
        blobs,
        jobs,
        clock,
        LakeLocations(lake),
        read_options=ReadOptions(max_bytes=settings.predict_max_datasource_bytes),
    )
    model_store = ModelStore(lake)
    registry = Registry(
        metadata,
        model_store,
        ArtifactSources(predict, lake, blobs),
        Promotions(metadata, model_store, predict, jobs, clock, custom_check=FunctionCheck(functions)),
        predict,
        clock,
        region=settings.region,
        in_use=lambda version_arn: hosting.endpoints.package_user(version_arn),
    )
    hosting = build_hosting(settings, metadata, lake, registry, clock)
    workers = WorkerPool(
        jobs,
        {
            LAKE_GC_JOB: collect_lake_garbage,
            DEPENDENCIES_JOB: install_function_dependencies,
            **predict.handlers(),
            **registry.handlers(),
        },
        workers=settings.job_workers,
        lease_seconds=settings.job_lease_seconds,
        clock=clock,
    )
    # Event invocations have a queue (with their own retry delays) and workers of their own.
    event_jobs = JobQueue(metadata, clock, retry_backoff_seconds=settings.functions_event_retry_seconds)
    events = EventInvocations(functions, event_jobs, DeadLetters(LakeLetterBox(lake)), clock)
    bus.subscribe(notifications.TOPIC, Triggers(functions, events).deliver)
    event_workers = WorkerPool(
        event_jobs,
        {INVOKE_ASYNC_JOB: events.run},
        workers=settings.functions_event_workers,
        lease_seconds=settings.job_lease_seconds,
        clock=clock,
    )
    # Pipeline steps wait on training and gate jobs: they have workers of their own so they never starve them.
    pipeline_jobs = JobQueue(metadata, clock)
    pipelines = PipelineRuns(metadata, pipeline_jobs, clock)
    bus.subscribe(notifications.OBJECT_TOPIC, pipelines.deliver)
    runner = PipelineRunner(pipelines, Services(lake, functions, predict, registry, hosting.endpoints, hosting.reports))
    pipeline_workers = WorkerPool(
        pipeline_jobs,
        runner.handlers(),
        workers=PIPELINE_WORKERS,
        lease_seconds=settings.job_lease_seconds,
        clock=clock,
    )
    return Platform(
        settings=settings,
        clock=clock,
        metadata=metadata,
        blobs=blobs,
        bus=bus,
        keys=keys,
        lake=lake,
        multipart=MultipartUploads(lake),
        jobs=jobs,
        workers=workers,
        runtime=runtime,
        sandboxes=sandboxes,
        functions=functions,
        function_access=function_access,
        events=events,
        event_workers=event_workers,
        routes=RoutesService(RouteStore(metadata, clock), functions.invoke, clock),
        predict=predict,
        registry=registry,
        hosting=hosting,
        pipelines=pipelines,
        pipeline_workers=pipeline_workers,
    )


def build_hosting(
    settings: Settings, metadata: MetadataStore, lake: LakeService, registry: Registry, clock: Clock
) -> Hosting:
    """Endpoints serving registry versions, with experiment statistics, outcomes from the lake and canaries.

    Settling endpoints (loading their models) has a worker of its own, so a long training job never keeps
    an endpoint Creating.
    """
    jobs = JobQueue(metadata, clock)
    endpoints = EndpointService(metadata, ModelCache(predict_loader(registry)), jobs, clock, region=settings.region)
    store = ExperimentStore(metadata)
    recorder = ExperimentRecorder(store, clock)
    reports = ExperimentReports(store)
    canaries = CanaryController(metadata, endpoints, store, reports, clock)
    outcomes = OutcomeFeed(store, LakeObjects(lake), clock)
    heartbeat = Heartbeat([(1.0, recorder.flush), (1.0, canaries.tick), (OUTCOME_POLL_SECONDS, outcomes.poll)])
    return Hosting(
        endpoints=endpoints,
        runtime=EndpointRuntime(endpoints, recorder, clock),
        recorder=recorder,
        reports=reports,
        canaries=canaries,
        outcomes=outcomes,
        workers=WorkerPool(
            jobs, endpoints.handlers(), workers=1, lease_seconds=settings.job_lease_seconds, clock=clock
        ),
        heartbeat=heartbeat,
    )


class LakeLetterBox:
    """The functions' dead letters, written into the lake; a missing bucket is created on first use."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def put(self, bucket: str, key: str, body: bytes, *, trace_id: str) -> None:
        """Write one dead letter as a JSON object."""
        with contextlib.suppress(BucketAlreadyOwnedByYou):
            self._lake.create_bucket(bucket)
        writer = self._lake.object_writer(bucket, key, ObjectMeta("application/json"))
        with writer:
            writer.write(body)
            # The trace id keeps a function triggered by its own dead letters inside the chain limit.
            writer.commit(Caller("alto-dead-letters", trace_id=trace_id))


def trigger_buckets(lake: LakeService, function_name: str) -> list[str]:
    """The buckets whose notification rules invoke the function (any version or alias of it)."""

    def invokes(arn: str) -> bool:
        return destination_problem(arn, region=lake.region) is None and parse_ref(arn).name == function_name

    return [
        bucket.name
        for bucket in lake.list_buckets()
        if any(invokes(rule.function_arn) for rule in lake.notification_rules(bucket.name))
    ]


def build_functions(
    settings: Settings,
    registry: FunctionRegistry,
    blobs: BlobStore,
    lake: LakeService,
    keys: KeyStore,
    jobs: JobQueue,
    runtime: ProcessRuntime,
    clock: Clock,
    sandboxes: Sandboxes,
) -> FunctionsService:
    """The functions service: code in the lake's blob store, unpacked and installed under the data directory."""
    root = settings.data_dir / "functions"

    def read_lake_object(bucket: str, key: str) -> Iterator[bytes]:
        return lake.read(lake.head(bucket, key))

    deployment = CodeDeployment(
        CodeStore(blobs, root / "code", share_gid=sandboxes.code_gid),
        DependencyInstaller(
            root / "deps", pip_args=shlex.split(settings.functions_pip_args), share_gid=sandboxes.code_gid
        ),
        jobs,
        read_lake_object,
    )
    return FunctionsService(
        registry,
        deployment,
        runtime,
        keys,
        clock,
        region=settings.region,
        endpoint_url=sandboxes.endpoint_url,
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
    # S3 goes last: its routes match any path.
    adapters: list[ServiceAdapter] = [
        LambdaApi(platform.functions, platform.events).adapter(),
        LogsApi(platform.functions).adapter(),
        MachineLearningApi(
            platform.predict,
            LakeLocations(platform.lake),
            LogFiles(platform.lake, settings.endpoint_url, settings.region),
            settings.endpoint_url,
        ).adapter(),
        # One `sagemaker` json adapter: the model registry's operations and hosting's (endpoints, variants).
        JsonAdapter(
            "sagemaker",
            {**registry_handlers(platform.registry), **endpoint_handlers(platform.hosting.endpoints)},
        ),
        # Signed as "sagemaker" too: the gateway tries the json adapter (X-Amz-Target) first, then this one's paths.
        sagemaker_runtime_adapter(platform.hosting.runtime),
        s3,
    ]
    return Gateway(
        adapters,
        verifier=verifier,
        clock=platform.clock,
        routes=RouteHandler(
            platform.routes,
            verifier=verifier,
            clock=platform.clock,
            region=settings.region,
            function_access=platform.function_access.allows,
        ),
        max_in_flight=settings.max_requests_in_flight,
        body_timeout=settings.http_stall_timeout_seconds,
        channel_principal=platform.sandboxes.channels.principal if platform.sandboxes.channels else None,
        function_access=platform.function_access.allows,
    )
