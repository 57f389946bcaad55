"""What a build checks in a locale before it trains: faults that stop it, and warnings that do not."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict

import regex

from altostratus.bots.definitions import BUILTIN_SLOT_TYPES, Intent, LocaleDefinition

# Lex's regexFilter pattern is at most 300 characters.
MAX_PATTERN = 300
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclasses.dataclass(frozen=True)
class Findings:
    """The faults that fail a build (Lex's failureReasons) and the warnings it lists beside a success."""

    faults: tuple[str, ...]
    warnings: tuple[str, ...]


def check_locale(locale: LocaleDefinition) -> Findings:
    """Every fault and warning in one locale, each naming the intent, slot or slot type at fault."""
    faults = [*_slot_type_faults(locale)]
    for intent in locale.intents:
        faults.extend(_intent_faults(locale, intent))
    if not any(intent.utterances for intent in locale.intents if not intent.is_fallback):
        faults.append(f"Locale {locale.locale_id}: no intent has a sample utterance; add at least one")
    return Findings(tuple(faults), tuple(_duplicate_utterances(locale)))


def _slot_type_faults(locale: LocaleDefinition) -> list[str]:
    faults = []
    for kind in locale.slot_types:
        if kind.parent is None and not kind.values and kind.pattern is None:
            faults.append(f"Slot type {kind.name}: it has no values, no pattern and no parent type")
        if kind.pattern is not None and len(kind.pattern) > MAX_PATTERN:
            faults.append(
                f"Slot type {kind.name}: its pattern has {len(kind.pattern)} characters; at most {MAX_PATTERN}"
            )
        elif kind.pattern is not None:
            try:
                regex.compile(kind.pattern)
            except regex.error as error:
                faults.append(f"Slot type {kind.name}: its pattern {kind.pattern!r} is not a regex: {error}")
        chain, parent = [kind.name], kind.parent
        while parent is not None and parent not in BUILTIN_SLOT_TYPES:
            if parent in chain:
                faults.append(f"Slot type {kind.name}: circular reference through {' -> '.join([*chain, parent])}")
                break
            found = locale.slot_type(parent)
            if found is None:
                faults.append(f"Slot type {kind.name}: its parent type {parent!r} is not defined")
                break
            chain.append(parent)
            parent = found.parent
    return faults


def _intent_faults(locale: LocaleDefinition, intent: Intent) -> list[str]:
    faults = []
    names = [slot.name for slot in intent.slots]
    for name in {name for name in names if names.count(name) > 1}:
        faults.append(f"Intent {intent.name}: slot {name} is defined twice")
    for slot in intent.slots:
        if slot.slot_type not in BUILTIN_SLOT_TYPES and locale.slot_type(slot.slot_type) is None:
            faults.append(f"Intent {intent.name}, slot {slot.name}: slot type {slot.slot_type!r} is not defined")
        if slot.required and (slot.prompt is None or not slot.prompt.responses):
            faults.append(f"Intent {intent.name}, slot {slot.name}: a required slot needs a prompt")
    for utterance in (*intent.utterances, *(u for slot in intent.slots for u in slot.utterances)):
        for name in PLACEHOLDER.findall(utterance):
            if name not in names:
                faults.append(f"Intent {intent.name}: utterance {utterance!r} names slot {{{name}}}, which it lacks")
    if intent.is_fallback and intent.utterances:
        faults.append(f"Intent {intent.name}: the fallback intent cannot have sample utterances")
    return faults


def _duplicate_utterances(locale: LocaleDefinition) -> list[str]:
    owners: dict[str, list[str]] = defaultdict(list)
    for intent in locale.intents:
        for utterance in intent.utterances:
            key = " ".join(utterance.lower().split())
            if intent.name not in owners[key]:
                owners[key].append(intent.name)
    return [
        f"Utterance {key!r} is in {len(found)} intents ({', '.join(found)}): the NLU cannot tell them apart by it"
        for key, found in owners.items()
        if len(found) > 1
    ]
