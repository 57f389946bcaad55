"""Input text as the sentence builder reads it: runs of text with their byte offsets and style, and the gaps,
marks and boundaries between them. Plain text is one run; SSML (see ssml.py) is many."""

from __future__ import annotations

import dataclasses

from altostratus.speech.utterances import Mark, Pause, Prosody, Word


@dataclasses.dataclass(frozen=True)
class Style:
    """How text inside an element is spoken: its prosody and its language (None: the voice's)."""

    prosody: Prosody = dataclasses.field(default_factory=Prosody)
    language: str | None = None
    # amazon:auto-breaths: a breath at each phrase break.
    breaths: bool = False


@dataclasses.dataclass(frozen=True)
class Text:
    """Written text to be split into words; `offsets[i]` is the byte offset of `text[i]`, `offsets[-1]` its end."""

    text: str
    offsets: tuple[int, ...]
    style: Style


@dataclasses.dataclass(frozen=True)
class Fixed:
    """Words whose spoken form is settled already (say-as, sub, phoneme, w): no lexicon or normalising."""

    word: Word
    style: Style


@dataclasses.dataclass(frozen=True)
class Boundary:
    """A sentence ends here (</s>, <p>, </p>, a strong break); `pause_ms` of silence follows it."""

    pause_ms: int = 0


Span = Text | Fixed | Pause | Mark | Boundary


def plain_text(text: str) -> list[Span]:
    """Plain input as spans: one run of text in the voice's own style."""
    return [Text(text, byte_offsets(text, text.encode(), 0, markup=False), Style())]


def byte_offsets(text: str, source: bytes, at: int, *, markup: bool = True) -> tuple[int, ...]:
    """Each character's byte offset in `source`, reading from `at`; one more offset for the end.

    The characters are the parser's: an entity (&amp;) is one character where the source has five bytes, and
    a CR LF pair is one newline. Such characters take the offset of their first source byte. In plain text
    (`markup` False) an & is itself.
    """
    offsets = []
    position = at
    for char in text:
        encoded = char.encode()
        offsets.append(position)
        if markup and source.startswith(b"&", position):
            end = source.find(b";", position)
            position = end + 1 if end >= 0 else position + 1
        elif source.startswith(encoded, position):
            position += len(encoded)
        elif char == "\n" and source.startswith(b"\r\n", position):
            position += 2
        else:
            position += 1
    offsets.append(position)
    return tuple(offsets)
