"""Audio for the speech service: resampling, effects, and streaming encoders for Polly's output formats.

Samples are float32 mono in [-1, 1]. Encoders are incremental: `encode` returns the bytes that are ready
after each chunk (a sentence), so a response can stream while the rest is still being synthesized.
"""

from __future__ import annotations

import secrets
import struct
import zlib
from collections.abc import Callable
from fractions import Fraction
from typing import Protocol

import av
import numpy as np
import numpy.typing as npt
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter, resample_poly

from altostratus.speech.audio_formats import audio_format
from altostratus.speech.errors import InvalidSampleRate

Samples = npt.NDArray[np.float32]

# ---- resampling and effects ----------------------------------------------------------------------------


def resample(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """The samples at `to_rate`, by polyphase filtering; exactly round(n * to_rate / from_rate) long."""
    x = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate:
        return x.copy()
    ratio = Fraction(to_rate, from_rate)
    length = round(len(x) * ratio)
    if len(x) == 0:
        return np.zeros(0, dtype=np.float32)
    y = resample_poly(x, ratio.numerator, ratio.denominator)
    # resample_poly gives ceil(n * up / down) samples; pad or cut to the rounded length callers rely on.
    return np.pad(y[:length], (0, max(0, length - len(y)))).astype(np.float32)


_KNEE = 0.9


def soft_limit(samples: Samples) -> Samples:
    """Samples below the knee (0.9) as they are; above it, bent smoothly (tanh) so they never pass 1."""
    x = np.asarray(samples, dtype=np.float32)
    over = np.abs(x) > _KNEE
    bent = _KNEE + (1 - _KNEE) * np.tanh((np.abs(x[over]) - _KNEE) / (1 - _KNEE))
    out = x.copy()
    out[over] = np.sign(x[over]) * bent
    return out


def gain(samples: Samples, db: float) -> Samples:
    """The samples made `db` decibels louder (or softer), soft-limited so that loud ones bend instead of clip."""
    return soft_limit(np.asarray(samples, dtype=np.float32) * np.float32(10 ** (db / 20)))


def whisper(samples: Samples, rate: int, *, seed: int = 0) -> Samples:
    """A whispered voice: each frame's LPC envelope (the formants) excited by white noise instead of the voice.

    Frames are 25 ms, Hann-windowed for the analysis and overlapping by half. Each frame's noise is given the
    frame's power, which is the residual's energy passed through the LPC filter, so loudness follows the
    speech while pitch disappears. The same input and seed give the same output.
    """
    x = np.asarray(samples, dtype=np.float64)
    order = rate // 1000 + 4
    size = 2 * round(rate * 0.0125)
    hop = size // 2
    analysis = np.hanning(size + 1)[:size]
    # Independent noise frames add by power, not amplitude: sqrt-Hann squares to a constant at 50% overlap.
    synthesis = np.sqrt(analysis)
    rng = np.random.default_rng(seed)
    padded = np.pad(x, (hop, size))
    out = np.zeros(len(padded))
    for start in range(0, len(padded) - size + 1, hop):
        frame = padded[start : start + size]
        out[start : start + size] += synthesis * _noise_like(frame, analysis, order, rng)
    return soft_limit(out[hop : hop + len(x)].astype(np.float32))


def _noise_like(
    frame: npt.NDArray[np.float64], window: npt.NDArray[np.float64], order: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """White noise through the frame's LPC synthesis filter, at the frame's power."""
    windowed = frame * window
    autocorrelation = np.correlate(windowed, windowed, "full")[len(frame) - 1 : len(frame) + order]
    power = autocorrelation[0] / np.sum(window**2)
    if power < 1e-12:
        return np.zeros(len(frame))
    # A hair of white noise (-60 dB) keeps the normal equations well conditioned on pure tones.
    column = autocorrelation[:order].copy()
    column[0] *= 1 + 1e-6
    polynomial = np.concatenate(([1.0], -solve_toeplitz(column, autocorrelation[1 : order + 1])))
    # A frame's worth of noise first lets the resonances build up, so the kept part is steady.
    shaped = lfilter([1.0], polynomial, rng.standard_normal(2 * len(frame)))[len(frame) :]
    result: npt.NDArray[np.float64] = shaped * np.sqrt(power / np.mean(shaped**2))
    return result


def silence(ms: float, rate: int) -> Samples:
    """`ms` milliseconds of silence."""
    return np.zeros(round(ms * rate / 1000), dtype=np.float32)


_BEEP_LEVEL = 0.5  # -6 dBFS: clearly audible next to speech without clipping after a gain
_BEEP_FADE_S = 0.005  # raised-cosine ramps so the tone starts and stops without clicks


def beep(ms: float, rate: int, hz: float = 1000.0) -> Samples:
    """A sine tone of `ms` milliseconds at `hz`, at -6 dBFS, faded in and out over 5 ms."""
    n = round(ms * rate / 1000)
    tone = _BEEP_LEVEL * np.sin(2 * np.pi * hz * np.arange(n) / rate)
    fade = min(round(_BEEP_FADE_S * rate), n // 2)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / max(fade, 1))
    tone[:fade] *= ramp
    tone[n - fade :] *= ramp[::-1]
    return tone.astype(np.float32)


# ---- sample codings: linear 16-bit and G.711 ---------------------------------------------------------------


def _linear16(samples: Samples) -> npt.NDArray[np.int16]:
    """The samples as 16-bit integers, rounded and clipped."""
    return np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32767), -32768, 32767).astype(np.int16)


def pcm_bytes(samples: Samples) -> bytes:
    """16-bit signed little-endian mono, no header (Polly's pcm)."""
    return _linear16(samples).astype("<i2").tobytes()


def mulaw_bytes(samples: Samples) -> bytes:
    """G.711 mu-law, one byte a sample."""
    pcm = _linear16(samples).astype(np.int32) >> 2  # mu-law codes 14-bit samples
    sign = np.where(pcm < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(pcm), 8158) + 33  # the bias moves every segment onto a power of two
    exponent: npt.NDArray[np.int32] = np.frexp(magnitude.astype(np.float64))[1]
    segment = exponent - 6  # 33..8191 -> segments 0..7
    mantissa = (magnitude >> (segment + 1)) & 0x0F
    codes: npt.NDArray[np.uint8] = (~(sign | (segment << 4) | mantissa) & 0xFF).astype(np.uint8)
    return codes.tobytes()


def alaw_bytes(samples: Samples) -> bytes:
    """G.711 A-law, one byte a sample."""
    pcm = _linear16(samples).astype(np.int32) >> 3  # A-law codes 13-bit samples
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    magnitude = np.where(pcm >= 0, pcm, -pcm - 1)
    segment = np.searchsorted(np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]), magnitude)
    shift = np.maximum(segment, 1)
    code = (segment << 4) | ((magnitude >> shift) & 0x0F)
    return (code ^ mask).astype(np.uint8).tobytes()


