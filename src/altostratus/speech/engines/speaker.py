"""The seam between the speech service and an engine: a Speaker speaks a Run and returns its timings."""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import numpy.typing as npt

from altostratus.speech.utterances import Run


@dataclasses.dataclass(frozen=True)
class Phone:
    """A phone as the engine timed it: the sample it starts at and its viseme (Polly's viseme names)."""

    offset: int
    viseme: str


@dataclasses.dataclass
class Spoken:
    """A run's audio and timings, measured by the engine itself (phoneme alignments, engine events).

    `samples` are float32 mono in [-1, 1] at the speaker's `sample_rate`; `word_offsets` has one entry per
    word of the run: the sample at which that word starts; `phones` are in time order.
    """

    samples: npt.NDArray[np.float32]
    word_offsets: list[int]
    phones: list[Phone]


class Speaker(Protocol):
    """One voice of one engine.

    `sample_rate` is the rate its audio comes at. `native_pitch` says whether it honours Prosody.pitch
    itself; when it does not, the service shifts the pitch (speaking slower by the factor, then resampling).
    Prosody.rate is always the speaker's to honour; volume and whispering are applied by the service.
    A speaker may be called from several threads: it guards what its engine cannot share.
    """

    @property
    def sample_rate(self) -> int:
        """The rate the speaker's audio comes at."""
        ...

    @property
    def native_pitch(self) -> bool:
        """Whether it shifts Prosody.pitch itself."""
        ...

    def speak(self, run: Run) -> Spoken:
        """The run's audio and timings."""
        ...
