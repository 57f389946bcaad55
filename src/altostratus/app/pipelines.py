"""Pipelines' wiring: runs from lake data to an A/B-tested endpoint, with step workers of their own."""

from __future__ import annotations

import dataclasses

from altostratus.app.deploy import Deploy
from altostratus.app.foundation import Foundation
from altostratus.app.functions import Functions
from altostratus.app.lake import Lake
from altostratus.app.predict import Predict
from altostratus.app.slice import ServiceSlice
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import WorkerPool
from altostratus.lake import notifications
from altostratus.pipelines import PipelineRunner, PipelineRuns, Services

PIPELINE_WORKERS = 2  # one run waiting on an experiment leaves another free to run


@dataclasses.dataclass
class Pipelines:
    """The pipeline runs, and their slice."""

    runs: PipelineRuns
    slice: ServiceSlice


def wire_pipelines(base: Foundation, lake: Lake, functions: Functions, predict: Predict, deploy: Deploy) -> Pipelines:
    """Runs whose steps call every other service; a new object in the lake may start one."""
    # Pipeline steps wait on training and gate jobs: they have workers of their own so they never starve them.
    queue = JobQueue(base.metadata, base.clock)
    runs = PipelineRuns(base.metadata, queue, base.clock)
    base.bus.subscribe(notifications.OBJECT_TOPIC, runs.deliver)
    # A function that preprocesses a pipeline's source bucket reads it as it reads its triggers' buckets.
    functions.input_buckets.append(runs.preprocessed_buckets)
    services = Services(
        lake.lake,
        functions.functions,
        predict.predict,
        deploy.registry,
        deploy.hosting.endpoints,
        deploy.hosting.reports,
    )
    workers = WorkerPool(
        queue,
        PipelineRunner(runs, services).handlers(),
        workers=PIPELINE_WORKERS,
        lease_seconds=base.settings.job_lease_seconds,
        clock=base.clock,
    )

    def stop() -> None:
        workers.stop(timeout=10)

    return Pipelines(runs, ServiceSlice("pipelines", start=workers.start, stop=stop))
