"""The functions' wiring: registry, code, sandboxed workers, event invocations and their dead letters, triggers,
HTTP routes, each function's access to the lake, and the Lambda and Logs wire."""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
from collections.abc import Callable, Iterator

from altostratus.api.functions.lambda_api import LambdaApi
from altostratus.api.functions.logs_api import LogsApi
from altostratus.api.http_routes import RouteHandler
from altostratus.api.sigv4 import Verifier
from altostratus.app.foundation import Foundation
from altostratus.app.sandboxes import Sandboxes, build_sandboxes
from altostratus.app.slice import ServiceSlice
from altostratus.core.caller import Caller
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
from altostratus.functions.runtime.pool import DEFAULT_MAX_PROCESSES
from altostratus.functions.service import FunctionsService
from altostratus.functions.triggers import Triggers, destination_problem
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import JobContext, WorkerPool
from altostratus.lake import notifications
from altostratus.lake.errors import BucketAlreadyOwnedByYou
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService

InputBuckets = Callable[[str], list[str]]


@dataclasses.dataclass
class Functions:
    """The functions' objects, and their slice."""

    functions: FunctionsService
    access: FunctionAccess
    events: EventInvocations
    routes: RoutesService
    runtime: ProcessRuntime
    sandboxes: Sandboxes
    # Where a function's input buckets come from besides its triggers (pipelines add theirs).
    input_buckets: list[InputBuckets]
    slice: ServiceSlice


def wire_functions(base: Foundation, lake: LakeService) -> Functions:
    """Functions over the lake: code in its blob store, run in sandboxes, invoked by its notifications."""
    settings, clock = base.settings, base.clock
    sandboxes = build_sandboxes(settings, base.mode)
    runtime = ProcessRuntime(WorkerOptions(sandboxes.host, region=settings.region), max_processes=DEFAULT_MAX_PROCESSES)
    registry = FunctionRegistry(base.metadata)
    functions = build_functions(base, registry, lake, runtime, sandboxes)
    input_buckets: list[InputBuckets] = [lambda name: trigger_buckets(lake, name)]
    access = FunctionAccess(
        registry,
        lambda name: [bucket for source in input_buckets for bucket in source(name)],
        clock,
        lake_access=settings.functions_lake_access,
    )
    # Event invocations have a queue (with their own retry delays) and workers of their own.
    event_jobs = JobQueue(base.metadata, clock, retry_backoff_seconds=settings.functions_event_retry_seconds)
    events = EventInvocations(functions, event_jobs, DeadLetters(LakeLetterBox(lake)), clock)
    base.bus.subscribe(notifications.TOPIC, Triggers(functions, events).deliver)
    event_workers = WorkerPool(
        event_jobs,
        {INVOKE_ASYNC_JOB: events.run},
        workers=settings.functions_event_workers,
        lease_seconds=settings.job_lease_seconds,
        clock=clock,
    )
    routes = RoutesService(RouteStore(base.metadata, clock), functions.invoke, clock)

    def install_dependencies(context: JobContext) -> dict[str, object]:
        return functions.install_dependencies(context.payload)

    def http_handlers(verifier: Verifier | None) -> list[RouteHandler]:
        return [
            RouteHandler(routes, verifier=verifier, clock=clock, region=settings.region, function_access=access.allows)
        ]

    def stop() -> None:
        event_workers.stop(timeout=10)
        runtime.shutdown()
        sandboxes.close()
        functions.close()

    return Functions(
        functions,
        access,
        events,
        routes,
        runtime,
        sandboxes,
        input_buckets,
        ServiceSlice(
            "functions",
            jobs={DEPENDENCIES_JOB: install_dependencies},
            adapters=lambda: [LambdaApi(functions, events).adapter(), LogsApi(functions).adapter()],
            http_handlers=http_handlers,
            start=event_workers.start,
            stop=stop,
        ),
    )


def build_functions(
    base: Foundation, registry: FunctionRegistry, lake: LakeService, runtime: ProcessRuntime, sandboxes: Sandboxes
) -> FunctionsService:
    """The functions service: code in the lake's blob store, unpacked and installed under the data directory."""
    settings = base.settings
    root = settings.data_dir / "functions"

    def read_lake_object(bucket: str, key: str) -> Iterator[bytes]:
        return lake.read(lake.head(bucket, key))

    deployment = CodeDeployment(
        CodeStore(base.blobs, root / "code", share_gid=sandboxes.code_gid),
        DependencyInstaller(
            root / "deps", pip_args=shlex.split(settings.functions_pip_args), share_gid=sandboxes.code_gid
        ),
        base.jobs,
        read_lake_object,
    )
    return FunctionsService(
        registry,
        deployment,
        runtime,
        base.keys,
        base.clock,
        region=settings.region,
        endpoint_url=sandboxes.endpoint_url,
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
