"""Lex V2 model shapes (lexv2-models JSON) to and from the bots' definitions.

Intents, slots and slot types get ids derived from their names (ten characters of a SHA-256, as Lex's ids are
ten), so that no table maps them: renaming one gives it a new id, as deleting and creating it would.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.bots.definitions import (
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

MESSAGE_KINDS = {"plainTextMessage": "PlainText", "ssmlMessage": "SSML", "customPayload": "CustomPayload"}
WIRE_KINDS = {kind: wire for wire, kind in MESSAGE_KINDS.items()}


def derived_id(*names: str) -> str:
    """A ten-character id ([A-Z2-7]) for a named part of a bot."""
    digest = hashlib.sha256("\x00".join(names).encode()).digest()
    return base64.b32encode(digest).decode()[:10]


def refuse_unhonoured(params: Mapping[str, Any], honoured: set[str], operation: str) -> None:
    """ValidationException naming the members sent that this server does not apply."""
    extra = sorted(k for k, v in params.items() if k not in honoured and v not in (None, {}, []))
    if extra:
        raise ValidationError(f"{operation}: {extra} are not applied by this server; leave them out")


# ---- messages and prompts ----------------------------------------------------------------------------


def _message(document: Mapping[str, Any]) -> Message:
    for wire, kind in MESSAGE_KINDS.items():
        if wire in document:
            return Message(str(document[wire]["value"]), kind)
    raise ValidationError(f"a message needs one of {sorted(MESSAGE_KINDS)} (imageResponseCard is not served)")


def read_groups(groups: Sequence[Mapping[str, Any]] | None) -> tuple[Response, ...]:
    """Lex's messageGroups as responses."""
    return tuple(
        Response(_message(g["message"]), tuple(_message(v) for v in g.get("variations") or ())) for g in groups or ()
    )


def groups_json(responses: Sequence[Response]) -> list[dict[str, Any]]:
    """Responses as Lex's messageGroups."""

    def one(message: Message) -> dict[str, Any]:
        return {WIRE_KINDS[message.kind]: {"value": message.text}}

    return [
        {"message": one(r.message), **({"variations": [one(v) for v in r.variations]} if r.variations else {})}
        for r in responses
    ]


def read_prompt(document: Mapping[str, Any] | None) -> Prompt | None:
    """A promptSpecification."""
    if not document:
        return None
    responses = read_groups(document.get("messageGroups"))
    if not responses:
        raise ValidationError("promptSpecification.messageGroups needs at least one message group")
    return Prompt(responses, int(document.get("maxRetries", 2)), bool(document.get("allowInterrupt", True)))


def prompt_json(prompt: Prompt) -> dict[str, Any]:
    """A prompt as Lex's promptSpecification."""
    return {
        "messageGroups": groups_json(prompt.responses),
        "maxRetries": prompt.max_retries,
        "allowInterrupt": prompt.allow_interrupt,
    }


def _response(document: Mapping[str, Any] | None, key: str) -> Response | None:
    found = read_groups((document or {}).get(key, {}).get("messageGroups"))
    return found[0] if found else None


# ---- slot types, slots, intents, locales ---------------------------------------------------------------


def read_slot_type(params: Mapping[str, Any]) -> SlotType:
    """CreateSlotType/UpdateSlotType's input as a slot type."""
    values = tuple(
        SlotTypeValue(str(v["sampleValue"]["value"]), tuple(str(s["value"]) for s in v.get("synonyms") or ()))
        for v in params.get("slotTypeValues") or ()
    )
    selection = params.get("valueSelectionSetting") or {}
    strategy = selection.get("resolutionStrategy", "OriginalValue")
    if strategy not in {r.value for r in Resolution}:
        raise ValidationError(f"resolutionStrategy {strategy!r} is not served: OriginalValue or TopResolution")
    parent = (params.get("parentSlotTypeSignature") or None) and str(params["parentSlotTypeSignature"])
    pattern = (selection.get("regexFilter") or {}).get("pattern")
    return SlotType(
        str(params["slotTypeName"]), values, Resolution(strategy), pattern, parent, str(params.get("description", ""))
    )


def slot_type_json(kind: SlotType) -> dict[str, Any]:
    """A slot type in DescribeSlotType's shape."""
    selection: dict[str, Any] = {"resolutionStrategy": kind.resolution.value}
    if kind.pattern:
        selection["regexFilter"] = {"pattern": kind.pattern}
    found: dict[str, Any] = {
        "slotTypeName": kind.name,
        "description": kind.description,
        "slotTypeValues": [
            {
                "sampleValue": {"value": v.value},
                **({"synonyms": [{"value": s} for s in v.synonyms]} if v.synonyms else {}),
            }
            for v in kind.values
        ],
        "valueSelectionSetting": selection,
    }
    if kind.parent:
        found["parentSlotTypeSignature"] = kind.parent
    return found


