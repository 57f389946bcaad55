"""Lex V2's runtime API (boto3's `lexv2-runtime`, rest-json, signing name `lex`) over the bots runtime.

Handlers parse, call, wrap. RecognizeText honours sessionState.sessionAttributes and requestAttributes; a client
that sends another part of sessionState (a dialog action or intent to impose) is refused, since this server does
not apply those yet.
"""

from __future__ import annotations

from typing import Any

from altostratus.api.context import Call
from altostratus.api.model_adapters import Handler, RestJsonAdapter, operation_handlers
from altostratus.bots.lex_shapes import interpretations_json, session_state_json
from altostratus.bots.runtime import BotRuntime, TurnRequest
from altostratus.bots.store import SessionKey
from altostratus.core.clock import Clock
from altostratus.core.errors import ValidationError

HONOURED_STATE = {"sessionAttributes"}


class LexRuntimeApi:
    """Lex V2 runtime operations: text turns and sessions."""

    def __init__(self, runtime: BotRuntime, clock: Clock) -> None:
        self._runtime = runtime
        self._clock = clock

    def adapter(self) -> RestJsonAdapter:
        """The rest-json adapter."""
        return RestJsonAdapter("lexv2-runtime", self.handlers())

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler."""
        return operation_handlers(self, "lexv2-runtime")

    def recognize_text(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        state = params.get("sessionState") or {}
        unhonoured = sorted(set(state) - HONOURED_STATE)
        if unhonoured:
            raise ValidationError(
                f"sessionState members {unhonoured} are not applied by RecognizeText here; "
                f"send only {sorted(HONOURED_STATE)}, or set the session with PutSession"
            )
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

    def get_session(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        session = self._runtime.session(_key(params))
        return {"sessionId": session.session_id, "sessionState": session_state_json(session, self._clock.now())}

    def delete_session(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        key = _key(params)
        self._runtime.delete_session(key)
        return {"botId": key.bot_id, "botAliasId": key.alias_id, "localeId": key.locale_id, "sessionId": key.session_id}


def _key(params: dict[str, Any]) -> SessionKey:
    return SessionKey(params["botId"], params["botAliasId"], params["localeId"], params["sessionId"])
