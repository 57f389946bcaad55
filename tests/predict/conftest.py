"""Fixtures for the predict tests: small generated data, the real data sets in ../shared/data, a service."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from altostratus.core.clock import SystemClock
from altostratus.demo.data import COLUMNS
from altostratus.jobs import JobQueue, WorkerPool
from altostratus.predict import LocalFiles, PredictService, ReadOptions
from altostratus.predict.datasources import TextSource
from altostratus.predict.inference import infer_schema
from altostratus.predict.table import Table, load_table
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.metadata import MetadataStore

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "tabular"
ADULT_COLUMNS = ",".join(COLUMNS)


def table_of(text: str, target: str | None = None, **hints: Any) -> Table:
    """A table from CSV text with an inferred schema."""
    sources = [TextSource("data.csv", text)]
    schema = infer_schema(sources, ReadOptions(), target=target, **hints)
    return load_table(sources, schema, ReadOptions()).table


def synthetic_csv(rows: int = 400, seed: int = 0, kind: str = "binary") -> str:
    """CSV with a numeric, a categorical and a text attribute that predict the target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    color = rng.choice(["red", "green", "blue"], size=rows)
    good = rng.random(rows) < 0.5
    vocabulary = [f"w{i}" for i in range(30)]
    words = [" ".join(["good" if g else "bad", *rng.choice(vocabulary, size=4)]) for g in good]
    signal = x + (color == "red") * 1.5 + good - 0.5
    lines = ["x,color,note,y"]
    for i in range(rows):
        if kind == "binary":
            y = str(int(signal[i] + rng.normal(scale=0.3) > 0))
        elif kind == "regression":
            y = f"{3 * signal[i] + rng.normal(scale=0.1):.4f}"
        else:
            y = ["low", "mid", "high"][int(np.digitize(signal[i], [-0.3, 0.9]))]
        lines.append(f"{x[i]:.4f},{color[i]},{words[i]},{y}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def adult_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Adult with a header and a 0/1 income target (train.csv, test.csv), as a preprocessing step would write it."""
    source = SHARED_DATA / "adult"
    if not source.is_dir():
        pytest.skip(f"real data absent: {source} (see shared/data/README.md)")
    folder = tmp_path_factory.mktemp("adult")
    for split in ("train", "test"):
        lines = [ADULT_COLUMNS]
        for line in (source / f"adult-{split}.csv").read_text().splitlines():
            fields = [field.strip() for field in line.split(",")]
            if len(fields) == 15:
                fields[-1] = "1" if fields[-1].startswith(">50K") else "0"
                lines.append(",".join(fields))
        (folder / f"{split}.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="session")
def abalone_path() -> Path:
    """UCI Abalone (no header; Rings is the last column)."""
    path = SHARED_DATA / "abalone" / "abalone.csv"
    if not path.is_file():
        pytest.skip(f"real data absent: {path} (see shared/data/README.md)")
    return path


class Harness:
    """A PredictService on SQLite and local files, with jobs run in the test's thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.metadata = MetadataStore(f"sqlite:///{root / 'metadata.db'}")
        self.metadata.migrate()
        clock = SystemClock()
        self.queue = JobQueue(self.metadata, clock, retry_backoff_seconds=0)
        self.service = PredictService(
            self.metadata, LocalBlobStore(root / "blobs"), self.queue, clock, LocalFiles(root / "lake")
        )
        self.pool = WorkerPool(self.queue, self.service.handlers(), clock=clock)

    def put(self, name: str, text: str) -> str:
        """Write a file into the lake; its location."""
        path = self.root / "lake" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return name

    def run_jobs(self, limit: int = 50) -> int:
        """Run every runnable job (deferred ones come due within a second); how many ran."""
        ran = 0
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
        while ran < limit and dt.datetime.now(dt.UTC) < deadline:
            if self.pool.run_one("test-worker"):
                ran += 1
            elif all(job.state.is_terminal for job in self.queue.list(limit=1000)):
                break
            else:
                time.sleep(0.05)
        return ran


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """A service over a fresh SQLite database and lake folder."""
    made = Harness(tmp_path)
    yield made
    made.metadata.close()
