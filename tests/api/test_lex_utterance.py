"""RecognizeUtterance (text, and speech made by the speech service, answered with audio) and PutSession."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.lex_bots import EXAMPLES, import_bot
from tests.api.polly_audio import speak
from tests.live_server import LiveServer
from tests.speech.audio_checks import decode
from tests.speech_listening import transcribe, words

pytestmark = pytest.mark.slow
TEXT = "text/plain; charset=utf-8"
PCM = "audio/l16; rate=16000; channels=1"


@pytest.fixture(scope="module")
def lex(server: LiveServer) -> Any:
    return server.client("lexv2-runtime")


@pytest.fixture(scope="module")
def booktrip(server: LiveServer) -> str:
    return import_bot(server, EXAMPLES / "booktrip.yaml")


def unpack(header: str) -> Any:
    """A RecognizeUtterance header as Lex sends it: base64 of gzipped JSON."""
    return json.loads(gzip.decompress(base64.b64decode(header)))


def pack(value: Any, *, zipped: bool = True) -> str:
    raw = json.dumps(value).encode()
    return base64.b64encode(gzip.compress(raw) if zipped else raw).decode()


def utterance(lex: Any, bot: str, session: str, body: bytes, kind: str = TEXT, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = lex.recognize_utterance(
        botId=bot,
        botAliasId="TSTALIASID",
        localeId="en_US",
        sessionId=session,
        requestContentType=kind,
        inputStream=body,
        **extra,
    )
    return answer


def test_text_through_recognize_utterance_answers_in_lex_s_packed_headers(lex: Any, booktrip: str) -> None:
    answer = utterance(lex, booktrip, "u-text", b"book a hotel in Paris", responseContentType=TEXT)
    assert answer["inputMode"] == "Text" and answer["contentType"].startswith("text/plain")
    state = unpack(answer["sessionState"])
    assert state["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "CheckInDate"}
    assert state["intent"]["slots"]["Location"]["value"]["interpretedValue"] == "Paris"
    assert unpack(answer["messages"])[0]["content"] == "What day do you want to check in?"
    assert unpack(answer["interpretations"])[0]["intent"]["name"] == "BookHotel"
    assert unpack(answer["inputTranscript"]) == "book a hotel in Paris"
    assert answer["audioStream"].read() == b""


def test_a_spoken_request_is_understood_and_answered_with_audio(server: LiveServer, lex: Any, booktrip: str) -> None:
    polly = server.client("polly")
    request = speak(polly, "I want to book a hotel in Boston.", voice="Joe", fmt="pcm", rate="16000")
    pcm = (request * 32767).clip(-32768, 32767).astype("<i2").tobytes()
    answer = utterance(lex, booktrip, "u-speech", pcm, PCM, responseContentType="audio/pcm")
    assert answer["inputMode"] == "Speech"
    assert "hotel" in words(unpack(answer["inputTranscript"]))
    state = unpack(answer["sessionState"])
    assert state["intent"]["name"] == "BookHotel"
    assert state["intent"]["slots"]["Location"]["value"]["interpretedValue"] == "Boston"
    assert answer["contentType"] == "audio/pcm"
    reply = decode(answer["audioStream"].read(), "pcm", 16000)
    assert 1.0 < reply.size / 16000 < 6.0
    assert {"check", "day"} <= set(words(transcribe(reply, 16000)))


def test_mp3_answers_and_8_khz_lpcm_requests(server: LiveServer, lex: Any, booktrip: str) -> None:
    polly = server.client("polly")
    request = speak(polly, "I need a rental car.", voice="Joe", fmt="pcm", rate="8000")
    pcm = (request * 32767).clip(-32768, 32767).astype("<i2").tobytes()
    kind = "audio/lpcm; sample-rate=8000; sample-size-bits=16; channel-count=1; is-big-endian=false"
    answer = utterance(lex, booktrip, "u-lpcm", pcm, kind, responseContentType="audio/mpeg")
    assert unpack(answer["sessionState"])["intent"]["name"] == "BookCar"
    assert answer["contentType"] == "audio/mpeg"
    mp3 = answer["audioStream"].read()
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF


def test_ogg_opus_audio_is_heard(server: LiveServer, lex: Any, booktrip: str) -> None:
    polly = server.client("polly")
    opus = polly.synthesize_speech(
        Text="I need a rental car.", VoiceId="Joe", OutputFormat="ogg_opus", SampleRate="48000"
    )["AudioStream"].read()
    assert opus[:4] == b"OggS"
    answer = utterance(lex, booktrip, "u-opus", opus, "audio/ogg", responseContentType=TEXT)
    assert answer["inputMode"] == "Speech" and "car" in words(unpack(answer["inputTranscript"]))
    assert unpack(answer["sessionState"])["intent"]["name"] == "BookCar"


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("audio/x-cbr-opus-with-preamble; preamble-size=0; bit-rate=256000; frame-size-milliseconds=4", b"\x00" * 64),
        ("video/mp4", b"\x00" * 64),
        (PCM, b"\x00"),  # an odd number of bytes is not 16-bit PCM
        ("audio/ogg", b"not ogg at all"),
    ],
)
def test_audio_that_cannot_be_heard_is_refused(lex: Any, booktrip: str, kind: str, body: bytes) -> None:
    with pytest.raises(ClientError) as refused:
        utterance(lex, booktrip, "u-bad", body, kind)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_silence_is_refused_as_nothing_heard(lex: Any, booktrip: str) -> None:
    with pytest.raises(ClientError) as refused:
        utterance(lex, booktrip, "u-silence", b"\x00\x00" * 16000, PCM)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize("zipped", [True, False])
def test_session_attributes_in_the_packed_header_are_kept(lex: Any, booktrip: str, zipped: bool) -> None:
    state = pack({"sessionAttributes": {"customer": "c-7"}}, zipped=zipped)
    answer = utterance(lex, booktrip, f"u-attrs-{zipped}", b"book a hotel", sessionState=state)
    assert unpack(answer["sessionState"])["sessionAttributes"] == {"customer": "c-7"}


def test_a_packed_state_the_server_cannot_honour_or_read_is_refused(lex: Any, booktrip: str) -> None:
    for state in (pack({"dialogAction": {"type": "Close"}}), "%%% not base64"):
        with pytest.raises(ClientError) as refused:
            utterance(lex, booktrip, "u-refused", b"book a hotel", sessionState=state)
        assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_put_session_sets_the_dialog_and_the_next_turn_continues_from_it(lex: Any, booktrip: str) -> None:
    where = {"botId": booktrip, "botAliasId": "TSTALIASID", "localeId": "en_US", "sessionId": "u-put"}
    location = {"value": {"originalValue": "Rome", "interpretedValue": "Rome", "resolvedValues": ["Rome"]}}
    answer = lex.put_session(
        **where,
        sessionState={
            "dialogAction": {"type": "ElicitSlot", "slotToElicit": "CheckInDate"},
            "intent": {"name": "BookHotel", "slots": {"Location": location}, "state": "InProgress"},
            "sessionAttributes": {"channel": "web"},
        },
        messages=[{"contentType": "PlainText", "content": "When do you arrive in Rome?"}],
    )
    assert unpack(answer["messages"])[0]["content"] == "When do you arrive in Rome?"
    assert unpack(answer["sessionState"])["intent"]["name"] == "BookHotel"
    kept = lex.get_session(**where)["sessionState"]
    assert kept["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "CheckInDate"}
    assert kept["sessionAttributes"] == {"channel": "web"}
    turn = lex.recognize_text(**where, text="tomorrow")
    assert turn["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "Nights"}
    assert turn["sessionState"]["intent"]["slots"]["Location"]["value"]["interpretedValue"] == "Rome"


@pytest.mark.parametrize(
    "state",
    [
        {"dialogAction": {"type": "ElicitSlot", "slotToElicit": "Nights"}, "intent": {"name": "OrderPizza"}},
        {"dialogAction": {"type": "ElicitSlot"}, "intent": {"name": "BookHotel"}},
        {"dialogAction": {"type": "Dance"}},
    ],
)
def test_put_session_refuses_a_state_it_cannot_hold(lex: Any, booktrip: str, state: dict[str, Any]) -> None:
    where = {"botId": booktrip, "botAliasId": "TSTALIASID", "localeId": "en_US", "sessionId": "u-put-bad"}
    with pytest.raises(ClientError) as refused:
        lex.put_session(**where, sessionState=state)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
