"""Vision (Rekognition API) benchmark: latency through boto3 beside the same models in process, face verification
on the shared faces, vector search at scale beside exact numpy search, and IndexFaces throughput.

Everything of ours goes through a real `alto serve` on 127.0.0.1 with unmodified boto3.

- Latency: DetectFaces, CompareFaces, DetectLabels and DetectText on photos scaled to 640 px wide (the
  two-person photo, two photos of one person, skimage's cat, a rendered page of text), `--calls` calls each
  after a warm-up; p50/p95 through boto3, beside the same engines (FaceAnalyzer, LabelDetector, TextReader)
  called in this process on the decoded picture: the ratio is what the wire, JSON and base64 cost.
- Verification: every pair of faces in ../shared/data/faces (plus skimage's astronaut and cameraman as other
  people) scored by the calibrated similarity; ROC AUC, the ROC points, and the pairs decided wrongly at
  CompareFaces' default threshold (80). Then CompareFaces through boto3 on every pair of the single-face
  photos, each decided at 80.
- Search: benchmarks/vector_search.py's measure() at `--sizes` face-like vectors: the HNSW index beside exact
  numpy search (build time, p50/p99, recall@1) and the store's rebuild after a restart.
- IndexFaces: images and faces per second through boto3 over the shared photos, beside vectors() in process.

    python benchmarks/vision.py [--quick] [--calls N] [--sizes 1000,100000,1000000] [--json OUT] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from skimage import data as samples
from sklearn.metrics import roc_auc_score, roc_curve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.live_server import live_server
from tests.vision_photos import rendered_text

from altostratus.vision.faces import FaceAnalyzer
from altostratus.vision.faces.similarity import similarity
from altostratus.vision.images import decode
from altostratus.vision.labels import LabelDetector
from altostratus.vision.labels.filters import LabelFilters
from altostratus.vision.text import TextReader
from benchmarks import fit_face_similarity as face_pairs
from benchmarks import vector_search
from benchmarks.predict import machine

WIDTH = 640
THRESHOLD = 80.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--quick", action="store_true", help="10 calls each, search at 1,000 and 100,000 only.")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.calls, args.sizes = 10, "1000,100000"
    faces_dir = args.data / "faces"
    if not faces_dir.is_dir():
        sys.exit(f"{faces_dir} is absent: pass --data with the shared data folder")
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "machine": machine(),
        "command": " ".join(["python", *sys.argv]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "data") as server:
        rekognition = server.client("rekognition")
        figures["latency"] = latency(rekognition, faces_dir, args.calls)
        figures["verification"] = verification(rekognition, args.data)
        figures["index_faces"] = index_throughput(rekognition, faces_dir)
    figures["search"] = vector_search.measure([int(s) for s in args.sizes.split(",")])
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    report(figures)


def scaled(data: bytes, width: int = WIDTH) -> bytes:
    """The photo as a JPEG `width` pixels wide."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def jpeg_of(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=92)
    return out.getvalue()


def timed(call: Callable[[], object], calls: int) -> dict[str, float]:
    """p50/p95/mean in ms of `calls` calls after one untimed warm-up."""
    call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50": round(statistics.median(times), 1),
        "p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "mean": round(statistics.fmean(times), 1),
    }


def latency(rekognition: Any, faces_dir: Path, calls: int) -> dict[str, Any]:
    """Each operation through boto3 beside its engine in process, on the same 640 px image."""
    both = scaled((faces_dir / "multi_face" / "obama_and_biden.jpg").read_bytes())
    first, second = (scaled(p.read_bytes()) for p in sorted((faces_dir / "obama").iterdir())[:2])
    cat = scaled(jpeg_of(samples.chelsea()))
    text = rendered_text(["THE QUICK BROWN FOX", "JUMPS OVER 13 LAZY DOGS"], size=(WIDTH, 240))
    analyzer, labels, reader = FaceAnalyzer(), LabelDetector(), TextReader()
    no_filters = LabelFilters()

    def compare_in_process() -> object:
        source = analyzer.vectors(decode(first), max_faces=1)[0]
        return [analyzer.similarity(source, t) for t in analyzer.vectors(decode(second))]

    operations: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "DetectFaces": (
            lambda: rekognition.detect_faces(Image={"Bytes": both}),
            lambda: analyzer.find(decode(both)),
        ),
        "CompareFaces": (
            lambda: rekognition.compare_faces(SourceImage={"Bytes": first}, TargetImage={"Bytes": second}),
            compare_in_process,
        ),
        "DetectLabels": (
            lambda: rekognition.detect_labels(Image={"Bytes": cat}),
            lambda: labels.detect(decode(cat), max_labels=None, min_confidence=55.0, filters=no_filters),
        ),
        "DetectText": (
            lambda: rekognition.detect_text(Image={"Bytes": text}),
            lambda: reader.read(decode(text)),
        ),
    }
    found: dict[str, Any] = {}
    for name, (remote, local) in operations.items():
        boto3_ms, in_process_ms = timed(remote, calls), timed(local, calls)
        found[name] = {
            "boto3_ms": boto3_ms,
            "in_process_ms": in_process_ms,
            "ratio_p50": round(boto3_ms["p50"] / in_process_ms["p50"], 2),
        }
    return found


