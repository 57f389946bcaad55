"""A session in Lex V2's JSON shapes: what code hooks receive and return, and what the runtime answers.

Code hooks are functions written for Lex, so their event is Lex's own format (`sessionState`, `interpretations`,
`invocationSource`, `inputTranscript`); the same shapes make the runtime's answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from altostratus.bots.interpretations import Interpretation, SlotValue
from altostratus.bots.session import ActiveContext, Session


def slot_json(value: SlotValue | None) -> dict[str, Any] | None:
    """One slot as Lex writes it: a Scalar with its original, interpreted and resolved values, or null."""
    if value is None:
        return None
    resolved = list(value.resolved)
    return {
        "shape": "Scalar",
        "value": {"originalValue": value.original, "interpretedValue": value.interpreted, "resolvedValues": resolved},
    }


def intent_json(name: str, slots: Mapping[str, SlotValue | None], **extra: str) -> dict[str, Any]:
    """An intent with its slots (and, for the session's own intent, its state and confirmation)."""
    return {"name": name, "slots": {key: slot_json(value) for key, value in slots.items()}, **extra}


def interpretations_json(found: list[Interpretation], session: Session) -> list[dict[str, Any]]:
    """The NLU's interpretations; the one the session follows carries its state and confirmation."""
    answer = []
    for interpretation in found:
        if interpretation.intent == session.intent and session.state is not None:
            intent = session_intent_json(session)
        else:
            intent = intent_json(interpretation.intent, interpretation.slots, state="InProgress")
        entry: dict[str, Any] = {"intent": intent, "interpretationSource": "Lex"}
        if intent["name"] != "FallbackIntent":
            entry["nluConfidence"] = {"score": round(interpretation.confidence, 2)}
        answer.append(entry)
    return answer


def session_intent_json(session: Session) -> dict[str, Any]:
    """The session's intent, slots, state and confirmation state."""
    extra = {"confirmationState": session.confirmation.value}
    if session.state is not None:
        extra["state"] = session.state.value
    return intent_json(session.intent or "", session.slots, **extra)


def session_state_json(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Lex's sessionState: the dialog action, the intent, the session attributes and the active contexts."""
    state: dict[str, Any] = {"sessionAttributes": dict(session.attributes)}
    if session.step is not None:
        action: dict[str, Any] = {"type": session.step.value}
        if session.slot_to_elicit:
            action["slotToElicit"] = session.slot_to_elicit
        state["dialogAction"] = action
    if session.intent is not None:
        state["intent"] = session_intent_json(session)
    contexts = session.active_contexts(now)
    if contexts:
        state["activeContexts"] = [context_json(context, now) for context in contexts]
    return state


def context_json(context: ActiveContext, now: dt.datetime) -> dict[str, Any]:
    """An active context with what is left of its life."""
    seconds = max(0, int((context.expires_at - now).total_seconds()))
    return {
        "name": context.name,
        "timeToLive": {"timeToLiveInSeconds": seconds, "turnsToLive": context.turns_left},
        "contextAttributes": dict(context.attributes),
    }


def read_slots(document: Any, where: str) -> dict[str, SlotValue | None]:
    """Slots in Lex's shape (from a hook's answer or PutSession) as slot values; a bad one raises ValueError."""
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise ValueError(f"{where}.slots must be an object")
    slots: dict[str, SlotValue | None] = {}
    for name, slot in document.items():
        if slot is None:
            slots[str(name)] = None
            continue
        value = slot.get("value") if isinstance(slot, Mapping) else None
        if not isinstance(value, Mapping) or "interpretedValue" not in value:
            raise ValueError(f"{where}.slots.{name} needs value.interpretedValue")
        interpreted = str(value["interpretedValue"])
        original = str(value.get("originalValue", interpreted))
        resolved = tuple(str(v) for v in value.get("resolvedValues", [interpreted]))
        slots[str(name)] = SlotValue(original, interpreted, resolved)
    return slots


def read_contexts(document: Any, now: dt.datetime) -> list[ActiveContext]:
    """Active contexts in Lex's shape as contexts; a bad one raises ValueError."""
    contexts = []
    for entry in document or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ValueError("activeContexts entries need a name")
        life = entry.get("timeToLive") or {}
        seconds, turns = int(life.get("timeToLiveInSeconds", 90)), int(life.get("turnsToLive", 5))
        if not 5 <= seconds <= 86400 or not 1 <= turns <= 20:
            raise ValueError(f"activeContexts {entry['name']}: timeToLiveInSeconds 5-86400, turnsToLive 1-20")
        attributes = {str(k): str(v) for k, v in (entry.get("contextAttributes") or {}).items()}
        contexts.append(ActiveContext(entry["name"], turns, now + dt.timedelta(seconds=seconds), attributes))
    return contexts
