"""Helpers for the Polly API tests: one call's audio decoded, and what it says."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tests.speech.audio_checks import decode
from tests.speech_listening import transcribe, words

Samples = npt.NDArray[np.float32]


def speak(polly: Any, text: str, *, voice: str = "Joe", fmt: str = "pcm", rate: str = "16000", **extra: Any) -> Samples:
    """The decoded audio of one SynthesizeSpeech call (pcm at 16 kHz unless told)."""
    ssml = text.lstrip().startswith("<speak")
    answer = polly.synthesize_speech(
        Text=text, VoiceId=voice, OutputFormat=fmt, SampleRate=rate, TextType="ssml" if ssml else "text", **extra
    )
    return decode(answer["AudioStream"].read(), fmt, int(rate))


def seconds(samples: Samples, rate: int = 16000) -> float:
    """The audio's length in seconds."""
    return samples.size / rate


def heard(polly: Any, text: str, **options: Any) -> list[str]:
    """The words Whisper hears in the audio of `text`."""
    return words(transcribe(speak(polly, text, **options), 16000))
