"""Face vector search benchmark: the HNSW index beside exact numpy search on the same face-like vectors.

The vectors are made like face embeddings, so that the nearest neighbour means something: one unit centre
per identity (about five faces each) and each face that centre plus noise of norm 0.3, renormalised (dlib's
same-person distance is about 0.4, different people about 1.4 here). A query is a new face of an identity in
the index. For each size:

- index: the HNSW graph (vision/vector_index.py with exact_limit 0, so it is always the graph): build time,
  search p50/p99 (the index's own share, one query at a time) and recall@1 against exact search, and the time
  to save the graph as a snapshot and load it again (index_snapshots.py) with the snapshot's size;
- exact: the numpy matrix search on the same vectors: search p50/p99 (its answers are the truth);
- store (unless --no-store): the faces written to a SQLite metadata store through FaceCollections, then a new
  FaceCollections over it (a restart) with an empty snapshot folder: its first search (every row read into the
  exact matrix), searches while the graph is built in the background, and the time until the graph has taken
  over and been saved; then another restart, which loads that snapshot: its first search (snapshot loaded and
  caught up with the rows), and search_by_vector p50/p99 end to end (index plus reading the matched rows).

    python benchmarks/vector_search.py [--sizes 1000,100000,1000000] [--queries 300] [--no-store] [--json OUT]

`measure(sizes)` returns the same figures as a dict (benchmarks/vision.py calls it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from altostratus.core.clock import SystemClock
from altostratus.storage.metadata import MetadataStore
from altostratus.vision.collections import FaceCollections
from altostratus.vision.index_snapshots import IndexSnapshots
from altostratus.vision.results import Box, Face, FaceVector, Judgement, Pose, Quality
from altostratus.vision.vector_index import EXACT_LIMIT, HnswSettings, VectorIndex

DIMENSION = 128
FACES_PER_IDENTITY = 5
NOISE = 0.3
SIZES = [1_000, 100_000, 1_000_000]
WRITE_BATCH = 2_000  # faces per add_faces call when filling the store

Matrix = npt.NDArray[np.float32]
T = TypeVar("T")


def face_like(count: int, queries: int, seed: int = 0) -> tuple[Matrix, Matrix]:
    """`count` face-like unit vectors and `queries` new faces of identities among them."""
    rng = np.random.default_rng(seed)
    identities = max(count // FACES_PER_IDENTITY, 1)
    centres = _unit(rng.standard_normal((identities, DIMENSION), dtype=np.float32))

    def faces_of(who: npt.NDArray[np.int64]) -> Matrix:
        noise = rng.standard_normal((len(who), DIMENSION), dtype=np.float32) * (NOISE / np.sqrt(DIMENSION))
        return _unit(centres[who] + noise)

    vectors = np.concatenate([faces_of(rng.integers(0, identities, part)) for part in _parts(count, 100_000)])
    return vectors, faces_of(rng.integers(0, identities, queries))


def measure(sizes: list[int], *, queries: int = 300, store: bool = True, seed: int = 0) -> dict[str, Any]:
    """Build time, search p50/p99 and recall@1 of the index and exact search at each size (and the store's)."""
    hnsw = HnswSettings()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.machine()},
        "vectors": {"dimension": DIMENSION, "faces_per_identity": FACES_PER_IDENTITY, "noise": NOISE},
        "hnsw": dataclasses.asdict(hnsw),
        "exact_limit": EXACT_LIMIT,
        "sizes": {},
    }
    for size in sizes:
        vectors, asked = face_like(size, queries, seed)
        results["sizes"][str(size)] = _measure_size(vectors, asked, hnsw, store=store)
    return results


def _measure_size(vectors: Matrix, asked: Matrix, hnsw: HnswSettings, *, store: bool) -> dict[str, Any]:
    _progress(f"{len(vectors)}: exact search")
    _, truth, exact_times = _build_and_search(VectorIndex(exact_limit=len(vectors), hnsw=hnsw), vectors, asked)
    _progress(f"{len(vectors)}: index build and search")
    graph = VectorIndex(exact_limit=0, hnsw=hnsw)
    build, found, graph_times = _build_and_search(graph, vectors, asked)
    figures: dict[str, Any] = {
        "index": {
            "build_s": round(build, 2),
            **_percentiles(graph_times),
            "recall_at_1": _recall(found, truth),
            **_snapshot_round_trip(graph, hnsw),
        },
        "exact": _percentiles(exact_times),
    }
    if store:
        _progress(f"{len(vectors)}: metadata store")
        figures["store"] = _measure_store(vectors, asked, truth)
    return figures


def _build_and_search(index: VectorIndex, vectors: Matrix, asked: Matrix) -> tuple[float, list[int], list[float]]:
    """The time to add every vector (keys 0, 1, ...), then each query's nearest key and its search time."""
    started = time.perf_counter()
    index.add(np.arange(len(vectors), dtype=np.uint64), vectors)
    index.wait_for_graph()
    build = time.perf_counter() - started
    found, times = _searches(lambda query: int(index.search(query, 1)[0][0]), asked)
    return build, found, times


