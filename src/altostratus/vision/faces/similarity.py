"""Distance between two face embeddings -> Rekognition's Similarity (0-100), a fixed, monotone logistic curve.

    similarity(d) = 100 / (1 + exp(K * (d - D0)))      with K = 22.9, D0 = 0.455

where d is the Euclidean distance between the two L2-normalised dlib descriptors (dlib's own convention, "same
person below 0.6", is on the raw descriptors, whose norms are about 1.4: 0.6 raw is about 0.43 here, where the
curve gives 64). The curve gives 99 at d = 0.25, 80 at d = 0.394 (CompareFaces' default threshold), 50 at
0.455, 20 at 0.516 and 1 at 0.656.

Fitted by benchmarks/fit_face_similarity.py on all 55 pairs of the 11 faces in ../shared/data/faces (Obama 5,
Biden 3, a child) plus skimage's astronaut and cameraman (different persons): the 13 same-person pairs lie at
0.179-0.316, the 42 different-person pairs at 0.478-0.640, so at 80 every pair is decided right, 0.078 inside
on the same side and 0.084 on the other. K is the slope of a logistic regression (L2-regularised, C = 100) on
those pairs; its own D0 (0.393) would put 80 at 0.333, 0.017 from the farthest same-person pair, so D0 was moved
to put 80 in the middle of the gap instead (0.455; the script's latest run says 0.458).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

K = 22.9
D0 = 0.455


def similarity(distance: float) -> float:
    """Similarity (0-100) of two faces whose unit embeddings lie `distance` apart; decreasing in the distance."""
    exponent = max(min(K * (distance - D0), 700.0), -700.0)
    return 100.0 / (1.0 + math.exp(exponent))


def similarities(distances: npt.NDArray[np.float32]) -> npt.NDArray[np.floating[Any]]:
    """similarity() of every distance at once (the collections' searches score thousands of faces)."""
    exponent = np.clip(K * (distances.astype(np.float64) - D0), -700.0, 700.0)
    return 100.0 / (1.0 + np.exp(exponent))


def distance_at(level: float) -> float:
    """The distance at which similarity() equals `level` (0 < level < 100): the threshold's inverse."""
    if not 0.0 < level < 100.0:
        raise ValueError(f"level={level!r}; expected a similarity strictly between 0 and 100")
    return D0 + math.log(100.0 / level - 1.0) / K