# ---- encoders --------------------------------------------------------------------------------------------


class Encoder(Protocol):
    """One request's audio stream: feed it chunks, send what each returns, then send what `finish` returns."""

    def encode(self, samples: Samples) -> bytes:
        """Encode float32 mono samples at the encoder's rate; return the bytes ready so far."""
        ...

    def finish(self) -> bytes:
        """Return the rest of the stream; with it, everything returned is one complete, valid file."""
        ...


class _SampleEncoder:
    """A stateless coding of each sample (pcm, mu-law, A-law): every chunk's bytes are ready at once."""

    def __init__(self, code: Callable[[Samples], bytes]) -> None:
        self._code = code

    def encode(self, samples: Samples) -> bytes:
        return self._code(samples)

    def finish(self) -> bytes:
        return b""


class _CodecEncoder:
    """Feeds chunks to an FFmpeg encoder (through PyAV) and hands its packets to a framing."""

    def __init__(self, context: av.AudioCodecContext, framing: _Framing) -> None:
        self._context = context
        self._framing = framing
        self._samples_in = 0

    def encode(self, samples: Samples) -> bytes:
        x = np.ascontiguousarray(samples, dtype=np.float32)
        if len(x) == 0:
            return self._framing.packets([], last=False)
        channels = self._context.layout.nb_channels
        frame = av.AudioFrame.from_ndarray(
            np.tile(x, (channels, 1)), format=self._context.format.name, layout=self._context.layout.name
        )
        frame.sample_rate = self._context.sample_rate
        frame.pts = self._samples_in
        self._samples_in += len(x)
        return self._framing.packets(self._packets(frame), last=False)

    def finish(self) -> bytes:
        return self._framing.packets(self._packets(None), last=True)

    def _packets(self, frame: av.AudioFrame | None) -> list[tuple[bytes, int]]:
        """Each packet's bytes, with the sample count through its end (never past the samples given)."""
        return [
            (bytes(packet), min(int(packet.pts or 0) + int(packet.duration or 0), self._samples_in))
            for packet in self._context.encode(frame)
        ]


