"""The deep-learning layer's wiring: experiments on the shared job queue, their data read from the lake."""

from __future__ import annotations

import contextlib
import dataclasses

from altostratus.app.foundation import Foundation
from altostratus.app.slice import ServiceSlice
from altostratus.dl.experiment_store import ExperimentStore
from altostratus.dl.experiments import TRAIN_JOB, Experiments
from altostratus.dl.opening import DataOpener
from altostratus.lake.errors import BucketAlreadyOwnedByYou, NoSuchBucket
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService


@dataclasses.dataclass
class DeepLearning:
    """The experiments service and its slice."""

    experiments: Experiments
    slice: ServiceSlice


class LakeOutput:
    """An experiment's summary and report written into the lake, where its spec's output location says."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def write(self, url: str, data: bytes, content_type: str) -> str:
        """Write the object whole (creating its bucket when it is missing); its s3:// URL."""
        bucket, _, key = url.removeprefix("s3://").partition("/")
        with contextlib.suppress(BucketAlreadyOwnedByYou):
            try:
                self._lake.get_bucket(bucket)
            except NoSuchBucket:
                self._lake.create_bucket(bucket)
        writer = self._lake.object_writer(bucket, key, ObjectMeta(content_type))
        with writer:
            writer.write(data)
            writer.commit(event_name="ObjectCreated:Put")
        return f"s3://{bucket}/{key}"


def wire_dl(base: Foundation, lake: LakeService) -> DeepLearning:
    """Experiments train in the shared workers; torch loads on the first deep fit, never at start."""
    store = ExperimentStore(base.metadata, base.clock)
    experiments = Experiments(store, base.jobs, base.blobs, DataOpener(lake), LakeOutput(lake), base.clock)
    return DeepLearning(experiments, ServiceSlice("dl", jobs={TRAIN_JOB: experiments.run}))
