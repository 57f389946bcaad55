"""Slot filling as span tagging: a linear-chain CRF (CRFsuite) per intent, over words, context and gazetteers.

The CRF learns where a slot's value sits from the sample utterances with their {slot} placeholders filled
(bots/nlu/expansion). Gazetteer features say a word is part of a known value of a slot type; they are left out
of a share of the training sequences, so that the tagger also learns the context around values it never saw
("play songs by {artist}" tags an artist it does not know).
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pycrfsuite

TOKEN = re.compile(r"\w+(?:['\u2019]\w+)*|[^\w\s]")
OUTSIDE = "O"
# The gazetteer's longest value, in words.
LONGEST_VALUE = 6


@dataclasses.dataclass(frozen=True)
class Token:
    """A word of an utterance and where it is."""

    text: str
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class TaggedText:
    """An utterance with each token's label: B-Slot, I-Slot or O."""

    text: str
    tokens: tuple[Token, ...]
    labels: tuple[str, ...]


def tokenize(text: str) -> tuple[Token, ...]:
    """The words and punctuation of `text` with their character offsets."""
    return tuple(Token(m[0], m.start(), m.end()) for m in TOKEN.finditer(text))


class Gazetteer:
    """Known values of each slot type, as lowercased word sequences, matched longest first."""

    def __init__(self, values: Mapping[str, Sequence[str]]) -> None:
        self._kinds: dict[tuple[str, ...], set[str]] = {}
        for kind, names in values.items():
            for name in names:
                words = tuple(t.text.lower() for t in tokenize(name))
                if 0 < len(words) <= LONGEST_VALUE:
                    self._kinds.setdefault(words, set()).add(kind)

    def marks(self, tokens: Sequence[Token]) -> list[list[str]]:
        """Per token, features naming the types whose values cover it ("B:City", "I:City")."""
        words = [t.text.lower() for t in tokens]
        marks: list[list[str]] = [[] for _ in tokens]
        for start in range(len(words)):
            for size in range(min(LONGEST_VALUE, len(words) - start), 0, -1):
                kinds = self._kinds.get(tuple(words[start : start + size]))
                if kinds:
                    for kind in kinds:
                        marks[start].append(f"B:{kind}")
                        marks[start + 1 : start + size] = [[*m, f"I:{kind}"] for m in marks[start + 1 : start + size]]
                    break
        return marks


def _shape(word: str) -> str:
    shape = re.sub(r"[A-Z]", "X", re.sub(r"[a-z]", "x", re.sub(r"\d", "d", word)))
    return re.sub(r"(.)\1+", r"\1\1", shape)


def features(tokens: Sequence[Token], marks: Sequence[Sequence[str]] | None) -> list[list[str]]:
    """CRFsuite's attributes for each token: the word, its shape and affixes, its neighbours, gazetteer marks."""
    words = [t.text.lower() for t in tokens]
    rows = []
    for i, word in enumerate(words):
        row = [f"w={word}", f"s={_shape(tokens[i].text)}", f"p3={word[:3]}", f"x3={word[-3:]}", f"x2={word[-2:]}"]
        for offset in (-2, -1, 1, 2):
            j = i + offset
            row.append(f"w{offset}={words[j] if 0 <= j < len(words) else '<s>' if j < 0 else '</s>'}")
        row.append(f"w-1w={words[i - 1] if i else '<s>'}|{word}")
        row.append(f"ww+1={word}|{words[i + 1] if i + 1 < len(words) else '</s>'}")
        if marks is not None:
            row += [f"g={mark}" for mark in marks[i]]
            for offset in (-1, 1):
                j = i + offset
                if 0 <= j < len(words):
                    row += [f"g{offset}={mark}" for mark in marks[j]]
        rows.append(row)
    return rows


@dataclasses.dataclass
class SlotTagger:
    """One intent's trained CRF, or none when the intent has no slots."""

    model: bytes
    gazetteer: Gazetteer
    _tagger: pycrfsuite.Tagger | None = None

    @classmethod
    def train(
        cls, examples: Sequence[TaggedText], gazetteer: Gazetteer, *, without_gazetteer: float = 0.3
    ) -> SlotTagger:
        """Fit on tagged utterances; `without_gazetteer` of them (every n-th) train without gazetteer marks."""
        trainer = pycrfsuite.Trainer(verbose=False)
        every = max(1, round(1 / without_gazetteer)) if without_gazetteer > 0 else 0
        for index, example in enumerate(examples):
            blind = every and index % every == every - 1
            marks = None if blind else gazetteer.marks(example.tokens)
            trainer.append(features(example.tokens, marks or [[] for _ in example.tokens]), list(example.labels))
        trainer.set_params({"c1": 0.05, "c2": 0.01, "max_iterations": 150, "feature.possible_transitions": True})
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "slots.crfsuite"
            trainer.train(str(path))
            return cls(path.read_bytes(), gazetteer)

    def spans(self, text: str) -> list[tuple[str, str]]:
        """The slots tagged in `text`: (slot name, the words said), in order."""
        tokens = tokenize(text)
        if not tokens:
            return []
        if self._tagger is None:
            self._tagger = pycrfsuite.Tagger()
            self._tagger.open_inmemory(self.model)
        labels = self._tagger.tag(features(tokens, self.gazetteer.marks(tokens)))
        found: list[tuple[str, int, int]] = []
        for token, label in zip(tokens, labels, strict=True):
            kind, _, slot = label.partition("-")
            if kind == "I" and found and found[-1][0] == slot:
                found[-1] = (slot, found[-1][1], token.end)
            elif kind in ("B", "I"):
                found.append((slot, token.start, token.end))
        return [(slot, text[start:end]) for slot, start, end in found]