class _Framing(Protocol):
    """How a codec's packets become bytes on the wire."""

    def packets(self, packets: list[tuple[bytes, int]], *, last: bool) -> bytes:
        """The bytes for these (packet, samples through its end) pairs; `last` ends the stream."""
        ...


class _RawFraming:
    """Packets back to back: mp3 frames carry their own headers, so their concatenation is the file."""

    def packets(self, packets: list[tuple[bytes, int]], *, last: bool) -> bytes:
        return b"".join(data for data, _ in packets)


_MP3_KBPS = {8000: 32, 16000: 32, 22050: 48, 24000: 48, 44100: 64, 48000: 64}
_OPUS_BPS = 32000


def _context(codec: str, rate: int, layout: str, sample_format: str) -> av.AudioCodecContext:
    context = av.CodecContext.create(codec, "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate = rate
    context.layout = layout
    context.format = sample_format
    return context


def _mp3(rate: int) -> Encoder:
    context = _context("libmp3lame", rate, "mono", "fltp")
    context.bit_rate = _MP3_KBPS[rate] * 1000
    context.open()
    return _CodecEncoder(context, _RawFraming())


def _ogg_opus(rate: int) -> Encoder:
    context = _context("libopus", rate, "mono", "flt")
    context.bit_rate = _OPUS_BPS
    # Unconstrained VBR may spend twice the target on buzzy, strongly tonal voices; keep the size predictable.
    context.options = {"vbr": "constrained"}
    context.open()
    head = bytes(context.extradata or b"")
    pre_skip = struct.unpack_from("<H", head, 10)[0]
    vendor = b"altostratus"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    # Opus granule positions count the decoder's pre-skip too (RFC 7845 section 4).
    return _CodecEncoder(context, _OggFraming([head, tags], granule_offset=pre_skip))


def _ogg_vorbis(rate: int) -> Encoder:
    # FFmpeg's own Vorbis encoder (the one PyAV's wheels carry) is experimental and codes stereo only, so the
    # mono voice goes in as two identical channels; channel coupling codes the second one at little cost.
    context = _context("vorbis", rate, "stereo", "fltp")
    # Its default quality codes speech cleanly; its qscale mode attenuates the signal, so it is left alone.
    context.options = {"strict": "experimental"}
    context.open()
    return _CodecEncoder(context, _OggFraming(_xiph_laced(bytes(context.extradata or b"")), granule_offset=0))


def _xiph_laced(extradata: bytes) -> list[bytes]:
    """The packets of FFmpeg's Xiph-laced extradata (how it stores Vorbis's three headers)."""
    count = extradata[0] + 1
    sizes, at = [], 1
    for _ in range(count - 1):
        size = 0
        while extradata[at] == 255:
            size, at = size + 255, at + 1
        sizes.append(size + extradata[at])
        at += 1
    packets = []
    for size in sizes:
        packets.append(extradata[at : at + size])
        at += size
    packets.append(extradata[at:])
    return packets


_ENCODERS: dict[str, Callable[[int], Encoder]] = {
    "pcm": lambda rate: _SampleEncoder(pcm_bytes),
    "mulaw": lambda rate: _SampleEncoder(mulaw_bytes),
    "alaw": lambda rate: _SampleEncoder(alaw_bytes),
    "mp3": _mp3,
    "ogg_opus": _ogg_opus,
    "ogg_vorbis": _ogg_vorbis,
}


def open_encoder(output_format: str, sample_rate: int) -> Encoder:
    """A new streaming encoder for one request (encoders are not shared; separate ones run in parallel)."""
    fmt = audio_format(output_format)
    if sample_rate not in fmt.sample_rates:
        raise InvalidSampleRate(
            f"SampleRate={sample_rate!r} is not valid for OutputFormat={output_format!r}; "
            f"expected one of {list(fmt.sample_rates)}"
        )
    return _ENCODERS[output_format](sample_rate)


# ---- Ogg pages -------------------------------------------------------------------------------------------

_REVERSED_BITS = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))


