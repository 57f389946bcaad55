"""The Snips 2017 intent benchmark as a bot locale, and its scoring (intent accuracy, slot precision and recall).

Each Snips query becomes a sample utterance with {slot} placeholders where its entities were, and each entity
of an intent a custom slot type (OriginalValue, so values outside the list are kept) whose values are the ones
seen in training: what a Lex user importing these queries would write.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from altostratus.bots.definitions import Intent, LocaleDefinition, Resolution, Slot, SlotType, SlotTypeValue

FOLDER = "intent/snips_nlu_benchmark_2017"
ENGINES = ("Snips", "Luis", "Wit", "api.ai", "Alexa")


@dataclasses.dataclass(frozen=True)
class Query:
    """One Snips query: its text, intent and entities (slot name, the words)."""

    text: str
    intent: str
    slots: tuple[tuple[str, str], ...]


def intents(root: Path) -> list[str]:
    """The benchmark's intents."""
    return sorted(p.name for p in (root / FOLDER).iterdir() if (p / f"train_{p.name}.json").exists())


def queries(root: Path, kind: str, *, per_intent: int | None = None, seed: int = 0) -> list[Query]:
    """The `train` or `validate` queries, `per_intent` of each intent drawn at random when given."""
    found = []
    for intent in intents(root):
        path = root / FOLDER / intent / f"{kind}_{intent}.json"
        items = json.loads(path.read_bytes().decode("utf-8", "replace"))[intent]
        parsed = [_query(intent, item["data"]) for item in items]
        if per_intent is not None:
            parsed = random.Random(f"{seed}:{intent}").sample(parsed, min(per_intent, len(parsed)))
        found += parsed
    return found


def _query(intent: str, data: Sequence[Mapping[str, Any]]) -> Query:
    text = "".join(chunk["text"] for chunk in data)
    slots = tuple((chunk["entity"], chunk["text"].strip()) for chunk in data if "entity" in chunk)
    return Query(text, intent, slots)


def locale(train: Sequence[Query]) -> LocaleDefinition:
    """The training queries as a locale: utterances with placeholders, one open custom type per entity."""
    utterances: dict[str, list[str]] = {}
    values: dict[tuple[str, str], dict[str, None]] = {}
    for query in train:
        template = query.text.replace("{", "(").replace("}", ")")
        for name, words in query.slots:
            template = template.replace(words, "{" + name + "}", 1)
            values.setdefault((query.intent, name), {})[words] = None
        utterances.setdefault(query.intent, []).append(template)
    intents_ = []
    for intent, samples in utterances.items():
        names = sorted(name for kind, name in values if kind == intent)
        slots = tuple(Slot(name, type_name(intent, name), required=False) for name in names)
        intents_.append(Intent(intent, tuple(dict.fromkeys(samples)), slots))
    kinds = tuple(
        SlotType(type_name(intent, name), tuple(SlotTypeValue(v) for v in said), Resolution.ORIGINAL_VALUE)
        for (intent, name), said in values.items()
    )
    return LocaleDefinition("en_US", tuple(intents_), kinds)


def type_name(intent: str, slot: str) -> str:
    """The custom slot type of one intent's entity."""
    return f"{intent}_{slot}"


def normalised(words: str) -> str:
    """Slot words compared without case, outer punctuation or doubled spaces."""
    return " ".join(re.sub(r"^\W+|\W+$", "", words.lower()).split())


@dataclasses.dataclass
class Scores:
    """Counts for intent accuracy and per (intent, slot) precision and recall."""

    queries: int = 0
    intents_right: int = 0
    true_positives: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)
    predicted: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)
    expected: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)

    def add(self, query: Query, intent: str, slots: Sequence[tuple[str, str]]) -> None:
        """Score one answer: the intent it chose and the slots it found (slot name, the words)."""
        self.queries += 1
        self.intents_right += intent == query.intent
        gold = [(name, normalised(words)) for name, words in query.slots]
        found = [(name, normalised(words)) for name, words in slots] if intent == query.intent else []
        for name, _ in gold:
            key = (query.intent, name)
            self.expected[key] = self.expected.get(key, 0) + 1
        for name, _ in found:
            key = (intent, name)
            self.predicted[key] = self.predicted.get(key, 0) + 1
        remaining = list(gold)
        for pair in found:
            if pair in remaining:
                remaining.remove(pair)
                key = (query.intent, pair[0])
                self.true_positives[key] = self.true_positives.get(key, 0) + 1

    @property
    def accuracy(self) -> float:
        return self.intents_right / max(1, self.queries)

    def slot_figures(self, intent: str | None = None) -> dict[str, float]:
        """Micro-averaged slot precision, recall and F1, over one intent's slots or all."""
        keys = [k for k in self.expected.keys() | self.predicted.keys() if intent is None or k[0] == intent]
        hits = sum(self.true_positives.get(k, 0) for k in keys)
        predicted = sum(self.predicted.get(k, 0) for k in keys)
        expected = sum(self.expected.get(k, 0) for k in keys)
        precision, recall = hits / max(1, predicted), hits / max(1, expected)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def published(root: Path, intent: str, engine: str, size: str = "70") -> dict[str, float] | None:
    """An engine's published slot precision, recall and F1 for one intent (means over its runs and slots)."""
    path = root / FOLDER / intent / "published_metrics" / f"{engine}_metrics.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())["intents"][intent]
    precisions, recalls = [], []
    for slot in data.get("slots", {}).values():
        if size in slot.get("precision", {}) and size in slot.get("recall", {}):
            precisions += [float(v) for v in slot["precision"][size] if not math.isnan(float(v))]
            recalls += [float(v) for v in slot["recall"][size] if not math.isnan(float(v))]
    if not precisions or not recalls:
        return None
    precision, recall = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}
