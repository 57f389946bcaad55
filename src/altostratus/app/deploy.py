"""Deploy's wiring: the model registry with its promotion gate, and hosting (endpoints, variants, experiments,
canaries, outcomes), with SageMaker's and SageMaker Runtime's wire."""

from __future__ import annotations

import dataclasses

from altostratus.api.deploy import SageMakerApi, SageMakerRuntimeApi
from altostratus.api.gateway import ServiceAdapter
from altostratus.app.foundation import Foundation
from altostratus.app.slice import ServiceSlice
from altostratus.deploy.canary import CanaryController
from altostratus.deploy.endpoints import EndpointService, ModelCache
from altostratus.deploy.experiment_records import ExperimentStore
from altostratus.deploy.experiment_sources import DL_EXPERIMENT, ExperimentArtifacts
from altostratus.deploy.experiments import ExperimentRecorder, ExperimentReports
from altostratus.deploy.gates import FunctionCheck
from altostratus.deploy.heartbeat import Heartbeat
from altostratus.deploy.model_store import ModelStore
from altostratus.deploy.outcomes import LakeObjects, OutcomeFeed
from altostratus.deploy.promotion import Promotions
from altostratus.deploy.registry import Registry
from altostratus.deploy.serving import EndpointRuntime
from altostratus.deploy.sources import ArtifactSources
from altostratus.dl.experiments import Experiments
from altostratus.functions.service import FunctionsService
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import WorkerPool
from altostratus.lake.object_locks import ObjectLocks
from altostratus.lake.service import LakeService
from altostratus.predict import PredictService

OUTCOME_POLL_SECONDS = 2.0


@dataclasses.dataclass
class Hosting:
    """Endpoints and their experiments: the service, the runtime, statistics, canaries, outcomes, their threads."""

    endpoints: EndpointService
    runtime: EndpointRuntime
    store: ExperimentStore
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
class Deploy:
    """The registry and hosting, and their slice."""

    registry: Registry
    hosting: Hosting
    slice: ServiceSlice


def wire_deploy(
    base: Foundation,
    lake: LakeService,
    predict: PredictService,
    functions: FunctionsService,
    experiments: Experiments,
) -> Deploy:
    """The registry over predict's models, trained image models and the lake's model store; gates may run
    functions; hosting serves it."""
    model_store = ModelStore(lake, ObjectLocks(lake))
    readers = {DL_EXPERIMENT: ExperimentArtifacts(experiments, lake)}
    registry = Registry(
        base.metadata,
        model_store,
        ArtifactSources(predict, lake, base.blobs, readers),
        Promotions(base.metadata, model_store, predict, base.jobs, base.clock, custom_check=FunctionCheck(functions)),
        predict,
        base.clock,
        region=base.settings.region,
        in_use=lambda version_arn: hosting.endpoints.package_user(version_arn),
    )
    hosting = build_hosting(base, lake, registry)

    def adapters() -> list[ServiceAdapter]:
        # One `sagemaker` adapter: the model registry's operations and hosting's (endpoints, variants).
        return [SageMakerApi(registry, hosting.endpoints).adapter(), SageMakerRuntimeApi(hosting.runtime).adapter()]

    return Deploy(
        registry,
        hosting,
        ServiceSlice("deploy", jobs=registry.handlers(), adapters=adapters, start=hosting.start, stop=hosting.close),
    )


def build_hosting(base: Foundation, lake: LakeService, registry: Registry) -> Hosting:
    """Endpoints serving registry versions, with experiment statistics, outcomes from the lake and canaries.

    Settling endpoints (loading their models) has a worker of its own, so a long training job never keeps
    an endpoint Creating.
    """
    clock = base.clock
    jobs = JobQueue(base.metadata, clock)
    endpoints = EndpointService(base.metadata, ModelCache(registry.runner), jobs, clock, region=base.settings.region)
    store = ExperimentStore(base.metadata)
    recorder = ExperimentRecorder(store, clock)
    reports = ExperimentReports(store)
    canaries = CanaryController(base.metadata, endpoints, store, reports, clock)
    outcomes = OutcomeFeed(store, LakeObjects(lake), clock)
    heartbeat = Heartbeat([(1.0, recorder.flush), (1.0, canaries.tick), (OUTCOME_POLL_SECONDS, outcomes.poll)])
    return Hosting(
        endpoints=endpoints,
        runtime=EndpointRuntime(endpoints, recorder, clock),
        store=store,
        recorder=recorder,
        reports=reports,
        canaries=canaries,
        outcomes=outcomes,
        workers=WorkerPool(
            jobs, endpoints.handlers(), workers=1, lease_seconds=base.settings.job_lease_seconds, clock=clock
        ),
        heartbeat=heartbeat,
    )
