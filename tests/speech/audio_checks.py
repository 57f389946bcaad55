"""Checks on synthesized audio for the speech tests: decode any Polly output format, measure it, judge it."""

from __future__ import annotations

import io

import av
import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]

_CONTAINERS = {"mp3": "mp3", "ogg_vorbis": "ogg", "ogg_opus": "ogg"}


def decode(data: bytes, output_format: str, sample_rate: int) -> Samples:
    """The float32 mono samples of a stream in this output format (several channels are averaged)."""
    if output_format == "pcm":
        return (np.frombuffer(data, dtype="<i2") / 32768).astype(np.float32)
    if output_format == "mulaw":
        return (_mulaw_linear(np.frombuffer(data, dtype=np.uint8)) / 32768).astype(np.float32)
    if output_format == "alaw":
        return (_alaw_linear(np.frombuffer(data, dtype=np.uint8)) / 32768).astype(np.float32)
    return _decode_container(data, _CONTAINERS[output_format], sample_rate)


def _decode_container(data: bytes, container_format: str, sample_rate: int) -> Samples:
    with av.open(io.BytesIO(data), mode="r", format=container_format) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.sample_rate == sample_rate, (
            f"the stream is at {stream.codec_context.sample_rate} Hz, expected {sample_rate}"
        )
        # Planar float keeps each channel a row, whatever sample format the decoder gives.
        planar = av.AudioResampler(format="fltp")
        parts = [converted.to_ndarray() for frame in container.decode(stream) for converted in planar.resample(frame)]
    if not parts:
        return np.zeros(0, dtype=np.float32)
    mono: Samples = np.concatenate(parts, axis=1).mean(axis=0).astype(np.float32)
    return mono


def _mulaw_linear(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int32]:
    """G.711 mu-law to 16-bit linear (the ITU reference decoder)."""
    u = ~codes.astype(np.int32) & 0xFF
    magnitude = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84)


def _alaw_linear(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int32]:
    """G.711 A-law to 16-bit linear (the ITU reference decoder)."""
    a = codes.astype(np.int32) ^ 0x55
    segment = (a & 0x70) >> 4
    magnitude = ((a & 0x0F) << 4) + np.where(segment == 0, 8, 0x108)
    magnitude = np.where(segment > 1, magnitude << np.maximum(segment - 1, 0), magnitude)
    return np.where(a & 0x80, magnitude, -magnitude)


def duration_s(data: bytes, output_format: str, sample_rate: int) -> float:
    """How long the stream plays, in seconds."""
    return len(decode(data, output_format, sample_rate)) / sample_rate


def rms_db(samples: Samples) -> float:
    """The level in dB relative to full scale (-200 for digital silence)."""
    x = np.asarray(samples, dtype=np.float64)
    rms = float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
    return 20 * float(np.log10(max(rms, 1e-10)))


def is_speech_like(samples: Samples, rate: int) -> bool:
    """Not silence (above -45 dBFS) and with a level that moves over time, as syllables and pauses make it."""
    if rms_db(samples) <= -45:
        return False
    frame = max(1, rate // 50)  # 20 ms
    count = len(samples) // frame
    if count < 5:
        return False
    frames = np.asarray(samples[: count * frame], dtype=np.float64).reshape(count, frame)
    levels = 10 * np.log10(np.maximum(np.mean(frames**2, axis=1), 1e-12))
    # A steady tone or hum stays within a few dB; speech swings by tens of dB between syllables and gaps.
    return float(np.percentile(levels, 90) - np.percentile(levels, 10)) > 10