def ogg_crc(data: bytes) -> int:
    """Ogg's page checksum: CRC-32 with polynomial 0x04C11DB7, not reflected, starting at 0, no final xor.

    zlib's CRC-32 is the same polynomial reflected; fed the bytes bit-reversed, its result bit-reversed is
    Ogg's, at C speed instead of a Python loop over every byte.
    """
    reflected = zlib.crc32(data.translate(_REVERSED_BITS), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


_BOS, _CONTINUED, _EOS = 0x02, 0x01, 0x04
_MAX_SEGMENTS = 255


class _OggFraming:
    """One logical Ogg stream: the headers on their own pages, then a flushed page (or more) per chunk."""

    def __init__(self, headers: list[bytes], *, granule_offset: int) -> None:
        self._serial = secrets.randbits(32)
        self._sequence = 0
        self._granule_offset = granule_offset
        self._granule = granule_offset
        # The identification header alone on the first page; the others on pages of their own before audio.
        self._pending = self._pages([(headers[0], 0)], first=True) + self._pages([(h, 0) for h in headers[1:]])

    def packets(self, packets: list[tuple[bytes, int]], *, last: bool) -> bytes:
        out, self._pending = self._pending, b""
        placed = [(data, self._granule_offset + samples) for data, samples in packets]
        if placed or last:
            out += self._pages(placed, last=last)
        return out

    def _pages(self, packets: list[tuple[bytes, int]], *, first: bool = False, last: bool = False) -> bytes:
        """Pages holding these packets, the final one flushed (and marked last if `last`)."""
        segments: list[tuple[int, int | None]] = []  # (lacing value, granule if a packet ends here)
        for data, granule in packets:
            lacing = [255] * (len(data) // 255) + [len(data) % 255]
            segments += [(value, None) for value in lacing[:-1]] + [(lacing[-1], granule)]
        body = b"".join(data for data, _ in packets)
        pages: list[bytes] = []
        continued = False
        for start in range(0, max(len(segments), 1), _MAX_SEGMENTS):
            chunk = segments[start : start + _MAX_SEGMENTS]
            ends = [granule for _, granule in chunk if granule is not None]
            self._granule = ends[-1] if ends else self._granule
            flags = (_BOS if first and not pages else 0) | (_CONTINUED if continued else 0)
            flags |= _EOS if last and start + _MAX_SEGMENTS >= len(segments) else 0
            # A page on which no packet ends carries granule -1; an empty closing page keeps the last one.
            granule = self._granule if ends or not chunk else -1
            size = sum(value for value, _ in chunk)
            pages.append(self._page(flags, granule, bytes(value for value, _ in chunk), body[:size]))
            body, continued = body[size:], bool(chunk) and chunk[-1][0] == 255
        return b"".join(pages)

    def _page(self, flags: int, granule: int, lacing: bytes, body: bytes) -> bytes:
        header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, self._serial, self._sequence, 0, len(lacing))
        self._sequence += 1
        page = header + lacing + body
        return page[:22] + struct.pack("<I", ogg_crc(page)) + page[26:]
