"""Endpoints over SQLite with real predict models trained in memory on generated data (no registry needed).

Models are handed out by "package ARN" from a dict, as the registry's loader would hand them out:
`good` and `bad` (trained on shuffled labels) are binary models over the columns x, color, note;
`narrow` is trained without `note`, so a record that has `note` is an error for it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from altostratus.core.clock import SystemClock
from altostratus.deploy.canary import CanaryController
from altostratus.deploy.endpoints import EndpointService, ModelCache
from altostratus.deploy.errors import DoesNotExist
from altostratus.deploy.experiment_records import ExperimentStore
from altostratus.deploy.experiments import ExperimentRecorder, ExperimentReports
from altostratus.deploy.hosting import Endpoint, VariantSpec
from altostratus.deploy.runners import ModelRunner, PredictRunner
from altostratus.deploy.serving import EndpointRuntime
from altostratus.jobs import JobQueue, WorkerPool
from altostratus.predict.models import ModelType, TrainingParameters
from altostratus.predict.predictor import Predictor
from altostratus.predict.training import train
from altostratus.storage.metadata import MetadataStore
from tests.deploy.conftest import shuffled_labels_csv
from tests.predict.conftest import synthetic_csv, table_of

ARN = "arn:aws:sagemaker:us-east-1:000000000000:model-package/churn/{}"


@functools.cache
def trained(name: str) -> Predictor:
    """A small predict model (see the module's docstring), trained once per test session."""
    text = synthetic_csv(400, seed=5)
    if name == "bad":
        text = shuffled_labels_csv(text)
    if name == "narrow":
        text = "\n".join(line.rsplit(",", 2)[0] + "," + line.rsplit(",", 1)[1] for line in text.splitlines())
    if name == "regression":
        text = synthetic_csv(400, seed=5, kind="regression")
    kind = ModelType.REGRESSION if name == "regression" else ModelType.BINARY
    return Predictor(train(table_of(text, target="y"), kind, TrainingParameters.from_mapping(None)))


def load(package_arn: str) -> ModelRunner:
    """The runner of a model named by the last part of its ARN."""
    name = package_arn.rsplit("/", 1)[-1]
    if name not in {"good", "bad", "narrow", "regression"}:
        raise DoesNotExist(f"ModelPackage {package_arn} does not exist.")
    return PredictRunner(trained(name))


def records(count: int, seed: int = 0) -> list[dict[str, str]]:
    """Records like the training data's, without the target."""
    rng = np.random.default_rng(seed)
    colors = rng.choice(["red", "green", "blue"], size=count)
    return [
        {"x": f"{rng.normal():.3f}", "color": str(colors[i]), "note": f"{'good' if i % 2 else 'bad'} w1 w2"}
        for i in range(count)
    ]


class HostingHarness:
    """Endpoint service, runtime, statistics and canaries over one SQLite database, settling jobs on a worker."""

    def __init__(self, root: Path, database_url: str | None = None) -> None:
        clock = SystemClock()
        self.metadata = MetadataStore(database_url or f"sqlite:///{root / 'metadata.db'}")
        self.metadata.migrate()
        self.queue = JobQueue(self.metadata, clock, retry_backoff_seconds=0)
        self.service = EndpointService(
            self.metadata, ModelCache(load), self.queue, clock, region="us-east-1", settle_wait_seconds=10
        )
        self.pool = WorkerPool(self.queue, self.service.handlers(), workers=1, poll_interval=0.05, clock=clock)
        self.pool.start()
        self.store = ExperimentStore(self.metadata)
        self.recorder = ExperimentRecorder(self.store, clock)
        self.runtime = EndpointRuntime(self.service, self.recorder, clock)
        self.reports = ExperimentReports(self.store)
        self.canary = CanaryController(self.metadata, self.service, self.store, self.reports, clock)

    def endpoint(
        self, name: str, variants: dict[str, tuple[str, float]], shadows: dict[str, str] | None = None
    ) -> Endpoint:
        """An InService endpoint with production variants {name: (model, weight)} and shadow ones {name: model}."""
        specs = []
        for variant, (model, weight) in variants.items():
            self.model(model)
            specs.append(VariantSpec(variant, model, weight))
        for variant, model in (shadows or {}).items():
            self.model(model)
            specs.append(VariantSpec(variant, model, shadow=True))
        self.service.create_config(f"{name}-config", specs)
        return self.service.create_endpoint(name, f"{name}-config", actor="tester")

    def model(self, name: str) -> None:
        """A hosted model `name` running the model of that name (made once)."""
        try:
            self.service.get_model(name)
        except DoesNotExist:
            self.service.create_model(
                name, ARN.format(name), containers=[{"ModelPackageName": ARN.format(name)}], primary=True
            )

    def close(self) -> None:
        """Stop the runtime and the worker, release the database; fail if the worker was still busy."""
        self.runtime.close()
        stopped = self.pool.stop(timeout=30)
        self.metadata.close()
        assert stopped, "the job worker was still busy 30 s after stop(): its connection outlives the closed store"
