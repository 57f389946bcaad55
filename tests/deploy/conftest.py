"""Fixtures for the registry tests: the registry over SQLite and a local lake, with predict models trained once.

Three predict models are trained on small generated binary data in the lake, once per module:
`good` (AUC about 0.95 on the held-out rows), `medium` (trained with its strongest feature replaced by
noise) and `bad` (trained on shuffled labels, about 0.5). The held-out datasource `holdout` is what the
gate policies evaluate on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from altostratus.core.caller import Caller
from altostratus.core.clock import SystemClock
from altostratus.core.events import EventBus
from altostratus.deploy.model_store import ModelStore
from altostratus.deploy.promotion import Promotions
from altostratus.deploy.registry import Registry
from altostratus.deploy.sources import ArtifactSources
from altostratus.deploy.versions import GateStatus, ModelVersion
from altostratus.jobs import JobQueue, WorkerPool
from altostratus.lake import bodies
from altostratus.lake.object_locks import ObjectLocks
from altostratus.lake.objects import ObjectInfo, ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.predict import PredictService, Status
from altostratus.predict.lake_locations import LakeLocations
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.metadata import MetadataStore
from tests.predict.conftest import synthetic_csv

DATA_BUCKET = "training"
ROWS = 600
TRAIN = '{"splitting": {"percentBegin": 0, "percentEnd": 50, "strategy": "sequential"}}'
HOLDOUT = '{"splitting": {"percentBegin": 50, "percentEnd": 100, "strategy": "sequential"}}'


class FakeCheck:
    """A gate's custom check standing in for a function: records each event, answers what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Mapping[str, Any]]] = []
        self.answer: Any = {"pass": True, "reasons": []}

    def __call__(self, name: str, event: Mapping[str, Any]) -> Any:
        """Record the call and answer."""
        self.events.append((name, event))
        return self.answer


class RegistryHarness:
    """The registry, predict, the lake and a worker pool over one SQLite database."""

    def __init__(self, root: Path, *, database_url: str | None = None, workers: int = 4) -> None:
        self.root = root
        self.metadata = MetadataStore(database_url or f"sqlite:///{root / 'metadata.db'}")
        self.metadata.migrate()
        clock = SystemClock()
        self.blobs = LocalBlobStore(root / "blobs", fsync=False)
        self.lake = LakeService(self.metadata, self.blobs, EventBus(), clock, "us-east-1")
        self.queue = JobQueue(self.metadata, clock, retry_backoff_seconds=0)
        self.predict = PredictService(self.metadata, self.blobs, self.queue, clock, LakeLocations(self.lake))
        self.model_store = ModelStore(self.lake, ObjectLocks(self.lake))
        self.check = FakeCheck()
        promotions = Promotions(
            self.metadata, self.model_store, self.predict, self.queue, clock, custom_check=self.check
        )
        sources = ArtifactSources(self.predict, self.lake, self.blobs)
        self.registry = Registry(
            self.metadata, self.model_store, sources, promotions, self.predict, clock, region="us-east-1"
        )
        handlers = {**self.predict.handlers(), **self.registry.handlers()}
        self.pool = WorkerPool(self.queue, handlers, workers=workers, poll_interval=0.05, clock=clock)

    def put(self, bucket: str, key: str, body: bytes) -> str:
        """Write an object into the lake (the bucket made if needed); its s3:// URL."""
        if bucket not in {b.name for b in self.lake.list_buckets()}:
            self.lake.create_bucket(bucket)
        writer = self.lake.object_writer(bucket, key, ObjectMeta("text/csv"))
        with writer:
            writer.write(body)
            writer.commit(Caller("tester"))
        return f"s3://{bucket}/{key}"

    def stored(self, info: ObjectInfo) -> bytes:
        """The object's bytes as stored: its blob file, or a small object's body row (lake/bodies.py)."""
        if info.blob_key:
            return (self.root / "blobs" / info.blob_key).read_bytes()
        with self.lake.store.read() as db:
            return bodies.get_body(db, info)

    def overwrite_stored(self, info: ObjectInfo, data: bytes) -> None:
        """Change the object's stored bytes under the lake, as a disk fault or a hand would."""
        if info.blob_key:
            (self.root / "blobs" / info.blob_key).write_bytes(data)
            return
        with self.lake.store.begin() as db:
            bodies.put_body(db, info, data)

    def train(self, model_id: str, datasource_id: str) -> None:
        """Queue a BINARY model on a datasource."""
        self.predict.create_model(model_id, datasource_id, "BINARY", parameters={"sgd.maxPasses": "10"})

    def wait_predict(self, model_ids: list[str], evaluation_ids: list[str], timeout: float = 60) -> None:
        """Wait until the models and evaluations are COMPLETED."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = [self.predict.get_model(m).status for m in model_ids]
            statuses += [self.predict.get_evaluation(e).status for e in evaluation_ids]
            if all(status is Status.COMPLETED for status in statuses):
                return
            assert Status.FAILED not in statuses, statuses
            time.sleep(0.05)
        models = [self.predict.get_model(m) for m in model_ids]
        jobs = [(m.model_id, m.status, m.message, m.job_id, m.job_id and self.queue.get(m.job_id)) for m in models]
        raise AssertionError(f"predict work did not finish: {statuses}; jobs {jobs}")

    def promote(self, group: str, version: int, actor: str = "alice", reason: str = "") -> ModelVersion:
        """Request the promotion and wait for the gate's verdict."""
        done = self.registry.promote(group, version, actor=actor, reason=reason, timeout=60)
        assert done.gate_status is not GateStatus.IN_PROGRESS, done
        return done

    def close(self) -> None:
        """Stop the workers and release the database; fail if a worker was still busy (its connection would leak)."""
        stopped = self.pool.stop(timeout=30)
        self.metadata.close()
        assert stopped, "a job worker was still busy 30 s after stop(): its connection outlives the closed store"


