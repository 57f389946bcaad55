"""Lex V2's model-building API (boto3's `lexv2-models`, rest-json, signing name `lex`) over the bot store.

Bots, their locales, intents, slots and slot types are edited in the DRAFT version (the one this server keeps;
versions and aliases are not served) and stored as the same definitions `alto bots import` writes, so a bot
made with boto3 exports as YAML and the other way round. BuildBotLocale starts the build job; DescribeBotLocale
reports its status and failure reasons. Members this server does not apply are refused, not ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from altostratus.api.bots.lex_model_shapes import (
    derived_id,
    intent_json,
    locale_json,
    read_intent,
    read_slot,
    read_slot_type,
    refuse_unhonoured,
    slot_json,
    slot_type_json,
)
from altostratus.api.bots.lex_releases import ReleaseOperations
from altostratus.api.context import Call
from altostratus.api.model_adapters import Handler, RestJsonAdapter, operation_handlers
from altostratus.api.paging import PageTokens
from altostratus.bots.builds import LocaleBuilds
from altostratus.bots.definitions import BUILTIN_SLOT_TYPES, FALLBACK_PARENT, BotDefinition, Intent, LocaleDefinition
from altostratus.bots.releases import Releases
from altostratus.bots.store import BotNotFound, BotStore, StoredBot
from altostratus.core.errors import Conflict, ValidationError

DRAFT = "DRAFT"
PAGE = 100
T = TypeVar("T")
WHERE = {"botId", "botVersion", "localeId"}


class InvalidNextToken(ValidationError):
    """A nextToken this server did not hand out."""


TOKENS = PageTokens(InvalidNextToken, parameter="nextToken")


class LexModelsApi(ReleaseOperations):
    """Lex V2 model operations: bots, locales, slot types, intents, slots and builds on DRAFT; versions, aliases."""

    def __init__(self, store: BotStore, builds: LocaleBuilds, releases: Releases) -> None:
        self._store = store
        self._builds = builds
        self._releases = releases

    def adapter(self) -> RestJsonAdapter:
        """The rest-json adapter."""
        return RestJsonAdapter("lexv2-models", self.handlers())

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler."""
        return operation_handlers(self, "lexv2-models")

    # ---- bots -----------------------------------------------------------------------------------------

    def create_bot(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        refuse_unhonoured(
            params, {"botName", "description", "roleArn", "dataPrivacy", "idleSessionTTLInSeconds"}, "CreateBot"
        )
        stored = self._store.create(_bot(params, BotDefinition(str(params["botName"]))))
        return _bot_json(stored) | {"botStatus": "Available", "creationDateTime": stored.created_at}

    def describe_bot(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored = self._store.get(params["botId"])
        return _bot_json(stored) | {"creationDateTime": stored.created_at, "lastUpdatedDateTime": stored.updated_at}

    def update_bot(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        honoured = {"botId", "botName", "description", "roleArn", "dataPrivacy", "idleSessionTTLInSeconds"}
        refuse_unhonoured(params, honoured, "UpdateBot")
        stored = self._store.change(params["botId"], lambda bot: _bot(params, bot))
        return _bot_json(stored) | {"creationDateTime": stored.created_at, "lastUpdatedDateTime": stored.updated_at}

    def delete_bot(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._store.get(params["botId"])
        self._store.delete(params["botId"])
        self._releases.forget_bot(params["botId"])
        return {"botId": params["botId"], "botStatus": "Deleting"}

    def list_bots(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _refuse_list_options(params, "ListBots", "BotName")
        bots = self._store.list()
        summaries = [
            {
                "botId": b.bot_id,
                "botName": b.definition.name,
                "description": b.definition.description,
                "botStatus": "Available",
                "latestBotVersion": DRAFT,
                "lastUpdatedDateTime": b.updated_at,
                "botType": "Bot",
            }
            for b in bots
        ]
        return _page(summaries, params, "botSummaries")

    # ---- locales --------------------------------------------------------------------------------------

    def create_bot_locale(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        honoured = WHERE | {"description", "nluIntentConfidenceThreshold", "voiceSettings"}
        refuse_unhonoured(params, honoured, "CreateBotLocale")
        locale_id = params["localeId"]

        def add(bot: BotDefinition) -> BotDefinition:
            if bot.locale(locale_id) is not None:
                raise Conflict(f"Locale {locale_id!r} already exists in bot {params['botId']!r}")
            # Lex gives every new locale its FallbackIntent.
            fallback = Intent(
                "FallbackIntent", parent=FALLBACK_PARENT, description="Default intent when no other intent matches"
            )
            created = _locale(params, LocaleDefinition(locale_id, intents=(fallback,)))
            return dataclasses.replace(bot, locales=(*bot.locales, created))

        stored = self._edit(params, add)
        found = stored.definition.locale(locale_id)
        assert found is not None
        return (
            _where(params) | locale_json(found) | {"botLocaleStatus": "NotBuilt", "creationDateTime": stored.updated_at}
        )

    def describe_bot_locale(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored, locale = self._locale(params)
        status = self._builds.status(stored.bot_id, locale.locale_id)
        answer = _where(params) | locale_json(locale) | {"botLocaleStatus": status.status}
        answer |= {"failureReasons": list(status.failure_reasons), "creationDateTime": stored.created_at}
        return answer | {"lastUpdatedDateTime": stored.updated_at}

    def update_bot_locale(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        honoured = WHERE | {"description", "nluIntentConfidenceThreshold", "voiceSettings"}
        refuse_unhonoured(params, honoured, "UpdateBotLocale")
        stored = self._edit_locale(params, lambda locale: _locale(params, locale))
        found = stored.definition.locale(params["localeId"])
        assert found is not None
        status = self._builds.status(stored.bot_id, found.locale_id).status
        return (
            _where(params) | locale_json(found) | {"botLocaleStatus": status, "lastUpdatedDateTime": stored.updated_at}
        )

    def delete_bot_locale(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        self._locale(params)
        locale_id = params["localeId"]
        self._edit(
            params,
            lambda bot: dataclasses.replace(
                bot, locales=tuple(each for each in bot.locales if each.locale_id != locale_id)
            ),
        )
        return _where(params) | {"botLocaleStatus": "Deleting"}

    def list_bot_locales(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _refuse_list_options(params, "ListBotLocales", "BotLocaleName")
        stored = self._bot(params)
        summaries = [
            {
                "localeId": locale.locale_id,
                "localeName": locale.locale_id,
                "description": locale.description,
                "botLocaleStatus": self._builds.status(stored.bot_id, locale.locale_id).status,
                "lastUpdatedDateTime": stored.updated_at,
            }
            for locale in sorted(stored.definition.locales, key=lambda each: each.locale_id)
        ]
        return {"botId": stored.bot_id, "botVersion": DRAFT} | _page(summaries, params, "botLocaleSummaries")

    def build_bot_locale(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored, locale = self._locale(params)
        self._builds.start(stored.bot_id, locale.locale_id)
        # As Lex answers: the build has started; faults show as Failed in DescribeBotLocale, as soon as it settles.
        return _where(params) | {"botLocaleStatus": "Building"}

    # ---- slot types -----------------------------------------------------------------------------------

    def create_slot_type(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        honoured = WHERE | {
            "slotTypeName",
            "description",
            "slotTypeValues",
            "valueSelectionSetting",
            "parentSlotTypeSignature",
        }
        refuse_unhonoured(params, honoured, "CreateSlotType")
        kind = read_slot_type(params)

        def add(locale: LocaleDefinition) -> LocaleDefinition:
            if locale.slot_type(kind.name) is not None or kind.name in BUILTIN_SLOT_TYPES:
                raise Conflict(f"Slot type {kind.name!r} already exists in locale {locale.locale_id!r}")
            return dataclasses.replace(locale, slot_types=(*locale.slot_types, kind))

        stored = self._edit_locale(params, add)
        return self._slot_type_answer(params, stored, kind.name)

    def describe_slot_type(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored, locale = self._locale(params)
        return self._slot_type_answer(params, stored, self._slot_type_name(params, locale))

    def update_slot_type(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        honoured = WHERE | {
            "slotTypeId",
            "slotTypeName",
            "description",
            "slotTypeValues",
            "valueSelectionSetting",
            "parentSlotTypeSignature",
        }
        refuse_unhonoured(params, honoured, "UpdateSlotType")
        kind = read_slot_type(params)

        def change(locale: LocaleDefinition) -> LocaleDefinition:
            old = self._slot_type_name(params, locale)
            intents = tuple(_retyped(intent, old, kind.name) for intent in locale.intents)
            kinds = tuple(kind if k.name == old else k for k in locale.slot_types)
            return dataclasses.replace(locale, slot_types=kinds, intents=intents)

        stored = self._edit_locale(params, change)
        return self._slot_type_answer(params, stored, kind.name)

    def delete_slot_type(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        def drop(locale: LocaleDefinition) -> LocaleDefinition:
            name = self._slot_type_name(params, locale)
            users = [f"{i.name}.{s.name}" for i in locale.intents for s in i.slots if s.slot_type == name]
            if users and not params.get("skipResourceInUseCheck"):
                raise Conflict(f"Slot type {name!r} is used by the slots {users}")
            return dataclasses.replace(locale, slot_types=tuple(k for k in locale.slot_types if k.name != name))

        self._edit_locale(params, drop)
        return {}

    def list_slot_types(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _refuse_list_options(params, "ListSlotTypes", "SlotTypeName")
        stored, locale = self._locale(params)
        bot_id = stored.bot_id
        summaries = [
            {
                "slotTypeId": self._id(bot_id, locale, "slottype", k.name),
                "slotTypeName": k.name,
                "description": k.description,
                "lastUpdatedDateTime": stored.updated_at,
                "slotTypeCategory": "Custom",
                **({"parentSlotTypeSignature": k.parent} if k.parent else {}),
            }
            for k in sorted(locale.slot_types, key=lambda k: k.name)
        ]
        return _where(params) | _page(summaries, params, "slotTypeSummaries")

    # ---- intents --------------------------------------------------------------------------------------

    def create_intent(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        refuse_unhonoured(params, WHERE | INTENT_MEMBERS, "CreateIntent")
        intent = read_intent(params)

        def add(locale: LocaleDefinition) -> LocaleDefinition:
            if locale.intent(intent.name) is not None:
                raise Conflict(f"Intent {intent.name!r} already exists in locale {locale.locale_id!r}")
            return dataclasses.replace(locale, intents=(*locale.intents, intent))

        stored = self._edit_locale(params, add)
        return self._intent_answer(params, stored, intent.name)

    def describe_intent(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored, locale = self._locale(params)
        bot_id = stored.bot_id
        return self._intent_answer(params, stored, self._intent(params, bot_id, locale).name)

    def update_intent(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        refuse_unhonoured(params, WHERE | INTENT_MEMBERS | {"intentId", "slotPriorities"}, "UpdateIntent")

        def change(locale: LocaleDefinition) -> LocaleDefinition:
            bot_id = params["botId"]
            old = self._intent(params, bot_id, locale)
            slots = _prioritised(
                old, params.get("slotPriorities"), lambda s: self._id(bot_id, locale, "slot", old.name, s)
            )
            new = read_intent(params, slots)
            if new.name != old.name and locale.intent(new.name) is not None:
                raise Conflict(f"Intent {new.name!r} already exists in locale {locale.locale_id!r}")
            return dataclasses.replace(locale, intents=tuple(new if i.name == old.name else i for i in locale.intents))

        stored = self._edit_locale(params, change)
        return self._intent_answer(params, stored, str(params["intentName"]))

    def delete_intent(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        def drop(locale: LocaleDefinition) -> LocaleDefinition:
            name = self._intent(params, params["botId"], locale).name
            return dataclasses.replace(locale, intents=tuple(i for i in locale.intents if i.name != name))

        self._edit_locale(params, drop)
        return {}

    def list_intents(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _refuse_list_options(params, "ListIntents", "IntentName")
        stored, locale = self._locale(params)
        bot_id = stored.bot_id
        summaries = [
            {
                "intentId": self._id(bot_id, locale, "intent", i.name),
                "intentName": i.name,
                "description": i.description,
                "inputContexts": [{"name": c} for c in i.input_contexts],
                "outputContexts": [
                    {"name": c.name, "timeToLiveInSeconds": c.seconds, "turnsToLive": c.turns}
                    for c in i.output_contexts
                ],
                "lastUpdatedDateTime": stored.updated_at,
                **({"parentIntentSignature": i.parent} if i.parent else {}),
            }
            for i in sorted(locale.intents, key=lambda i: i.name)
        ]
        return _where(params) | _page(summaries, params, "intentSummaries")

    # ---- slots ----------------------------------------------------------------------------------------

    def create_slot(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        refuse_unhonoured(params, WHERE | SLOT_MEMBERS | {"intentId"}, "CreateSlot")

        def add(locale: LocaleDefinition) -> LocaleDefinition:
            bot_id = params["botId"]
            intent = self._intent(params, bot_id, locale)
            slot = read_slot(params, self._slot_type_of(params, bot_id, locale))
            if intent.slot(slot.name) is not None:
                raise Conflict(f"Slot {slot.name!r} already exists in intent {intent.name!r}")
            changed = dataclasses.replace(intent, slots=(*intent.slots, slot))
            return dataclasses.replace(
                locale, intents=tuple(changed if i.name == intent.name else i for i in locale.intents)
            )

        stored = self._edit_locale(params, add)
        return self._slot_answer(params, stored, str(params["slotName"]))

    def describe_slot(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        stored, locale = self._locale(params)
        bot_id = stored.bot_id
        intent = self._intent(params, bot_id, locale)
        return self._slot_answer(params, stored, self._slot(params, bot_id, locale, intent).name)

    def update_slot(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        refuse_unhonoured(params, WHERE | SLOT_MEMBERS | {"intentId", "slotId"}, "UpdateSlot")

        def change(locale: LocaleDefinition) -> LocaleDefinition:
            bot_id = params["botId"]
            intent = self._intent(params, bot_id, locale)
            old = self._slot(params, bot_id, locale, intent)
            new = read_slot(params, self._slot_type_of(params, bot_id, locale))
            changed = dataclasses.replace(intent, slots=tuple(new if s.name == old.name else s for s in intent.slots))
            return dataclasses.replace(
                locale, intents=tuple(changed if i.name == intent.name else i for i in locale.intents)
            )

        stored = self._edit_locale(params, change)
        return self._slot_answer(params, stored, str(params["slotName"]))

    def delete_slot(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        def drop(locale: LocaleDefinition) -> LocaleDefinition:
            bot_id = params["botId"]
            intent = self._intent(params, bot_id, locale)
            name = self._slot(params, bot_id, locale, intent).name
            changed = dataclasses.replace(intent, slots=tuple(s for s in intent.slots if s.name != name))
            return dataclasses.replace(
                locale, intents=tuple(changed if i.name == intent.name else i for i in locale.intents)
            )

        self._edit_locale(params, drop)
        return {}

    def list_slots(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        _refuse_list_options(params, "ListSlots", "SlotName")
        stored, locale = self._locale(params)
        bot_id = stored.bot_id
        intent = self._intent(params, bot_id, locale)
        summaries = [
            {
                "slotId": self._id(bot_id, locale, "slot", intent.name, s.name),
                "slotName": s.name,
                "description": s.description,
                "slotConstraint": "Required" if s.required else "Optional",
                "slotTypeId": self._type_id(bot_id, locale, s.slot_type),
                "lastUpdatedDateTime": stored.updated_at,
            }
            for s in sorted(intent.slots, key=lambda s: s.name)
        ]
        return _where(params) | {"intentId": params["intentId"]} | _page(summaries, params, "slotSummaries")

    # ---- lookups --------------------------------------------------------------------------------------

    def _bot(self, params: dict[str, Any]) -> StoredBot:
        if params.get("botVersion", DRAFT) != DRAFT:
            raise BotNotFound(f"Bot version {params['botVersion']!r} does not exist: only DRAFT is kept here")
        return self._store.get(params["botId"])

    def _locale(self, params: dict[str, Any]) -> tuple[StoredBot, LocaleDefinition]:
        stored = self._bot(params)
        locale = stored.definition.locale(params["localeId"])
        if locale is None:
            raise BotNotFound(f"Locale {params['localeId']!r} does not exist in bot {stored.bot_id!r}")
        return stored, locale

    def _edit(self, params: dict[str, Any], edit: Callable[[BotDefinition], BotDefinition]) -> StoredBot:
        self._bot(params)
        return self._store.change(params["botId"], edit)

    def _edit_locale(self, params: dict[str, Any], edit: Callable[[LocaleDefinition], LocaleDefinition]) -> StoredBot:
        locale_id = params["localeId"]

        def whole(bot: BotDefinition) -> BotDefinition:
            if bot.locale(locale_id) is None:
                raise BotNotFound(f"Locale {locale_id!r} does not exist in bot {params['botId']!r}")
            return dataclasses.replace(
                bot, locales=tuple(edit(each) if each.locale_id == locale_id else each for each in bot.locales)
            )

        return self._edit(params, whole)

    def _id(self, bot_id: str, locale: LocaleDefinition, kind: str, *names: str) -> str:
        return derived_id(bot_id, locale.locale_id, kind, *names)

    def _type_id(self, bot_id: str, locale: LocaleDefinition, name: str) -> str:
        return name if name in BUILTIN_SLOT_TYPES else self._id(bot_id, locale, "slottype", name)

    def _intent(self, params: dict[str, Any], bot_id: str, locale: LocaleDefinition) -> Intent:
        return _by_id(
            locale.intents, params["intentId"], lambda i: self._id(bot_id, locale, "intent", i.name), "Intent"
        )

    def _slot(self, params: dict[str, Any], bot_id: str, locale: LocaleDefinition, intent: Intent) -> Any:
        return _by_id(
            intent.slots, params["slotId"], lambda s: self._id(bot_id, locale, "slot", intent.name, s.name), "Slot"
        )

    def _slot_type_name(self, params: dict[str, Any], locale: LocaleDefinition) -> str:
        bot_id = params["botId"]
        return _by_id(
            locale.slot_types, params["slotTypeId"], lambda k: self._type_id(bot_id, locale, k.name), "Slot type"
        ).name

    def _slot_type_of(self, params: dict[str, Any], bot_id: str, locale: LocaleDefinition) -> str:
        wanted = params.get("slotTypeId")
        if not wanted:
            raise ValidationError("slotTypeId is required: a custom type's id or a built-in name such as AMAZON.Date")
        if wanted in BUILTIN_SLOT_TYPES:
            return str(wanted)
        return _by_id(locale.slot_types, wanted, lambda k: self._type_id(bot_id, locale, k.name), "Slot type").name

    def _slot_type_answer(self, params: dict[str, Any], stored: StoredBot, name: str) -> dict[str, Any]:
        bot_id = stored.bot_id
        locale = stored.definition.locale(params["localeId"])
        assert locale is not None
        kind = locale.slot_type(name)
        assert kind is not None
        found = slot_type_json(kind) | {"slotTypeId": self._type_id(bot_id, locale, name)}
        return (
            _where(params) | found | {"creationDateTime": stored.created_at, "lastUpdatedDateTime": stored.updated_at}
        )

    def _intent_answer(self, params: dict[str, Any], stored: StoredBot, name: str) -> dict[str, Any]:
        bot_id = stored.bot_id
        locale = stored.definition.locale(params["localeId"])
        assert locale is not None
        intent = locale.intent(name)
        assert intent is not None
        ids = {s.name: self._id(bot_id, locale, "slot", name, s.name) for s in intent.slots}
        found = intent_json(intent, ids) | {"intentId": self._id(bot_id, locale, "intent", name)}
        return (
            _where(params) | found | {"creationDateTime": stored.created_at, "lastUpdatedDateTime": stored.updated_at}
        )

    def _slot_answer(self, params: dict[str, Any], stored: StoredBot, name: str) -> dict[str, Any]:
        bot_id = stored.bot_id
        locale = stored.definition.locale(params["localeId"])
        assert locale is not None
        intent = self._intent(params, bot_id, locale)
        slot = intent.slot(name)
        assert slot is not None
        found = slot_json(slot, self._type_id(bot_id, locale, slot.slot_type))
        found |= {"slotId": self._id(bot_id, locale, "slot", intent.name, name), "intentId": params["intentId"]}
        return (
            _where(params) | found | {"creationDateTime": stored.created_at, "lastUpdatedDateTime": stored.updated_at}
        )


INTENT_MEMBERS = {
    "intentName",
    "description",
    "parentIntentSignature",
    "sampleUtterances",
    "dialogCodeHook",
    "fulfillmentCodeHook",
    "intentConfirmationSetting",
    "intentClosingSetting",
    "inputContexts",
    "outputContexts",
}
SLOT_MEMBERS = {"slotName", "description", "slotTypeId", "valueElicitationSetting"}


def _by_id(items: Sequence[T], wanted: str, id_of: Callable[[T], str], what: str) -> T:
    found = next((item for item in items if id_of(item) == wanted), None)
    if found is None:
        raise BotNotFound(f"{what} {wanted!r} does not exist")
    return found


def _prioritised(intent: Intent, priorities: Any, id_of: Callable[[str], str]) -> tuple[Any, ...]:
    """The intent's slots in the order of slotPriorities (those it leaves out keep their order, after)."""
    if not priorities:
        return intent.slots
    by_id = {id_of(slot.name): slot for slot in intent.slots}
    ordered = []
    for entry in sorted(priorities, key=lambda p: int(p["priority"])):
        if entry["slotId"] not in by_id:
            raise ValidationError(f"slotPriorities names {entry['slotId']!r}, which is not a slot of {intent.name!r}")
        ordered.append(by_id.pop(entry["slotId"]))
    return (*ordered, *(s for s in intent.slots if s in by_id.values()))


def _retyped(intent: Intent, old: str, new: str) -> Intent:
    if old == new:
        return intent
    slots = tuple(dataclasses.replace(s, slot_type=new) if s.slot_type == old else s for s in intent.slots)
    return dataclasses.replace(intent, slots=slots)


def _bot(params: dict[str, Any], bot: BotDefinition) -> BotDefinition:
    idle = int(params.get("idleSessionTTLInSeconds", bot.idle_session_seconds))
    if not 60 <= idle <= 86400:
        raise ValidationError(f"idleSessionTTLInSeconds={idle}; expected 60 to 86400")
    return dataclasses.replace(
        bot,
        name=str(params.get("botName", bot.name)),
        description=str(params.get("description", bot.description)),
        idle_session_seconds=idle,
        role_arn=str(params.get("roleArn", bot.role_arn)),
        child_directed=bool((params.get("dataPrivacy") or {}).get("childDirected", bot.child_directed)),
    )


def _bot_json(stored: StoredBot) -> dict[str, Any]:
    bot = stored.definition
    return {
        "botId": stored.bot_id,
        "botName": bot.name,
        "description": bot.description,
        "roleArn": bot.role_arn,
        "dataPrivacy": {"childDirected": bot.child_directed},
        "idleSessionTTLInSeconds": bot.idle_session_seconds,
        "botStatus": "Available",
        "botType": "Bot",
    }


def _locale(params: dict[str, Any], locale: LocaleDefinition) -> LocaleDefinition:
    threshold = float(params.get("nluIntentConfidenceThreshold", locale.confidence_threshold))
    if not 0 <= threshold <= 1:
        raise ValidationError(f"nluIntentConfidenceThreshold={threshold}; expected 0 to 1")
    voice = (params.get("voiceSettings") or {}).get("voiceId", locale.voice_id)
    engine = (params.get("voiceSettings") or {}).get("engine")
    if engine not in (None, "neural", "standard"):
        raise ValidationError(f"voiceSettings.engine={engine!r}; neural or standard are served")
    description = str(params.get("description", locale.description))
    return dataclasses.replace(locale, confidence_threshold=threshold, voice_id=voice, description=description)


def _where(params: dict[str, Any]) -> dict[str, Any]:
    return {"botId": params["botId"], "botVersion": params.get("botVersion", DRAFT), "localeId": params["localeId"]}


def _refuse_list_options(params: dict[str, Any], operation: str, sort_attribute: str) -> None:
    if params.get("filters"):
        raise ValidationError(f"{operation}: filters are not applied by this server; leave them out")
    sort = params.get("sortBy") or {}
    if sort and (sort.get("attribute") != sort_attribute or sort.get("order", "Ascending") != "Ascending"):
        raise ValidationError(f"{operation}: lists come sorted by {sort_attribute} Ascending only")


def _page(items: list[dict[str, Any]], params: dict[str, Any], member: str) -> dict[str, Any]:
    size = min(int(params.get("maxResults") or PAGE), PAGE)
    start = TOKENS.offset(params.get("nextToken"))
    following = start + size if start + size < len(items) else None
    return {member: items[start : start + size], **TOKENS.next_page(following)}
