"""Bots written as YAML (`alto bots import booking.yaml`): the file format, read into definitions and written back.

The keys are snake_case names of our own nouns, shorter than Lex's export JSON, for people to write by hand:

    bot: BookTrip
    idle_session_seconds: 300
    locales:
      en_US:
        confidence_threshold: 0.4
        slot_types:
          RoomType: {resolution: TopResolution, values: [{value: king, synonyms: [king size]}, queen]}
        intents:
          BookHotel:
            utterances: ["book a hotel in {Location}"]
            slots:
              - {name: Location, type: AMAZON.City, prompt: ["Which city?", "Where will you stay?"], retries: 2}
            confirmation: Shall I book it?
            declination: Okay, I will not book it.
            closing: Booked.
            hooks: {dialog: true, fulfillment: true}
            output_contexts: [{name: HotelBooked, turns: 5, seconds: 300}]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from altostratus.bots.definitions import (
    BotDefinition,
    Context,
    Intent,
    LocaleDefinition,
    Message,
    Prompt,
    Resolution,
    Response,
    Slot,
    SlotType,
    SlotTypeValue,
)
from altostratus.core.errors import ValidationError


def load_bot(text: str) -> BotDefinition:
    """The bot a YAML document defines; a fault names the key at fault and what is allowed."""
    try:
        # libyaml's loader when PyYAML has it (ten times quicker), the same safe constructors either way.
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise ValidationError(f"The bot file is not YAML: {error}") from error
    top = _mapping(document, "the bot file")
    locales = _mapping(top.get("locales", {}), "locales")
    return BotDefinition(
        name=_text(top.get("bot"), "bot"),
        locales=tuple(_locale(str(key), _mapping(value, f"locales.{key}")) for key, value in locales.items()),
        idle_session_seconds=_number(top.get("idle_session_seconds", 300), "idle_session_seconds", 60, 86400),
        description=str(top.get("description", "")),
        role_arn=str(top.get("role_arn", "")),
        child_directed=bool(top.get("child_directed", False)),
    )


def dump_bot(bot: BotDefinition) -> str:
    """The YAML document for `bot`, which load_bot reads back to the same definition."""
    document = {
        "bot": bot.name,
        "description": bot.description,
        "idle_session_seconds": bot.idle_session_seconds,
        **({"role_arn": bot.role_arn} if bot.role_arn else {}),
        **({"child_directed": True} if bot.child_directed else {}),
        "locales": {locale.locale_id: _locale_document(locale) for locale in bot.locales},
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _locale(locale_id: str, document: Mapping[str, Any]) -> LocaleDefinition:
    where = f"locales.{locale_id}"
    kinds = _mapping(document.get("slot_types", {}), f"{where}.slot_types")
    intents = _mapping(document.get("intents", {}), f"{where}.intents")
    threshold = document.get("confidence_threshold", 0.4)
    if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise ValidationError(f"{where}.confidence_threshold={threshold!r}; expected a number from 0 to 1")
    return LocaleDefinition(
        locale_id=locale_id,
        intents=tuple(_intent(str(k), _mapping(v or {}, f"{where}.intents.{k}"), where) for k, v in intents.items()),
        slot_types=tuple(_slot_type(str(k), _mapping(v, f"{where}.slot_types.{k}")) for k, v in kinds.items()),
        confidence_threshold=float(threshold),
        voice_id=document.get("voice"),
        description=str(document.get("description", "")),
        code_hook=None if document.get("code_hook") is None else str(document["code_hook"]),
    )


def _slot_type(name: str, document: Mapping[str, Any]) -> SlotType:
    strategy = document.get("resolution", Resolution.ORIGINAL_VALUE.value)
    allowed = [choice.value for choice in Resolution]
    if strategy not in allowed:
        raise ValidationError(f"slot_types.{name}.resolution={strategy!r}; expected one of {allowed}")
    values = []
    for entry in document.get("values", []):
        if isinstance(entry, str):
            values.append(SlotTypeValue(entry))
        else:
            entry = _mapping(entry, f"slot_types.{name}.values")
            synonyms = tuple(str(word) for word in entry.get("synonyms", []))
            values.append(SlotTypeValue(_text(entry.get("value"), f"slot_types.{name}.values.value"), synonyms))
    return SlotType(
        name=name,
        values=tuple(values),
        resolution=Resolution(strategy),
        pattern=document.get("pattern"),
        parent=document.get("parent"),
        description=str(document.get("description", "")),
    )


def _intent(name: str, document: Mapping[str, Any], where: str) -> Intent:
    hooks = _mapping(document.get("hooks", {}), f"{where}.intents.{name}.hooks")
    contexts = document.get("output_contexts", [])
    return Intent(
        name=name,
        utterances=tuple(str(line) for line in document.get("utterances", [])),
        slots=tuple(_slot(_mapping(entry, f"{where}.intents.{name}.slots")) for entry in document.get("slots", [])),
        confirmation=_prompt(document.get("confirmation"), 2),
        declination=_response(document.get("declination")),
        closing=_response(document.get("closing")),
        fulfilled=_response(document.get("fulfilled")),
        failed=_response(document.get("failed")),
        dialog_hook=bool(hooks.get("dialog", False)),
        fulfillment_hook=bool(hooks.get("fulfillment", False)),
        input_contexts=tuple(str(context) for context in document.get("input_contexts", [])),
        output_contexts=tuple(
            Context(str(c["name"]), int(c.get("turns", 5)), int(c.get("seconds", 90))) for c in contexts
        ),
        parent=document.get("parent"),
        description=str(document.get("description", "")),
    )


def _slot(document: Mapping[str, Any]) -> Slot:
    name = _text(document.get("name"), "slots.name")
    return Slot(
        name=name,
        slot_type=_text(document.get("type"), f"slots.{name}.type"),
        required=bool(document.get("required", True)),
        prompt=_prompt(document.get("prompt"), int(document.get("retries", 2))),
        utterances=tuple(str(line) for line in document.get("utterances", [])),
        description=str(document.get("description", "")),
        dialog_hook=bool(document.get("dialog_hook", True)),
        default=None if document.get("default") is None else str(document["default"]),
    )


def _prompt(said: Any, retries: int) -> Prompt | None:
    response = _response(said)
    return None if response is None else Prompt((response,), max_retries=retries)


def _response(said: Any) -> Response | None:
    """A string, or a list whose first item is the message and the rest its variations."""
    if said is None:
        return None
    lines = [said] if isinstance(said, str) else [str(line) for line in said]
    if not lines:
        return None
    messages = [Message(line, "SSML" if line.lstrip().startswith("<speak") else "PlainText") for line in lines]
    return Response(messages[0], tuple(messages[1:]))


def _locale_document(locale: LocaleDefinition) -> dict[str, Any]:
    document: dict[str, Any] = {"confidence_threshold": locale.confidence_threshold}
    if locale.voice_id:
        document["voice"] = locale.voice_id
    if locale.description:
        document["description"] = locale.description
    if locale.code_hook:
        document["code_hook"] = locale.code_hook
    document["slot_types"] = {kind.name: _slot_type_document(kind) for kind in locale.slot_types}
    document["intents"] = {intent.name: _intent_document(intent) for intent in locale.intents}
    return document


def _slot_type_document(kind: SlotType) -> dict[str, Any]:
    document: dict[str, Any] = {"resolution": kind.resolution.value}
    document["values"] = [{"value": v.value, "synonyms": list(v.synonyms)} for v in kind.values]
    for key, value in (("pattern", kind.pattern), ("parent", kind.parent), ("description", kind.description)):
        if value:
            document[key] = value
    return document


def _intent_document(intent: Intent) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if intent.parent:
        document["parent"] = intent.parent
    if intent.description:
        document["description"] = intent.description
    if intent.utterances:
        document["utterances"] = list(intent.utterances)
    if intent.slots:
        document["slots"] = [_slot_document(slot) for slot in intent.slots]
    if intent.confirmation:
        document["confirmation"] = _said(intent.confirmation.responses[0])
    for key in ("declination", "closing", "fulfilled", "failed"):
        if (response := getattr(intent, key)) is not None:
            document[key] = _said(response)
    if intent.dialog_hook or intent.fulfillment_hook:
        document["hooks"] = {"dialog": intent.dialog_hook, "fulfillment": intent.fulfillment_hook}
    if intent.input_contexts:
        document["input_contexts"] = list(intent.input_contexts)
    if intent.output_contexts:
        document["output_contexts"] = [
            {"name": c.name, "turns": c.turns, "seconds": c.seconds} for c in intent.output_contexts
        ]
    return document


def _slot_document(slot: Slot) -> dict[str, Any]:
    document: dict[str, Any] = {"name": slot.name, "type": slot.slot_type, "required": slot.required}
    if slot.prompt:
        document["prompt"] = _said(slot.prompt.responses[0])
        document["retries"] = slot.prompt.max_retries
    if slot.utterances:
        document["utterances"] = list(slot.utterances)
    if slot.description:
        document["description"] = slot.description
    if not slot.dialog_hook:
        document["dialog_hook"] = False
    if slot.default is not None:
        document["default"] = slot.default
    return document


def _said(response: Response) -> str | list[str]:
    lines = [message.text for message in response.choices()]
    return lines[0] if len(lines) == 1 else lines


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where} must be a mapping of names to definitions, not {type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where}={value!r}; expected a non-empty name")
    return value


def _number(value: Any, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(f"{where}={value!r}; expected a whole number from {low} to {high}")
    return value