def _snapshot_round_trip(graph: VectorIndex, hnsw: HnswSettings) -> dict[str, float]:
    """The time to save the graph as a snapshot and to load it back, and the snapshot's size."""
    with tempfile.TemporaryDirectory() as folder:
        snapshots = IndexSnapshots(Path(folder), dimension=DIMENSION, hnsw=hnsw)
        started = time.perf_counter()
        snapshots.save("bench", "generation", 1, graph)
        save = time.perf_counter() - started
        size = sum(path.stat().st_size for path in Path(folder).iterdir())
        started = time.perf_counter()
        snapshots.load("bench", "generation", lambda path, tombstones: VectorIndex.from_graph(path, tombstones))
        load = time.perf_counter() - started
    return {"snapshot_save_s": round(save, 2), "snapshot_load_s": round(load, 2), "snapshot_mb": round(size / 2**20)}


def _measure_store(vectors: Matrix, asked: Matrix, truth: list[int]) -> dict[str, Any]:
    """Fill a SQLite store, then time restarts without and with a snapshot, and searches end to end."""
    with tempfile.TemporaryDirectory() as folder:
        metadata = MetadataStore(f"sqlite:///{folder}/metadata.db")
        metadata.migrate()
        snapshots = Path(folder) / "snapshots"
        try:
            writer = FaceCollections(metadata, SystemClock(), similarity=_similarity)
            writer.create("bench")
            started = time.perf_counter()
            face_ids = []
            for part in np.array_split(vectors, max(len(vectors) // WRITE_BATCH, 1)):
                face_ids += [face.face_id for face in writer.add_faces("bench", [_face(vector) for vector in part])]
            write = time.perf_counter() - started
            _progress(f"{len(vectors)}: restart without a snapshot")
            cold = FaceCollections(metadata, SystemClock(), similarity=_similarity, snapshot_dir=snapshots)
            started = time.perf_counter()
            first_cold = _timed(lambda: _search(cold, asked[0]))
            _, building = _searches(lambda query: _search(cold, query), asked[:20])
            cold._indexes.wait_for_graphs()
            graph_ready = time.perf_counter() - started
            cold.close()
            _progress(f"{len(vectors)}: restart with a snapshot")
            warm = FaceCollections(metadata, SystemClock(), similarity=_similarity, snapshot_dir=snapshots)
            first_warm = _timed(lambda: _search(warm, asked[0]))
            found, times = _searches(lambda query: _search(warm, query), asked)
            recall = _recall(found, [face_ids[key] for key in truth])
        finally:
            metadata.close()
    return {
        "write_s": round(write, 2),
        "first_search_without_snapshot_s": round(first_cold, 2),
        "while_building": _percentiles(building),
        "graph_ready_s": round(graph_ready, 2),
        "first_search_with_snapshot_s": round(first_warm, 2),
        **_percentiles(times),
        "recall_at_1": recall,
    }


def _search(collections: FaceCollections, query: Matrix) -> str:
    match = collections.search_by_vector("bench", query.astype("<f4").tobytes(), threshold=0, max_faces=1)
    return match[0].face.face_id


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _searches(search: Callable[[Matrix], T], queries: Matrix) -> tuple[list[T], list[float]]:
    """Each query's answer and its time in seconds, one query at a time (after one untimed warm-up)."""
    search(queries[0])
    answers: list[T] = []
    times: list[float] = []
    for query in queries:
        started = time.perf_counter()
        answers.append(search(query))
        times.append(time.perf_counter() - started)
    return answers, times


def _percentiles(times: list[float]) -> dict[str, float]:
    milliseconds = np.array(times) * 1000
    return {
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 3),
        "p99_ms": round(float(np.percentile(milliseconds, 99)), 3),
    }


def _recall(found: Sequence[object], truth: Sequence[object]) -> float:
    return round(sum(a == b for a, b in zip(found, truth, strict=True)) / len(truth), 4)


def _similarity(distances: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return (100.0 * (1.0 - distances / 2.0)).astype(np.float32)


def _face(vector: Matrix) -> FaceVector:
    face = Face(Box(0.1, 0.1, 0.5, 0.5), 99.0, (), Pose(0.0, 0.0, 0.0), Quality(50.0, 50.0), Judgement(False, 99.0))
    return FaceVector(face, vector.astype("<f4").tobytes())


def _progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _unit(matrix: Matrix) -> Matrix:
    unit: Matrix = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _parts(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print (or write) its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated collection sizes")
    parser.add_argument("--queries", type=int, default=300, help="queries per size")
    parser.add_argument("--no-store", action="store_true", help="skip the metadata store (write, rebuild, end to end)")
    parser.add_argument("--json", type=Path, help="write the figures here as well")
    args = parser.parse_args(argv)
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    results = measure(sizes, queries=args.queries, store=not args.no_store)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