def verification(rekognition: Any, data: Path) -> dict[str, Any]:
    """The similarity's ROC on every face pair, and CompareFaces through boto3 on every single-face photo pair."""
    rows = face_pairs.embeddings(FaceAnalyzer(), face_pairs.pictures(data))
    scores, same = [], []
    for (_, who_a, a), (_, who_b, b) in itertools.combinations(rows, 2):
        scores.append(similarity(float(np.linalg.norm(a - b))))
        same.append(who_a == who_b)
    fpr, tpr, thresholds = roc_curve(same, scores)
    wrong = sum((s >= THRESHOLD) != t for s, t in zip(scores, same, strict=True))
    singles = {
        f"{folder}/{path.name}": path.read_bytes()
        for folder in ("obama", "biden", "partial_face")
        for path in sorted((data / "faces" / folder).iterdir())
    }
    who = {name: "biden" if name.startswith("biden") else "obama" for name in singles}
    api_wrong = []
    pairs = list(itertools.combinations(singles, 2))
    for a, b in pairs:
        answer = rekognition.compare_faces(SourceImage={"Bytes": singles[a]}, TargetImage={"Bytes": singles[b]})
        if bool(answer["FaceMatches"]) != (who[a] == who[b]):
            api_wrong.append(f"{a} ~ {b}")
    return {
        "faces": len(rows),
        "pairs": len(scores),
        "same_pairs": sum(same),
        "roc_auc": round(float(roc_auc_score(same, scores)), 4),
        "roc": [
            {"threshold": round(float(t), 2), "fpr": round(float(f), 3), "tpr": round(float(r), 3)}
            for f, r, t in zip(fpr, tpr, thresholds, strict=True)
            if np.isfinite(t)
        ],
        "same_similarity_min": round(min(s for s, t in zip(scores, same, strict=True) if t), 2),
        "different_similarity_max": round(max(s for s, t in zip(scores, same, strict=True) if not t), 2),
        "wrong_at_80": wrong,
        "compare_faces_pairs": len(pairs),
        "compare_faces_wrong": api_wrong,
    }


def index_throughput(rekognition: Any, faces_dir: Path, rounds: int = 3) -> dict[str, Any]:
    """IndexFaces images/s and faces/s through boto3, beside vectors() in process on the same photos."""
    photos = [p.read_bytes() for p in sorted(faces_dir.glob("*/*.jpg"))]
    rekognition.create_collection(CollectionId="throughput")
    start, faces = time.perf_counter(), 0
    for round_ in range(rounds):
        for i, photo in enumerate(photos):
            answer = rekognition.index_faces(
                CollectionId="throughput", Image={"Bytes": photo}, ExternalImageId=f"r{round_}-{i}"
            )
            faces += len(answer["FaceRecords"])
    remote = time.perf_counter() - start
    analyzer = FaceAnalyzer()
    analyzer.vectors(decode(photos[0]))
    start, local_faces = time.perf_counter(), 0
    for _ in range(rounds):
        for photo in photos:
            local_faces += len(analyzer.vectors(decode(photo)))
    local = time.perf_counter() - start
    images = rounds * len(photos)
    return {
        "images": images,
        "faces": faces,
        "boto3_images_per_s": round(images / remote, 2),
        "boto3_faces_per_s": round(faces / remote, 2),
        "in_process_images_per_s": round(images / local, 2),
        "in_process_faces_per_s": round(local_faces / local, 2),
    }


def report(figures: dict[str, Any]) -> None:
    load = ", ".join(map(str, figures["load_average"]))
    print(f"{figures['machine']}\n{figures['command']}  ({figures['date']}, {figures['seconds']} s, load {load})\n")
    print("latency at 640 px (ms): boto3 p50 / p95 | in process p50 / p95 | ratio of p50s")
    for name, row in figures["latency"].items():
        b, i = row["boto3_ms"], row["in_process_ms"]
        print(f"  {name:13} {b['p50']:7.1f} {b['p95']:7.1f} | {i['p50']:7.1f} {i['p95']:7.1f} | {row['ratio_p50']}")
    v = figures["verification"]
    print(
        f"\nverification: {v['faces']} faces, {v['pairs']} pairs ({v['same_pairs']} same); ROC AUC {v['roc_auc']}; "
        f"same-person similarity from {v['same_similarity_min']}, different up to {v['different_similarity_max']}; "
        f"wrong at 80: {v['wrong_at_80']}; CompareFaces on {v['compare_faces_pairs']} photo pairs, wrong: "
        f"{v['compare_faces_wrong'] or 'none'}"
    )
    x = figures["index_faces"]
    print(
        f"\nIndexFaces: {x['images']} images, {x['faces']} faces: {x['boto3_images_per_s']} images/s "
        f"({x['boto3_faces_per_s']} faces/s) through boto3; vectors() in process {x['in_process_images_per_s']} "
        f"images/s ({x['in_process_faces_per_s']} faces/s)"
    )
    print("\nsearch:")
    print(json.dumps(figures["search"], indent=2))


if __name__ == "__main__":
    main()
