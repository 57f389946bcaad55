"""SynthesizeSpeech with unmodified boto3: every format and sample rate, streaming, and the audio's content."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.polly_audio import heard, seconds, speak
from tests.live_server import LiveServer
from tests.speech.audio_checks import decode, is_speech_like

pytestmark = pytest.mark.slow

SENTENCE = "The birch canoe slid on the smooth planks."
# Polly's allowed rates per format (botocore's model documents them).
RATES = {
    "mp3": ["8000", "16000", "22050", "24000", "44100", "48000"],
    "ogg_vorbis": ["8000", "16000", "22050", "24000", "44100", "48000"],
    "ogg_opus": ["48000"],
    "pcm": ["8000", "16000"],
    "mulaw": ["8000"],
    "alaw": ["8000"],
}
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "ogg_vorbis": "audio/ogg",
    "ogg_opus": "audio/ogg",
    "pcm": "audio/pcm",
    "mulaw": "audio/mulaw",
    "alaw": "audio/alaw",
}


@pytest.fixture(scope="module")
def polly(server: LiveServer) -> Any:
    return server.client("polly")


@pytest.mark.parametrize(("fmt", "rate"), [(f, r) for f, rates in RATES.items() for r in rates])
def test_every_format_and_rate_is_real_speech_of_the_right_length(polly: Any, fmt: str, rate: str) -> None:
    answer = polly.synthesize_speech(Text=SENTENCE, VoiceId="Joe", OutputFormat=fmt, SampleRate=rate)
    assert answer["ContentType"] == CONTENT_TYPES[fmt]
    assert answer["RequestCharacters"] == len(SENTENCE)
    samples = decode(answer["AudioStream"].read(), fmt, int(rate))
    # Eight words at a natural pace: about 2.3 s.
    assert 1.6 < samples.size / int(rate) < 3.5
    assert is_speech_like(samples, int(rate))


@pytest.mark.parametrize("voice", ["Joe", "Slt", "espeak-en-US", "Joanna", "Matthew", "Amy"])
def test_each_voice_says_the_sentence(polly: Any, voice: str) -> None:
    words = heard(polly, "The sun is shining and the birds are singing.", voice=voice)
    # espeak-ng is robotic: Whisper tiny may miss a word of it, never most of them.
    assert len({"sun", "shining", "birds", "singing"} & set(words)) >= 3, words


def test_the_default_rates_are_polly_s(polly: Any) -> None:
    neural = polly.synthesize_speech(Text="Hi there.", VoiceId="Joe", OutputFormat="mp3")
    standard = polly.synthesize_speech(Text="Hi there.", VoiceId="Slt", OutputFormat="mp3")
    # The rate is inside the mp3 frames: decoding at the default gives a sensible length only at the right one.
    assert 0.3 < decode(neural["AudioStream"].read(), "mp3", 24000).size / 24000 < 2.0
    assert 0.3 < decode(standard["AudioStream"].read(), "mp3", 22050).size / 22050 < 2.0


def test_audio_streams_before_the_whole_text_is_spoken(server: LiveServer, polly: Any) -> None:
    text = " ".join(f"This is sentence number {n}, and it is spoken on its own." for n in range(1, 11))
    started = time.perf_counter()
    answer = polly.synthesize_speech(Text=text, VoiceId="Joe", OutputFormat="pcm", SampleRate="16000")
    chunks = answer["AudioStream"].iter_chunks(1024)
    first = next(chunks)
    first_at = time.perf_counter() - started
    rest = b"".join(chunks)
    total = time.perf_counter() - started
    assert first and len(first) + len(rest) > 16000 * 2 * 20
    assert first_at < total / 2, (first_at, total)


def test_a_long_text_in_another_language(polly: Any) -> None:
    samples = speak(polly, "Guten Morgen, wie geht es Ihnen heute?", voice="espeak-de-DE")
    assert 1.0 < seconds(samples) < 5.0 and is_speech_like(samples, 16000)


def test_normalised_text_is_read_as_a_person_reads_it(polly: Any) -> None:
    written = "Dr. Smith paid $3.50 for 2 coffees on the 2nd of May."
    spelled = "Doctor Smith paid three dollars fifty for two coffees on the second of May."
    # Whisper writes numbers back as digits ("$3.50"), so the audio is compared with that of the spelled text:
    # the same words make the same length, where espeak's literal "dollar three point five zero" would not.
    assert abs(seconds(speak(polly, written)) - seconds(speak(polly, spelled))) < 0.15
    assert {"smith", "paid", "coffees", "may"} <= set(heard(polly, written))


def test_non_ascii_text_is_spoken(polly: Any) -> None:
    samples = speak(polly, "The café served crème brûlée to the naïve señor.")
    assert 1.5 < seconds(samples) < 6.0 and is_speech_like(samples, 16000)