def read_slot(params: Mapping[str, Any], slot_type: str) -> Slot:
    """CreateSlot/UpdateSlot's input as a slot of type `slot_type`."""
    setting = params["valueElicitationSetting"]
    defaults = (setting.get("defaultValueSpecification") or {}).get("defaultValueList") or []
    if len(defaults) > 1:
        raise ValidationError("defaultValueList: one default value is served (the first that applies is Lex's rule)")
    hook = ((setting.get("slotCaptureSetting") or {}).get("codeHook") or {}).get("enableCodeHookInvocation", True)
    return Slot(
        str(params["slotName"]),
        slot_type,
        required=setting.get("slotConstraint", "Required") == "Required",
        prompt=read_prompt(setting.get("promptSpecification")),
        utterances=tuple(str(u["utterance"]) for u in setting.get("sampleUtterances") or ()),
        description=str(params.get("description", "")),
        dialog_hook=bool(hook),
        default=str(defaults[0]["defaultValue"]) if defaults else None,
    )


def slot_json(slot: Slot, slot_type_id: str) -> dict[str, Any]:
    """A slot in DescribeSlot's shape."""
    setting: dict[str, Any] = {"slotConstraint": "Required" if slot.required else "Optional"}
    if slot.prompt is not None:
        setting["promptSpecification"] = prompt_json(slot.prompt)
    if slot.utterances:
        setting["sampleUtterances"] = [{"utterance": u} for u in slot.utterances]
    if slot.default is not None:
        setting["defaultValueSpecification"] = {"defaultValueList": [{"defaultValue": slot.default}]}
    return {
        "slotName": slot.name,
        "description": slot.description,
        "slotTypeId": slot_type_id,
        "valueElicitationSetting": setting,
    }


def read_intent(params: Mapping[str, Any], slots: tuple[Slot, ...] = ()) -> Intent:
    """CreateIntent/UpdateIntent's input as an intent with `slots`."""
    confirmation = params.get("intentConfirmationSetting") or {}
    closing = params.get("intentClosingSetting") or {}
    return Intent(
        str(params["intentName"]),
        tuple(str(u["utterance"]) for u in params.get("sampleUtterances") or ()),
        slots,
        confirmation=read_prompt(confirmation.get("promptSpecification")),
        declination=_response(confirmation, "declinationResponse"),
        closing=_response(closing, "closingResponse"),
        dialog_hook=bool((params.get("dialogCodeHook") or {}).get("enabled", False)),
        fulfillment_hook=bool((params.get("fulfillmentCodeHook") or {}).get("enabled", False)),
        input_contexts=tuple(str(c["name"]) for c in params.get("inputContexts") or ()),
        output_contexts=tuple(
            Context(str(c["name"]), int(c.get("turnsToLive", 5)), int(c.get("timeToLiveInSeconds", 90)))
            for c in params.get("outputContexts") or ()
        ),
        parent=(params.get("parentIntentSignature") or None) and str(params["parentIntentSignature"]),
        description=str(params.get("description", "")),
    )


def intent_json(intent: Intent, ids: Mapping[str, str]) -> dict[str, Any]:
    """An intent in DescribeIntent's shape; `ids` names each slot's id."""
    found: dict[str, Any] = {
        "intentName": intent.name,
        "description": intent.description,
        "sampleUtterances": [{"utterance": u} for u in intent.utterances],
        "dialogCodeHook": {"enabled": intent.dialog_hook},
        "fulfillmentCodeHook": {"enabled": intent.fulfillment_hook},
        "slotPriorities": [{"priority": i + 1, "slotId": ids[s.name]} for i, s in enumerate(intent.slots)],
        "inputContexts": [{"name": c} for c in intent.input_contexts],
        "outputContexts": [
            {"name": c.name, "timeToLiveInSeconds": c.seconds, "turnsToLive": c.turns} for c in intent.output_contexts
        ],
    }
    if intent.parent:
        found["parentIntentSignature"] = intent.parent
    if intent.confirmation is not None:
        setting: dict[str, Any] = {"promptSpecification": prompt_json(intent.confirmation)}
        if intent.declination is not None:
            setting["declinationResponse"] = {"messageGroups": groups_json([intent.declination])}
        found["intentConfirmationSetting"] = setting
    if intent.closing is not None:
        found["intentClosingSetting"] = {"closingResponse": {"messageGroups": groups_json([intent.closing])}}
    return found


def locale_json(locale: LocaleDefinition) -> dict[str, Any]:
    """A locale's settings in DescribeBotLocale's shape."""
    found: dict[str, Any] = {
        "localeId": locale.locale_id,
        "localeName": locale.locale_id,
        "description": locale.description,
        "nluIntentConfidenceThreshold": locale.confidence_threshold,
        "intentsCount": len(locale.intents),
        "slotTypesCount": len(locale.slot_types),
    }
    if locale.voice_id:
        found["voiceSettings"] = {"voiceId": locale.voice_id}
    return found
