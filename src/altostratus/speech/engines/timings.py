"""What engines share when they turn their own timings into a Spoken: word offsets filled in, silences merged."""

from __future__ import annotations

from altostratus.speech.engines.speaker import Phone
from altostratus.speech.visemes import SILENCE


def fill_word_offsets(first: list[int | None], total: int) -> list[int]:
    """Every word's first sample, monotone and within the audio: a word the engine gave none (merged into a
    neighbour, or only punctuation) starts where the next timed word does, or, at the end, the previous one.
    """
    following: int | None = None
    filled: list[int | None] = []
    for value in reversed(first):
        following = value if value is not None else following
        filled.append(following)
    offsets: list[int] = []
    for value in reversed(filled):
        previous = offsets[-1] if offsets else 0
        offsets.append(min(total, max(previous, value if value is not None else previous)))
    return offsets


def collapse_silences(phones: list[Phone]) -> list[Phone]:
    """The phones with each run of "sil" (a pause the engine made of several silent phones) kept once."""
    kept: list[Phone] = []
    for phone in phones:
        if not (phone.viseme == SILENCE and kept and kept[-1].viseme == SILENCE):
            kept.append(phone)
    return kept
