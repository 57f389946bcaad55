"""What the NLU makes of one utterance: intents ranked by confidence, each with the slot values it found."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Protocol


@dataclasses.dataclass(frozen=True)
class SlotValue:
    """A slot's value: the words said, what they mean, and every value they could resolve to."""

    original: str
    # The value the dialog uses: a custom type's value, "2026-12-04" for a date, "14:00" for a time.
    interpreted: str
    resolved: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Interpretation:
    """One reading of an utterance: an intent, how sure the NLU is (0-1), and the slots it filled."""

    intent: str
    confidence: float
    slots: dict[str, SlotValue] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Moment:
    """The session's clock and time zone, against which "tomorrow" and "at 3" are read."""

    now: dt.datetime
    time_zone: str = "UTC"


class UnderstandsUtterances(Protocol):
    """A trained NLU for one bot locale."""

    def interpret(
        self, text: str, *, moment: Moment, active_contexts: Sequence[str] = (), limit: int = 5
    ) -> list[Interpretation]:
        """The `limit` best interpretations, best first, the fallback intent among them when it fits."""
        ...

    def fill_slot(self, intent: str, slot: str, text: str, *, moment: Moment) -> SlotValue | None:
        """Read `text` as the answer to a prompt for one slot, or None when it is not a value of that slot."""
        ...

    def to_bytes(self) -> bytes:
        """The trained model, to store in the lake and load again with the engine's `load`."""
        ...
