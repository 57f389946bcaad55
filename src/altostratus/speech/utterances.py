"""What is to be spoken once text or SSML is parsed: sentences made of runs of words, pauses and marks.

Offsets (`start`, `end`) are byte offsets into the UTF-8 request text, as Polly's speech marks give them.
"""

from __future__ import annotations

import dataclasses
import enum


@dataclasses.dataclass(frozen=True)
class Prosody:
    """How a run is spoken: speaking rate and pitch as multipliers, loudness in decibels, whispered or not."""

    rate: float = 1.0
    pitch: float = 1.0
    volume_db: float = 0.0
    whispered: bool = False


@dataclasses.dataclass(frozen=True)
class Word:
    """One written word and what the engine says for it.

    `text` is what is spoken (already normalised, so "$3.50" is "three dollars fifty" and may hold several
    words); `value` is the word as written, the value of its word mark; `phonemes`, in IPA, replaces `text`
    when SSML's phoneme tag or a lexicon gives a pronunciation. Punctuation that ends a phrase (", . ? ! ; :")
    stays at the end of `text`, so engines can phrase and intone by it.
    """

    text: str
    start: int
    end: int
    value: str
    phonemes: str | None = None


@dataclasses.dataclass(frozen=True)
class Run:
    """Words spoken in one breath with one prosody, in one language (a BCP-47 tag, None for the voice's)."""

    words: tuple[Word, ...]
    prosody: Prosody = dataclasses.field(default_factory=Prosody)
    language: str | None = None


class Sound(enum.Enum):
    """What fills a pause."""

    SILENCE = "silence"
    # A breath (amazon:breath, amazon:auto-breaths): soft shaped noise.
    BREATH = "breath"
    # A bleep over an expletive (say-as interpret-as="expletive").
    BEEP = "beep"


@dataclasses.dataclass(frozen=True)
class Pause:
    """A stretch of time without words, in milliseconds: silence, a breath or a beep."""

    ms: int
    sound: Sound = Sound.SILENCE


@dataclasses.dataclass(frozen=True)
class Mark:
    """An SSML <mark name="..."/>: its time is where the audio stands when it is reached."""

    name: str
    start: int
    end: int


Piece = Run | Pause | Mark


@dataclasses.dataclass(frozen=True)
class Sentence:
    """One sentence: its pieces in order, and its span and text in the input (its sentence mark)."""

    pieces: tuple[Piece, ...]
    start: int
    end: int
    value: str

    def words(self) -> list[Word]:
        """Every word of the sentence, in order."""
        return [word for piece in self.pieces if isinstance(piece, Run) for word in piece.words]
