"""Audio: every output format and rate round-trips and streams; resampling, effects and the format table."""

from __future__ import annotations

import itertools
import struct
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import lfilter

from altostratus.speech import audio
from altostratus.speech.audio_formats import FORMATS, content_type, sample_rate_for
from altostratus.speech.errors import InvalidParameter, InvalidSampleRate
from tests.speech.audio_checks import decode, duration_s, is_speech_like, rms_db

Samples = npt.NDArray[np.float32]

CASES = [(name, rate) for name, fmt in FORMATS.items() for rate in fmt.sample_rates]
LOSSLESS = {"pcm": 0.999, "mulaw": 0.99, "alaw": 0.99}
MP3_DELAY = 1105  # LAME's encoder delay in samples; without a LAME tag, decoders play it


def sweep(seconds: float, rate: int, start_hz: float, end_hz: float) -> Samples:
    """A linear chirp at -6 dBFS with 10 ms fades."""
    t = np.arange(round(seconds * rate)) / rate
    phase = 2 * np.pi * (start_hz * t + (end_hz - start_hz) * t**2 / (2 * seconds))
    tone = 0.5 * np.sin(phase)
    fade = round(0.01 * rate)
    tone[:fade] *= np.linspace(0, 1, fade)
    tone[-fade:] *= np.linspace(1, 0, fade)
    return tone.astype(np.float32)


def swept_signal(rate: int) -> Samples:
    """1.5 s: a rising sweep, a pause, a falling sweep, silence (all below 8 kHz's band edge)."""
    return np.concatenate(
        [
            sweep(0.5, rate, 300, 1200),
            audio.silence(200, rate),
            sweep(0.5, rate, 1200, 300),
            audio.silence(300, rate),
        ]
    )


