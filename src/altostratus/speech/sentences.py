"""Spans into sentences: text split into written words, lexicons applied, the rest normalised, sentences cut.

A sentence ends at a boundary span, and after a word whose final . ? or ! ends a sentence (not "Dr." before a
name). Consecutive words of one style make a run; pauses and marks sit between runs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence

from altostratus.speech.lexicons import Lexicons
from altostratus.speech.normalize import ends_sentence, spoken_words
from altostratus.speech.spans import Boundary, Fixed, Span, Style, Text
from altostratus.speech.utterances import Mark, Pause, Piece, Run, Sentence, Sound, Word

_TOKEN = re.compile(r"\S+")
# Trailing characters a lexicon's grapheme is matched without.
_TRAILING = ".,;:!?\"')]}"
_LEADING = "\"'([{"
AUTO_BREATH_MS = 250
PHRASE_ENDS = (",", ";", ":", ".", "?", "!")


@dataclasses.dataclass(frozen=True)
class _Written:
    """A written word and where it is: its text, byte span and style."""

    text: str
    offsets: tuple[int, ...]
    style: Style

    @property
    def start(self) -> int:
        return self.offsets[0]

    @property
    def end(self) -> int:
        return self.offsets[-1]

    def marked(self) -> tuple[str, int, int]:
        """The word as its mark shows it, without the punctuation around it, and that value's byte span."""
        lead = len(self.text) - len(self.text.lstrip(_LEADING + _TRAILING))
        tail = len(self.text.rstrip(_LEADING + _TRAILING))
        if tail <= lead:
            return self.text, self.start, self.end
        return self.text[lead:tail], self.offsets[lead], self.offsets[tail]


_Item = _Written | Fixed | Pause | Mark | Boundary


def build_sentences(spans: Sequence[Span], source: bytes, lexicons: Lexicons, language: str) -> list[Sentence]:
    """The sentences the spans make, with every word's spoken form settled."""
    items = list(_items(spans))
    builder = _Builder(source, lexicons, language)
    for index, item in enumerate(items):
        builder.add(item, _next_word(items, index))
    return builder.finish()


def _items(spans: Sequence[Span]) -> Iterator[_Item]:
    for span in spans:
        if isinstance(span, Text):
            for match in _TOKEN.finditer(span.text):
                offsets = span.offsets[match.start() : match.end() + 1]
                yield _Written(match.group(), offsets, span.style)
        else:
            yield span


def _next_word(items: Sequence[_Item], index: int) -> str | None:
    for item in items[index + 1 :]:
        if isinstance(item, _Written):
            return item.text
        if isinstance(item, Fixed):
            return item.word.text
        if isinstance(item, Boundary):
            return None
    return None


class _Builder:
    """Gathers written words into runs and runs into sentences."""

    def __init__(self, source: bytes, lexicons: Lexicons, language: str) -> None:
        self.source = source
        self.lexicons = lexicons
        self.language = language
        self.sentences: list[Sentence] = []
        self.pieces: list[Piece] = []
        # Written words waiting for the lexicons and the normaliser, and the style they share.
        self.pending: list[_Written] = []
        self.words: list[Word] = []
        self.style: Style | None = None
        # The byte spans of what the sentence holds so far, punctuation included: the sentence mark's span.
        self.extent: list[tuple[int, int]] = []
        # Milliseconds of silence waiting for the next sentence.
        self.carried = 0

    def add(self, item: _Item, next_word: str | None) -> None:
        if isinstance(item, _Written):
            self._style(item.style)
            self.pending.append(item)
            self.extent.append((item.start, item.end))
            if item.style.breaths and item.text.endswith(PHRASE_ENDS):
                self._pause(Pause(AUTO_BREATH_MS, Sound.BREATH))
            if ends_sentence(item.text, next_word):
                self._end_sentence()
        elif isinstance(item, Fixed):
            self._style(item.style)
            self._settle()
            self.words.append(item.word)
        elif isinstance(item, Boundary):
            self._end_sentence()
            self.carried += item.pause_ms
        else:
            self._pause(item)

    def _pause(self, piece: Pause | Mark) -> None:
        self._close_run()
        self.pieces.append(piece)

    def _style(self, style: Style) -> None:
        if self.style is not None and style != self.style:
            self._close_run()
        self.style = style

    def _settle(self) -> None:
        """Lexicons first (a grapheme may span words), then the normaliser for the words they left."""
        plain: list[_Written] = []
        settled: list[Word] = []

        def flush() -> None:
            spoken = spoken_words([w.text for w in plain], self.language)
            for written, text in zip(plain, spoken, strict=True):
                if text.strip():
                    value, start, end = written.marked()
                    settled.append(Word(text, start, end, value))
            plain.clear()

        index = 0
        while index < len(self.pending):
            found = self.lexicons.lookup([_bare(w.text) for w in self.pending[index:]])
            if found is None:
                plain.append(self.pending[index])
                index += 1
                continue
            flush()
            count, entry = found
            first, last = self.pending[index], self.pending[index + count - 1]
            start, end = first.marked()[1], last.marked()[2]
            value = self.source[start:end].decode("utf-8", "replace")
            text = (entry.alias or value) + _phrase_end(last.text)
            settled.append(Word(text, start, end, value, entry.phonemes))
            index += count
        flush()
        self.pending.clear()
        self.words.extend(settled)

    def _close_run(self) -> None:
        self._settle()
        if self.words and self.style is not None:
            prosody, language = self.style.prosody, self.style.language
            self.pieces.append(Run(tuple(self.words), prosody, language))
        self.words = []

    def _end_sentence(self) -> None:
        """Close the sentence; pauses with no words around them wait for the next one (or the last)."""
        self._close_run()
        spans = [(w.start, w.end) for p in self.pieces if isinstance(p, Run) for w in p.words]
        spans += [(p.start, p.end) for p in self.pieces if isinstance(p, Mark)]
        spans += self.extent if spans else []
        self.extent = []
        if not spans:
            self.carried += sum(p.ms for p in self.pieces if isinstance(p, Pause))
            self.pieces = []
            return
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        pieces = ([Pause(self.carried)] if self.carried else []) + self.pieces
        self.sentences.append(Sentence(tuple(pieces), start, end, self.source[start:end].decode("utf-8", "replace")))
        self.carried = 0
        self.pieces = []

    def finish(self) -> list[Sentence]:
        """Every sentence; silence left over is added to the last (or is the one sentence, with no text)."""
        self._end_sentence()
        if self.carried and self.sentences:
            last = self.sentences[-1]
            self.sentences[-1] = dataclasses.replace(last, pieces=(*last.pieces, Pause(self.carried)))
        elif self.carried:
            self.sentences.append(Sentence((Pause(self.carried),), 0, 0, ""))
        return self.sentences


def _phrase_end(text: str) -> str:
    """The punctuation that ends a written word's phrase ("sea." -> ".", "(sea)," -> ","), or ""."""
    bare = text.rstrip("\"')]}")
    return bare[len(bare.rstrip("".join(PHRASE_ENDS))) :]


def _bare(text: str) -> str:
    """A written word without the punctuation around it, as a lexicon's grapheme is matched."""
    return text.strip(_LEADING + _TRAILING) or text
