"""Fit the face similarity curve (altostratus.vision.faces.similarity) and time the face engine.

Every face found in ../shared/data/faces (one folder per person; multi_face/obama_and_biden.jpg holds Biden,
Obama and a child, told apart by their position) and in skimage's astronaut and cameraman (different persons)
is embedded; every pair's distance is printed with its label, then a logistic regression of "same person" on
the distance is fitted (L2-regularised, C = 100, the data being separable); its K is kept and D0 moved so that
similarity 80 falls in the middle of the gap between same and different pairs. Both are printed beside the
constants in similarity.py, with the number of pairs those decide wrongly at 80. With --timing, find(), find(attributes)
and vectors() are timed on every photo scaled to 640 px (p50 of --rounds calls).

    python benchmarks/fit_face_similarity.py [--data ../shared/data] [--timing] [--rounds 9]
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as samples
from sklearn.linear_model import LogisticRegression

from altostratus.vision.faces import FaceAnalyzer
from altostratus.vision.faces.embedding import from_bytes
from altostratus.vision.faces.similarity import D0, K, similarity
from altostratus.vision.images import Picture

# Who is where in the two-person photo: faces sorted left to right.
MULTI_FACE = ("biden", "obama", "child")


def pictures(root: Path) -> dict[str, Picture]:
    """The shared photos and skimage's two portraits, by name."""
    found = {
        f"{path.parent.name}/{path.name}": Picture(np.asarray(Image.open(path).convert("RGB")), "JPEG", None)
        for path in sorted((root / "faces").glob("*/*.jpg"))
    }
    found["skimage/astronaut"] = Picture(samples.astronaut(), "PNG", None)
    found["skimage/camera"] = Picture(np.repeat(samples.camera()[:, :, None], 3, axis=2), "PNG", None)
    return found


def person(name: str, index: int, count: int) -> str:
    """Who the face is: the folder's person, or for the two-person photo, the face's place from the left."""
    folder = name.split("/")[0]
    if folder == "multi_face":
        return MULTI_FACE[index] if count == len(MULTI_FACE) else f"multi#{index}"
    if folder == "partial_face":
        return "obama"
    if folder == "skimage":
        return name.split("/")[1]
    return folder


def embeddings(analyzer: FaceAnalyzer, found: dict[str, Picture]) -> list[tuple[str, str, np.ndarray]]:
    """(label, person, unit vector) of every face."""
    rows = []
    for name, picture in found.items():
        vectors = sorted(analyzer.vectors(picture), key=lambda v: v.face.box.left)
        for index, vector in enumerate(vectors):
            rows.append((f"{name}#{index}", person(name, index, len(vectors)), from_bytes(vector.vector)))
    return rows


def fit(rows: list[tuple[str, str, np.ndarray]]) -> None:
    """Print every pair's distance and the fitted curve."""
    distances, same = [], []
    for (label_a, who_a, a), (label_b, who_b, b) in itertools.combinations(rows, 2):
        distance = float(np.linalg.norm(a - b))
        distances.append(distance)
        same.append(who_a == who_b)
        verdict = "same" if who_a == who_b else "diff"
        print(f"{verdict}  {distance:.3f}  sim {similarity(distance):6.2f}  {label_a}  {label_b}")
    model = LogisticRegression(C=100.0).fit(np.array(distances)[:, None], np.array(same))
    k, d0 = -float(model.coef_[0, 0]), -float(model.intercept_[0]) / float(model.coef_[0, 0])
    same_max = max(d for d, s in zip(distances, same, strict=True) if s)
    diff_min = min(d for d, s in zip(distances, same, strict=True) if not s)
    wrong = sum((similarity(d) >= 80.0) != s for d, s in zip(distances, same, strict=True))
    print(f"\nsame-person distances up to {same_max:.3f}; different-person from {diff_min:.3f}")
    print(f"fitted: K = {k:.2f}, D0 = {d0:.3f} (80 at {d0 - math.log(4.0) / k:.3f})")
    middle = (same_max + diff_min) / 2.0
    print(f"with 80 moved to the gap's middle, {middle:.3f}: D0 = {middle + math.log(4.0) / k:.3f}")
    print(f"in similarity.py: K = {K}, D0 = {D0} (80 at {D0 - math.log(4.0) / K:.3f}); wrong at 80: {wrong}")


def timing(analyzer: FaceAnalyzer, found: dict[str, Picture], rounds: int) -> None:
    """p50 of find(), find(attributes=True) and vectors() on each photo scaled to at most 640 px."""
    for name, picture in found.items():
        image = Image.fromarray(picture.pixels)
        image.thumbnail((640, 640))
        small = Picture(np.asarray(image), "JPEG", None)
        calls: dict[str, Callable[[], object]] = {
            "find": lambda small=small: analyzer.find(small),
            "find+attributes": lambda small=small: analyzer.find(small, attributes=True),
            "vectors": lambda small=small: analyzer.vectors(small),
        }
        figures = " ".join(f"{label} {_p50(call, rounds):6.1f} ms" for label, call in calls.items())
        print(f"{name:40s} {image.width}x{image.height} faces {len(analyzer.find(small))}  {figures}")


def _p50(call: Callable[[], object], rounds: int) -> float:
    call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def main() -> None:
    """Parse the arguments, fit, and time when asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    analyzer = FaceAnalyzer()
    found = pictures(args.data)
    fit(embeddings(analyzer, found))
    if args.timing:
        timing(analyzer, found, args.rounds)


if __name__ == "__main__":
    main()