def encode_in_chunks(name: str, rate: int, samples: Samples, pieces: int = 5) -> list[bytes]:
    """What each encode() call returned, then what finish() returned."""
    encoder = audio.open_encoder(name, rate)
    cuts = sorted({0, len(samples), *(len(samples) * k * k // (pieces * pieces) for k in range(1, pieces))})
    outputs = [encoder.encode(samples[a:b]) for a, b in itertools.pairwise(cuts)]
    return [*outputs, encoder.finish()]


def aligned_correlation(decoded: Samples, original: Samples, max_lag: int) -> float:
    """The best correlation coefficient of the decoded signal against the original, over lags 0..max_lag."""
    best = -1.0
    for lag in range(max_lag + 1):
        part = decoded[lag : lag + len(original)]
        if len(part) < len(original) * 0.95:
            break
        reference = original[: len(part)]
        best = max(best, float(np.corrcoef(part, reference)[0, 1]))
    return best


@pytest.mark.parametrize(("name", "rate"), CASES)
def test_round_trip_keeps_duration_and_content(name: str, rate: int) -> None:
    original = swept_signal(rate)
    data = b"".join(encode_in_chunks(name, rate, original))
    decoded = decode(data, name, rate)
    n = len(original)
    if name == "mp3":
        # LAME delays the start by 1105 samples and pads the end up to a whole frame (576 or 1152 samples).
        frame = 1152 if rate >= 32000 else 576
        assert n <= len(decoded) <= n + MP3_DELAY + frame
        assert duration_s(data, name, rate) - MP3_DELAY / rate == pytest.approx(1.5, rel=0.05)
        max_lag = MP3_DELAY + 8
    else:
        assert duration_s(data, name, rate) == pytest.approx(1.5, rel=0.05)
        max_lag = 8
    coarse = max(1, rate // 8000)  # searching lags at 8 kHz's step is enough to find the peak region
    lags = aligned_correlation(decoded[::coarse], original[::coarse], max_lag // coarse)
    assert lags > LOSSLESS.get(name, 0.9)


@pytest.mark.parametrize(("name", "rate"), CASES)
def test_encode_streams_before_finish(name: str, rate: int) -> None:
    tone = sweep(1.0, rate, 400, 800)
    encoder = audio.open_encoder(name, rate)
    first, second = encoder.encode(tone), encoder.encode(tone)
    # The second chunk's bytes are audio (not only headers), sent before the stream ends.
    assert first
    assert second
    if name.startswith("ogg"):
        assert second.startswith(b"OggS")  # each chunk ends on a flushed page, the next starts a page
    encoder.finish()


@pytest.mark.parametrize(("name", "rate"), CASES)
def test_each_format_has_its_magic(name: str, rate: int) -> None:
    original = swept_signal(rate)
    data = b"".join(encode_in_chunks(name, rate, original))
    if name == "mp3":
        assert data.startswith(b"ID3") or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    elif name.startswith("ogg"):
        assert data.startswith(b"OggS")
        first_page = data[: 27 + data[26] + sum(data[27 : 27 + data[26]])]
        assert (b"\x01vorbis" if name == "ogg_vorbis" else b"OpusHead") in first_page
        assert data[5] & 0x02  # beginning of stream
        assert data[data.rindex(b"OggS") + 5] & 0x04  # end of stream on the last page
    else:
        assert len(data) == len(original) * (2 if name == "pcm" else 1)


def test_pcm_is_little_endian_16_bit() -> None:
    data = audio.open_encoder("pcm", 16000).encode(np.array([0.0, 0.5, -1.0, 1.5], dtype=np.float32))
    assert struct.unpack("<4h", data) == (0, 16384, -32767, 32767)


def test_g711_codes_silence_and_extremes_as_the_standard_does() -> None:
    samples = np.array([0.0, 1.0, -1.0], dtype=np.float32)
    assert audio.mulaw_bytes(samples) == bytes([0xFF, 0x80, 0x00])
    assert audio.alaw_bytes(samples) == bytes([0xD5, 0xAA, 0x2A])


def test_encoders_run_in_parallel_threads() -> None:
    jobs = [(name, rate) for name, rate in CASES if name in {"mp3", "ogg_opus", "ogg_vorbis"}] * 2
    original = swept_signal(48000)

    def run(job: tuple[str, int]) -> Samples:
        name, rate = job
        signal = audio.resample(original, 48000, rate)
        return decode(b"".join(encode_in_chunks(name, rate, signal)), name, rate)

    expected = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(run, jobs))
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)


def test_open_encoder_refuses_a_rate_the_format_does_not_allow() -> None:
    with pytest.raises(InvalidSampleRate, match=r"22050.*ogg_opus.*48000"):
        audio.open_encoder("ogg_opus", 22050)
    with pytest.raises(InvalidParameter, match="'wav'"):
        audio.open_encoder("wav", 16000)


# ---- resampling ------------------------------------------------------------------------------------------


def peak_hz(samples: Samples, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize(
    ("from_rate", "to_rate", "n"),
    [(22050, 24000, 22050), (22050, 8000, 1001), (24000, 16000, 7), (48000, 22050, 48000), (16000, 16000, 5)],
)
def test_resample_length_is_rounded_exactly(from_rate: int, to_rate: int, n: int) -> None:
    out = audio.resample(np.zeros(n, dtype=np.float32), from_rate, to_rate)
    assert len(out) == round(n * to_rate / from_rate)
    assert out.dtype == np.float32


@pytest.mark.parametrize("to_rate", [8000, 16000, 24000, 44100, 48000])
def test_resample_keeps_a_tone_s_frequency_and_level(to_rate: int) -> None:
    rate = 22050
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    out = audio.resample(tone, rate, to_rate)
    assert peak_hz(out, to_rate) == pytest.approx(440, abs=2)
    assert rms_db(out[100:-100]) == pytest.approx(rms_db(tone), abs=0.1)


def test_resample_of_nothing_is_nothing() -> None:
    assert len(audio.resample(np.zeros(0, dtype=np.float32), 22050, 24000)) == 0


# ---- effects ---------------------------------------------------------------------------------------------


def vowel(rate: int, seconds: float = 1.0, pitch_hz: float = 125.0) -> Samples:
    """A voiced vowel /a/: a glottal pulse train through three formant resonators."""
    pulses = np.zeros(round(seconds * rate))
    pulses[:: round(rate / pitch_hz)] = 1.0
    voiced: npt.NDArray[np.float64] = pulses
    for formant, bandwidth in [(700, 80), (1220, 90), (2600, 120)]:
        radius = np.exp(-np.pi * bandwidth / rate)
        theta = 2 * np.pi * formant / rate
        voiced = lfilter([1 - radius], [1, -2 * radius * np.cos(theta), radius**2], voiced)
    scaled: Samples = (0.5 * voiced / np.max(np.abs(voiced))).astype(np.float32)
    return scaled


def band_levels_db(samples: Samples, rate: int) -> npt.NDArray[np.float64]:
    """Mean power in 250 Hz bands from 250 Hz to 4 kHz, in dB: each holds two harmonics, so it reads the envelope."""
    frame = 1024
    frames = np.lib.stride_tricks.sliding_window_view(samples, frame)[::256] * np.hanning(frame)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    freqs = np.fft.rfftfreq(frame, 1 / rate)
    edges = np.arange(250, 4001, 250)
    bands = [power[(freqs >= lo) & (freqs < hi)].mean() for lo, hi in itertools.pairwise(edges)]
    return 10 * np.log10(np.array(bands) + 1e-12)


def periodicity(samples: Samples, rate: int) -> float:
    """The highest normalized autocorrelation at pitch lags (2.5 to 15 ms): near 1 voiced, near 0 noise."""
    x = samples - samples.mean()
    full = np.correlate(x, x, "full")[len(x) - 1 :]
    return float(np.max(full[int(0.0025 * rate) : int(0.015 * rate)]) / full[0])


def test_whisper_keeps_the_formants_and_removes_the_voicing() -> None:
    rate = 22050
    voiced = vowel(rate)
    whispered = audio.whisper(voiced, rate)
    assert len(whispered) == len(voiced)
    assert whispered.dtype == np.float32
    assert periodicity(voiced, rate) > 0.8
    assert periodicity(whispered, rate) < 0.3
    envelope = np.corrcoef(band_levels_db(voiced, rate), band_levels_db(whispered, rate))[0, 1]
    assert envelope > 0.9
    assert rms_db(whispered) == pytest.approx(rms_db(voiced), abs=4)


def test_whisper_is_deterministic_and_keeps_silence_silent() -> None:
    rate = 16000
    voiced = np.concatenate([vowel(rate, 0.5), audio.silence(500, rate)])
    whispered = audio.whisper(voiced, rate)
    np.testing.assert_array_equal(whispered, audio.whisper(voiced, rate))
    assert not np.array_equal(whispered, audio.whisper(voiced, rate, seed=1))
    assert rms_db(whispered[-rate // 4 :]) < -100


def test_gain_scales_by_decibels() -> None:
    tone = sweep(0.5, 16000, 300, 600) * np.float32(0.5)
    np.testing.assert_allclose(audio.gain(tone, -6.0206), tone * 0.5, atol=1e-6)
    np.testing.assert_allclose(audio.gain(tone, 0.0), tone, atol=1e-7)


def test_gain_limits_softly_and_never_wraps() -> None:
    ramp = np.linspace(-1, 1, 2001, dtype=np.float32)
    loud = audio.gain(ramp, 12.0)
    assert np.max(np.abs(loud)) <= 1.0
    assert np.all(np.diff(loud) >= 0)  # still monotonic: no wrap-around, no flat clipping step at the knee
    assert np.all(np.sign(loud) == np.sign(ramp))
    assert loud[-1] > 0.99


def test_silence_and_beep() -> None:
    assert len(audio.silence(250, 22050)) == 5512
    assert not np.any(audio.silence(100, 8000))
    tone = audio.beep(200, 16000, hz=800)
    assert len(tone) == 3200
    assert peak_hz(tone, 16000) == pytest.approx(800, abs=5)
    assert abs(tone[0]) < 1e-6 and abs(tone[-1]) < 0.01  # faded: no click at either end
    assert rms_db(tone) == pytest.approx(-9.0, abs=0.5)  # a -6 dBFS peak sine


def test_speech_like_tells_speech_from_silence_and_steady_tones() -> None:
    rate = 16000
    syllables = np.concatenate([vowel(rate, 0.2), audio.silence(100, rate)] * 4)
    assert is_speech_like(syllables, rate)
    assert not is_speech_like(audio.silence(1000, rate), rate)
    assert not is_speech_like(audio.beep(1000, rate), rate)


# ---- the format table ------------------------------------------------------------------------------------

ALLOWED = {
    "mp3": ["8000", "16000", "22050", "24000", "44100", "48000"],
    "ogg_vorbis": ["8000", "16000", "22050", "24000", "44100", "48000"],
    "ogg_opus": ["48000"],
    "pcm": ["8000", "16000"],
    "mulaw": ["8000"],
    "alaw": ["8000"],
}


@pytest.mark.parametrize(("name", "rate"), [(n, r) for n, rates in ALLOWED.items() for r in rates])
def test_sample_rate_for_accepts_what_polly_allows(name: str, rate: str) -> None:
    assert sample_rate_for(name, rate, neural=False) == int(rate)


@pytest.mark.parametrize(
    ("name", "rate"),
    [("pcm", "22050"), ("ogg_opus", "24000"), ("mulaw", "16000"), ("mp3", "11025"), ("mp3", "22050.0"), ("mp3", "")],
)
def test_sample_rate_for_refuses_the_rest_naming_value_format_and_rates(name: str, rate: str) -> None:
    with pytest.raises(InvalidSampleRate) as raised:
        sample_rate_for(name, rate, neural=True)
    assert repr(rate) in raised.value.message
    assert name in raised.value.message
    assert all(allowed in raised.value.message for allowed in ALLOWED[name])
    assert raised.value.code == "InvalidSampleRateException"


@pytest.mark.parametrize(
    ("name", "standard", "neural"),
    [
        ("mp3", 22050, 24000),
        ("ogg_vorbis", 22050, 24000),
        ("ogg_opus", 48000, 48000),
        ("pcm", 16000, 16000),
        ("mulaw", 8000, 8000),
        ("alaw", 8000, 8000),
    ],
)
def test_default_rate_depends_on_the_engine_kind(name: str, standard: int, neural: int) -> None:
    assert sample_rate_for(name, None, neural=False) == standard
    assert sample_rate_for(name, None, neural=True) == neural


def test_speech_marks_have_a_content_type_but_no_sample_rate() -> None:
    assert content_type("json") == "application/x-json-stream"
    assert {name: content_type(name) for name in ALLOWED} == {
        "mp3": "audio/mpeg",
        "ogg_vorbis": "audio/ogg",
        "ogg_opus": "audio/ogg",
        "pcm": "audio/pcm",
        "mulaw": "audio/mulaw",
        "alaw": "audio/alaw",
    }
    with pytest.raises(InvalidParameter, match="'json'"):
        sample_rate_for("json", None, neural=False)
    with pytest.raises(InvalidParameter, match="'flac'"):
        content_type("flac")
