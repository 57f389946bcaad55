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


def heard_with(polly: Any, word: str, text: str, attempts: int = 3, **options: Any) -> list[str]:
    """What Whisper hears of `text`, spoken again (up to `attempts` times) until `word` is among it.

    Piper's neural voice draws its noise anew each time, and Whisper tiny mishears a few syntheses in a hundred
    (CI heard "banana" as "and anna"); a wrong pronunciation is never heard as `word`, however often it is spoken.
    """
    found: list[str] = []
    for _ in range(attempts):
        found = heard(polly, text, **options)
        if word in found:
            break
    return found