def noisy_feature_csv(text: str, seed: int = 1) -> str:
    """The same CSV with its numeric column `x` replaced by noise."""
    rng = np.random.default_rng(seed)
    lines = text.splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split(",")
        fields[0] = f"{rng.normal():.4f}"
        out.append(",".join(fields))
    return "\n".join(out) + "\n"


def shuffled_labels_csv(text: str, seed: int = 2) -> str:
    """The same CSV with its labels shuffled."""
    rng = np.random.default_rng(seed)
    lines = text.splitlines()
    rows = [line.rsplit(",", 1) for line in lines[1:]]
    labels = [label for _, label in rows]
    rng.shuffle(labels)
    return "\n".join([lines[0], *(f"{row},{label}" for (row, _), label in zip(rows, labels, strict=True))]) + "\n"


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryHarness]:
    """A registry with the predict models `good`, `medium` and `bad` trained and evaluated on `holdout`."""
    made = RegistryHarness(tmp_path_factory.mktemp("registry"))
    made.pool.start()
    text = synthetic_csv(ROWS, seed=3)
    good = made.put(DATA_BUCKET, "clean/data.csv", text.encode())
    noisy = made.put(DATA_BUCKET, "noisy/data.csv", noisy_feature_csv(text).encode())
    shuffled = made.put(DATA_BUCKET, "shuffled/data.csv", shuffled_labels_csv(text).encode())
    predict = made.predict
    predict.create_datasource("train-good", good, rearrangement=TRAIN, target="y")
    predict.create_datasource("holdout", good, rearrangement=HOLDOUT, target="y")
    predict.create_datasource("train-medium", noisy, rearrangement=TRAIN, target="y")
    predict.create_datasource("train-bad", shuffled, rearrangement=TRAIN, target="y")
    for name in ("good", "medium", "bad"):
        made.train(name, f"train-{name}")
        predict.create_evaluation(f"eval-{name}", name, "holdout")
    made.wait_predict(["good", "medium", "bad"], ["eval-good", "eval-medium", "eval-bad"])
    yield made
    made.close()
