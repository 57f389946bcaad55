"""Bad requests to Polly get Polly's error, with a message naming what was wrong, never a 500."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.errors import fails
from tests.live_server import LiveServer

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE speak [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<speak>&lol3;</speak>"""


@pytest.fixture(scope="module")
def polly(server: LiveServer) -> Any:
    return server.client("polly")


def synthesize(polly: Any, **changes: Any) -> Any:
    request = {"Text": "Hello.", "VoiceId": "Joe", "OutputFormat": "mp3", **changes}
    return lambda: polly.synthesize_speech(**request)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"VoiceId": "Nobody"}, "ValidationException"),
        ({"VoiceId": "Joe", "Engine": "standard"}, "EngineNotSupportedException"),
        ({"VoiceId": "Slt", "Engine": "neural"}, "EngineNotSupportedException"),
        ({"VoiceId": "Joanna", "Engine": "long-form"}, "EngineNotSupportedException"),
        ({"OutputFormat": "pcm", "SampleRate": "22050"}, "InvalidSampleRateException"),
        ({"OutputFormat": "mp3", "SampleRate": "11025"}, "InvalidSampleRateException"),
        ({"OutputFormat": "ogg_opus", "SampleRate": "16000"}, "InvalidSampleRateException"),
        ({"OutputFormat": "mp3", "SampleRate": "fast"}, "InvalidSampleRateException"),
        ({"OutputFormat": "wav"}, "ValidationException"),
        ({"OutputFormat": "json"}, "MarksNotSupportedForFormatException"),
        ({"OutputFormat": "mp3", "SpeechMarkTypes": ["word"]}, "MarksNotSupportedForFormatException"),
        ({"OutputFormat": "json", "SpeechMarkTypes": ["ssml"]}, "SsmlMarksNotSupportedForTextTypeException"),
        ({"Text": "x" * 7000}, "TextLengthExceededException"),
        ({"Text": "x" * 3001}, "TextLengthExceededException"),
        ({"Text": ""}, "ValidationException"),
        ({"Text": "   "}, "ValidationException"),
        ({"Text": "Hello\x07 there"}, "ValidationException"),
        ({"Text": "Hello\x00"}, "ValidationException"),
        ({"LanguageCode": "de-DE"}, "LanguageNotSupportedException"),
        ({"TextType": "ssml", "Text": "<speak>Hello <blink>there</blink></speak>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak>Hello <prosody rate='fast'>there</speak>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak>unclosed"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "Hello"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<p>Hello</p>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": BILLION_LAUGHS}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak>&undefined;</speak>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak><break time='20s'/></speak>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak><prosody rate='1000%'>a</prosody></speak>"}, "InvalidSsmlException"),
        (
            {"TextType": "ssml", "Text": "<speak><say-as interpret-as='nonsense'>1</say-as></speak>"},
            "InvalidSsmlException",
        ),
        (
            {"TextType": "ssml", "Text": "<speak><phoneme alphabet='klingon' ph='x'>a</phoneme></speak>"},
            "InvalidSsmlException",
        ),
        (
            {"TextType": "ssml", "Text": "<speak><amazon:domain name='news'>a</amazon:domain></speak>"},
            "InvalidSsmlException",
        ),
        ({"TextType": "ssml", "Text": "<speak><mark/></speak>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak>" + "x" * 3001 + "</speak>"}, "TextLengthExceededException"),
        ({"TextType": "html"}, "ValidationException"),
        ({"Text": "hi \ud800 there"}, "ValidationException"),
        ({"TextType": "ssml", "Text": "<speak>hi &#x7F; there</speak>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak>hi &#x85; there</speak>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak><lang xml:lang='zz-ZZ'>hi</lang></speak>"}, "InvalidSsmlException"),
        ({"TextType": "ssml", "Text": "<speak>" + "<break time='10s'/>" * 61 + "</speak>"}, "InvalidSsmlException"),
        ({"VoiceId": "Aditi", "Engine": "neural", "LanguageCode": "hi-IN"}, "EngineNotSupportedException"),
        ({"OutputFormat": "json", "SpeechMarkTypes": ["word"], "SampleRate": "12345"}, "InvalidSampleRateException"),
    ],
)
def test_bad_requests_get_polly_s_errors(polly: Any, changes: dict[str, Any], code: str) -> None:
    fails(synthesize(polly, **changes), code, 400)


def test_invalid_ssml_names_the_line_and_column(polly: Any) -> None:
    text = "<speak>\nHello <prosody rate='fast'>there</speak>"
    error = fails(synthesize(polly, TextType="ssml", Text=text), "InvalidSsmlException", 400)
    message = error.response["Error"]["Message"]
    assert "line 2" in message and "column" in message and "mismatched" in message


def test_a_billion_laughs_is_refused_at_once(polly: Any) -> None:
    started = time.perf_counter()
    error = fails(synthesize(polly, TextType="ssml", Text=BILLION_LAUGHS), "InvalidSsmlException", 400)
    assert time.perf_counter() - started < 2
    assert "DOCTYPE" in error.response["Error"]["Message"]


def test_unknown_tags_are_named(polly: Any) -> None:
    error = fails(
        synthesize(polly, TextType="ssml", Text="<speak><blink>x</blink></speak>"), "InvalidSsmlException", 400
    )
    assert "<blink>" in error.response["Error"]["Message"]


def test_nested_slow_prosody_stays_within_polly_s_range(polly: Any) -> None:
    slow = "<prosody rate='x-slow'>" * 20 + "hello" + "</prosody>" * 20
    answer = polly.synthesize_speech(Text=f"<speak>{slow}</speak>", TextType="ssml", VoiceId="Joe", OutputFormat="pcm")
    seconds = len(answer["AudioStream"].read()) / 2 / 16000
    assert seconds < 5  # 20% of the normal rate at the slowest, not 0.6 ** 20


def test_a_long_unpunctuated_text_is_spoken_in_bounded_pieces(polly: Any) -> None:
    answer = polly.synthesize_speech(Text="1 " * 1400, VoiceId="Joanna", Engine="neural", OutputFormat="pcm")
    assert len(answer["AudioStream"].read()) / 2 / 16000 > 100


def test_emoji_text_fits_the_body_limit(polly: Any) -> None:
    answer = polly.synthesize_speech(Text="Hello 😀😀😀. " * 250, VoiceId="espeak-en-US", OutputFormat="pcm")
    assert answer["RequestCharacters"] == len("Hello 😀😀😀. " * 250)
    assert len(answer["AudioStream"].read()) > 16000


def test_the_server_still_speaks_after_every_error(polly: Any) -> None:
    answer = polly.synthesize_speech(Text="Still here.", VoiceId="Joe", OutputFormat="mp3")
    assert len(answer["AudioStream"].read()) > 1000
