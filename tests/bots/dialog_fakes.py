"""A scripted NLU and hook runner for the dialog manager's unit tests (the product trains a real NLU)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from altostratus.bots.interpretations import Interpretation, Moment, SlotValue


def value(text: str, interpreted: str | None = None) -> SlotValue:
    """A slot value as the NLU would resolve it."""
    return SlotValue(text, interpreted or text, (interpreted or text,))


@dataclasses.dataclass
class ScriptedNlu:
    """Answers known utterances with fixed interpretations and known slot answers with fixed values."""

    readings: Mapping[str, list[Interpretation]]
    answers: Mapping[tuple[str, str], SlotValue] = dataclasses.field(default_factory=dict)

    def interpret(
        self, text: str, *, moment: Moment, active_contexts: Sequence[str] = (), limit: int = 5
    ) -> list[Interpretation]:
        return list(self.readings.get(text, [Interpretation("BookHotel", 0.1)]))[:limit]

    def fill_slot(self, intent: str, slot: str, text: str, *, moment: Moment) -> SlotValue | None:
        return self.answers.get((slot, text))

    def to_bytes(self) -> bytes:
        return b""


@dataclasses.dataclass
class RecordingHooks:
    """Calls `answer` with each event and keeps the events."""

    answer: Callable[[Mapping[str, Any]], Any]
    events: list[Mapping[str, Any]] = dataclasses.field(default_factory=list)

    def call(self, function: str, event: Mapping[str, Any]) -> Any:
        self.events.append(event)
        return self.answer(event)
