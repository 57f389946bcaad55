"""Lex V2's runtime API (boto3's `lexv2-runtime`, rest-json, signing name `lex`) over the bots runtime.

Handlers parse, call, wrap. RecognizeText and RecognizeUtterance honour sessionState.sessionAttributes and
requestAttributes; a client that sends another part of sessionState (a dialog action or intent to impose) is
refused: PutSession sets those. RecognizeUtterance's headers are JSON, gzipped and base64-encoded as Lex sends
them (requests may send base64 JSON without gzip, as many clients do).
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from altostratus.api.context import Call
from altostratus.api.model_adapters import Handler, RestJsonAdapter, operation_handlers
from altostratus.bots.hooks import apply_answer
from altostratus.bots.lex_shapes import interpretations_json, session_state_json
from altostratus.bots.runtime import BotRuntime, TurnRequest
from altostratus.bots.session import Session
from altostratus.bots.store import SessionKey
from altostratus.bots.voice import HearsSpeech, SpeaksAnswers, answer_format, decode_audio, is_text
from altostratus.core.clock import Clock
from altostratus.core.errors import ValidationError

HONOURED_STATE = {"sessionAttributes"}
GZIP_MAGIC = b"\x1f\x8b"


class LexRuntimeApi:
    """Lex V2 runtime operations: text and spoken turns, and sessions."""

    def __init__(
        self, runtime: BotRuntime, clock: Clock, ears: HearsSpeech | None = None, voice: SpeaksAnswers | None = None
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._ears = ears
        self._voice = voice

    def adapter(self) -> RestJsonAdapter:
        """The rest-json adapter."""
        return RestJsonAdapter("lexv2-runtime", self.handlers())

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler."""
        return operation_handlers(self, "lexv2-runtime")

    def recognize_text(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        state = _honoured(params.get("sessionState") or {}, "RecognizeText")
        attributes = params.get("requestAttributes") or {}
        request = TurnRequest(_key(params), params["text"], attributes, state.get("sessionAttributes"))
        turn = self._runtime.turn(request)
        answer: dict[str, Any] = {
            "messages": turn.messages,
            "sessionState": session_state_json(turn.session, self._clock.now()),
            "interpretations": interpretations_json(turn.interpretations, turn.session),
            "sessionId": turn.session.session_id,
        }
        if attributes:
            answer["requestAttributes"] = attributes
        return answer

    def recognize_utterance(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        state = _honoured(_header_json(params.get("sessionState"), "x-amz-lex-session-state"), "RecognizeUtterance")
        attributes = _header_json(params.get("requestAttributes"), "x-amz-lex-request-attributes")
        kind = params.get("requestContentType") or ""
        body = params.get("inputStream") or b""
        spoken = answer_format(params.get("responseContentType") or "text/plain; charset=utf-8")
        if is_text(kind):
            text, mode = body.decode("utf-8", "replace"), "Text"
        else:
            samples = decode_audio(kind, body)
            if self._ears is None:
                raise ValidationError("speech input is not served by this server: send text/plain")
            text, mode = self._ears.transcribe(samples), "Speech"
            if not text.strip():
                raise ValidationError("No speech was heard in the audio")
        turn = self._runtime.turn(TurnRequest(_key(params), text, attributes, state.get("sessionAttributes"), mode))
        answer: dict[str, Any] = {
            "inputMode": mode,
            "messages": _header(turn.messages),
            "interpretations": _header(interpretations_json(turn.interpretations, turn.session)),
            "sessionState": _header(session_state_json(turn.session, self._clock.now())),
            "sessionId": turn.session.session_id,
            "inputTranscript": _header(turn.transcript),
            **({"requestAttributes": _header(attributes)} if attributes else {}),
        }
        return {**answer, **self._audio(turn.messages, spoken, _key(params))}

    def put_session(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        key = _key(params)
        session = Session(key.session_id)
        document = {"sessionState": params["sessionState"], "messages": params.get("messages")}
        try:
            messages = apply_answer(document, session, self._clock.now()).messages
        except (ValueError, KeyError, TypeError) as error:
            raise ValidationError(f"Invalid sessionState: {error}") from None
        session = self._runtime.put_session(key, session)
        spoken = answer_format(params.get("responseContentType") or "text/plain; charset=utf-8")
        answer: dict[str, Any] = {
            "messages": _header(messages),
            "sessionState": _header(session_state_json(session, self._clock.now())),
            "sessionId": key.session_id,
        }
        if params.get("requestAttributes"):
            answer["requestAttributes"] = _header(params["requestAttributes"])
        return {**answer, **self._audio(messages, spoken, key)}

    def _audio(
        self, messages: list[dict[str, str]], spoken: tuple[str, str, str] | None, key: SessionKey
    ) -> dict[str, Any]:
        """The answer's audio when the client asked for audio, else its content type alone."""
        if spoken is None:
            return {"contentType": "text/plain; charset=utf-8"}
        if self._voice is None:
            raise ValidationError("spoken answers are not served by this server: ask for text/plain")
        output_format, rate, content_type = spoken
        said = " ".join(m["content"] for m in messages if m.get("contentType") in ("PlainText", None)).strip()
        if not said:
            return {"contentType": content_type, "audioStream": b""}
        voice = self._runtime.voice_of(key)
        return {"contentType": content_type, "audioStream": self._voice.speak(said, voice, output_format, rate)}

    def get_session(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        session = self._runtime.session(_key(params))
        return {"sessionId": session.session_id, "sessionState": session_state_json(session, self._clock.now())}

    def delete_session(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        key = _key(params)
        self._runtime.delete_session(key)
        return {"botId": key.bot_id, "botAliasId": key.alias_id, "localeId": key.locale_id, "sessionId": key.session_id}


def _honoured(state: Any, operation: str) -> dict[str, Any]:
    if not isinstance(state, dict):
        raise ValidationError("sessionState must be a JSON object")
    unhonoured = sorted(set(state) - HONOURED_STATE)
    if unhonoured:
        raise ValidationError(
            f"sessionState members {unhonoured} are not applied by {operation} here; "
            f"send only {sorted(HONOURED_STATE)}, or set the session with PutSession"
        )
    return state


def _header_json(value: str | None, name: str) -> Any:
    """A request header's JSON: base64, gzipped or not; {} when absent."""
    if not value:
        return {}
    try:
        raw = base64.b64decode(value, validate=True)
        if raw.startswith(GZIP_MAGIC):
            raw = gzip.decompress(raw)
        return json.loads(raw)
    except (ValueError, OSError, EOFError) as error:
        raise ValidationError(f"{name} is not base64-encoded JSON (gzipped or not): {error}") from None


def _header(value: Any) -> str:
    """A response header as Lex sends it: the JSON, gzipped, base64-encoded."""
    return base64.b64encode(gzip.compress(json.dumps(value).encode(), mtime=0)).decode()


def _key(params: dict[str, Any]) -> SessionKey:
    return SessionKey(params["botId"], params["botAliasId"], params["localeId"], params["sessionId"])
