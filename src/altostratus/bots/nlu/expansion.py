"""Sample utterances made into training sentences: each {Slot} filled with values of its type, tagged BIO.

Lex trains on the same thing: a bot's author writes "book a {RoomType} room in {Location}" and the values come
from the slot types. The fills are drawn with a fixed seed, so that a build is repeatable.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections.abc import Mapping, Sequence

import pycountry

from altostratus.bots.definitions import Intent, LocaleDefinition
from altostratus.bots.nlu.samples import BUILTIN_SAMPLES
from altostratus.bots.nlu.slot_tagger import OUTSIDE, TaggedText, Token, tokenize
from altostratus.bots.slot_values.places import city_names

PLACEHOLDER = re.compile(r"\{(\w+)\}")
# About this many training sentences per intent for the slot tagger, with 2 to 8 fills of each utterance.
SENTENCES_PER_INTENT = 1500


def type_values(locale: LocaleDefinition, slot_type: str) -> tuple[str, ...]:
    """Values (and synonyms) of a slot type to fill placeholders with: the custom type's, or built-in samples."""
    custom = locale.slot_type(slot_type)
    if custom is not None:
        listed = tuple(name for value in custom.values for name in (value.value, *value.synonyms))
        return listed or BUILTIN_SAMPLES.get(custom.parent or "", ()) or ("something",)
    return BUILTIN_SAMPLES.get(slot_type, ("something",))


def gazetteer_values(locale: LocaleDefinition) -> dict[str, tuple[str, ...]]:
    """Every known value of each slot type the locale uses, built-in places included."""
    kinds = {slot.slot_type for intent in locale.intents for slot in intent.slots}
    values = {kind: type_values(locale, kind) for kind in kinds}
    for kind in kinds:
        custom = locale.slot_type(kind)
        base = kind if custom is None else custom.parent or kind
        values[kind] = values[kind] + _places(base)
    return values


def _places(kind: str) -> tuple[str, ...]:
    if kind == "AMAZON.City":
        return city_names()
    if kind == "AMAZON.Country":
        return _countries()
    return ()


@functools.cache
def _countries() -> tuple[str, ...]:
    names = (name for entry in pycountry.countries for name in (entry.name, getattr(entry, "common_name", "")))
    return tuple(name.lower() for name in names if name)


def expand(
    intent: Intent, locale: LocaleDefinition, *, slot_answers: bool = True, fills: int | None = None
) -> list[TaggedText]:
    """The intent's sample utterances (and its slots' answer utterances), filled `fills` times and tagged."""
    templates = list(intent.utterances)
    if slot_answers:
        templates += [u for slot in intent.slots for u in slot.utterances]
    slot_types = {slot.name: slot.slot_type for slot in intent.slots}
    if fills is None:
        fills = max(2, min(8, math.ceil(SENTENCES_PER_INTENT / max(1, len(templates)))))
    values = {name: type_values(locale, kind) for name, kind in slot_types.items()}
    out: list[TaggedText] = []
    for index, template in enumerate(templates):
        chance = random.Random(f"{intent.name}:{index}")
        copies = fills if PLACEHOLDER.search(template) else 1
        out += [fill(template, values, chance) for _ in range(copies)]
    return out


def fill(template: str, values: Mapping[str, Sequence[str]], chance: random.Random) -> TaggedText:
    """One filling of a template's placeholders, with BIO labels (an unknown slot's placeholder stays words)."""
    text, labels, tokens = "", list[str](), list[Token]()
    position = 0
    for match in PLACEHOLDER.finditer(template):
        text, tokens, labels = _words(template[position : match.start()], text, tokens, labels, OUTSIDE)
        options = values.get(match[1])
        if options:
            text, tokens, labels = _words(chance.choice(list(options)), text, tokens, labels, match[1])
        else:
            text, tokens, labels = _words(match[0], text, tokens, labels, OUTSIDE)
        position = match.end()
    text, tokens, labels = _words(template[position:], text, tokens, labels, OUTSIDE)
    return TaggedText(text, tuple(tokens), tuple(labels))


def _words(
    piece: str, text: str, tokens: list[Token], labels: list[str], slot: str
) -> tuple[str, list[Token], list[str]]:
    offset = len(text)
    new = [Token(t.text, t.start + offset, t.end + offset) for t in tokenize(piece)]
    tags = [OUTSIDE] * len(new) if slot == OUTSIDE else [f"{'I' if i else 'B'}-{slot}" for i in range(len(new))]
    return text + piece, tokens + new, labels + tags
