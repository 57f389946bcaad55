"""Code hooks: the function a bot alias names, called with Lex V2's event and obeyed on its answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Protocol

from altostratus.bots.errors import DependencyFailed
from altostratus.bots.interpretations import Interpretation
from altostratus.bots.lex_shapes import interpretations_json, read_contexts, read_slots, session_state_json
from altostratus.bots.session import Confirmation, IntentState, Session, Step


class RunsFunctions(Protocol):
    """Calls a function with a JSON event and returns its JSON answer; raises DependencyFailed when it fails."""

    def call(self, function: str, event: Mapping[str, Any]) -> Any:
        """The function's answer to `event`."""
        ...


@dataclasses.dataclass(frozen=True)
class BotIdentity:
    """Which bot a turn belongs to, as the hook event names it."""

    bot_id: str
    bot_name: str
    alias_id: str
    alias_name: str
    locale_id: str
    version: str


@dataclasses.dataclass(frozen=True)
class HookCall:
    """Everything a hook event carries besides the session."""

    bot: BotIdentity
    function: str
    transcript: str
    interpretations: list[Interpretation]
    request_attributes: Mapping[str, str]
    input_mode: str = "Text"


@dataclasses.dataclass(frozen=True)
class HookAnswer:
    """What a hook said: the messages to send, in Lex's shape."""

    messages: list[dict[str, Any]]


def call_hook(runner: RunsFunctions, call: HookCall, source: str, session: Session, now: dt.datetime) -> HookAnswer:
    """Invoke the hook for `source` (DialogCodeHook or FulfillmentCodeHook) and apply its answer to `session`."""
    answer = runner.call(call.function, hook_event(call, source, session, now))
    try:
        return apply_answer(answer, session, now)
    except (ValueError, KeyError, TypeError) as error:
        raise DependencyFailed(f"Invalid Lambda Response: {error}") from error


def hook_event(call: HookCall, source: str, session: Session, now: dt.datetime) -> dict[str, Any]:
    """Lex V2's code hook event."""
    bot = call.bot
    return {
        "messageVersion": "1.0",
        "invocationSource": source,
        "inputMode": call.input_mode,
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": session.session_id,
        "inputTranscript": call.transcript,
        "bot": {
            "id": bot.bot_id,
            "name": bot.bot_name,
            "aliasId": bot.alias_id,
            "aliasName": bot.alias_name,
            "localeId": bot.locale_id,
            "version": bot.version,
        },
        "interpretations": interpretations_json(call.interpretations, session),
        "requestAttributes": dict(call.request_attributes),
        "sessionState": session_state_json(session, now),
        "transcriptions": [{"transcription": call.transcript, "transcriptionConfidence": 1.0}],
    }


def apply_answer(answer: Any, session: Session, now: dt.datetime) -> HookAnswer:
    """Obey a hook's answer: its dialog action, intent, slots and attributes; a malformed one raises ValueError."""
    if isinstance(answer, str | bytes):
        answer = json.loads(answer)
    if not isinstance(answer, Mapping) or not isinstance(answer.get("sessionState"), Mapping):
        raise ValueError("the answer needs a sessionState object")
    state = answer["sessionState"]
    action = state.get("dialogAction")
    if not isinstance(action, Mapping) or "type" not in action:
        raise ValueError("sessionState.dialogAction.type is required")
    step = Step(action["type"])
    slot_to_elicit = action.get("slotToElicit")
    if step is Step.ELICIT_SLOT and not slot_to_elicit:
        raise ValueError("dialogAction ElicitSlot needs slotToElicit")
    intent = state.get("intent")
    if isinstance(intent, Mapping):
        _apply_intent(intent, session)  # first: a new intent starts afresh, then takes the step asked for
    elif step is not Step.ELICIT_INTENT:
        raise ValueError(f"dialogAction {step.value} needs sessionState.intent")
    session.step, session.slot_to_elicit = step, slot_to_elicit
    if "sessionAttributes" in state:
        session.attributes = {str(k): str(v) for k, v in (state["sessionAttributes"] or {}).items()}
    if "activeContexts" in state:
        session.contexts = read_contexts(state["activeContexts"], now)
    return HookAnswer(_messages(answer.get("messages")))


def _apply_intent(intent: Mapping[str, Any], session: Session) -> None:
    name = intent.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("sessionState.intent.name is required")
    if name != session.intent:
        session.start(name, [])
    session.slots.update(read_slots(intent.get("slots"), "sessionState.intent"))
    if "state" in intent:
        session.state = IntentState(intent["state"])
    if "confirmationState" in intent:
        session.confirmation = Confirmation(intent["confirmationState"])


def _messages(document: Any) -> list[dict[str, Any]]:
    messages = []
    for message in document or []:
        if not isinstance(message, Mapping) or "content" not in message:
            raise ValueError("each message needs content")
        kind = message.get("contentType", "PlainText")
        if kind not in {"PlainText", "SSML", "CustomPayload", "ImageResponseCard"}:
            raise ValueError(
                f"message contentType={kind!r}; expected PlainText, SSML, CustomPayload or ImageResponseCard"
            )
        messages.append({"contentType": kind, "content": str(message["content"])})
    return messages
