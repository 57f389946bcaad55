"""A conversation's state between turns: the intent in progress, its slots, the step the dialog is at."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

from altostratus.bots.interpretations import SlotValue


class IntentState(enum.Enum):
    """Where an intent is in its life (Lex's intent state)."""

    IN_PROGRESS = "InProgress"
    READY_FOR_FULFILLMENT = "ReadyForFulfillment"
    FULFILLED = "Fulfilled"
    FAILED = "Failed"


class Step(enum.Enum):
    """What the bot does next (Lex's dialog action type)."""

    ELICIT_INTENT = "ElicitIntent"
    ELICIT_SLOT = "ElicitSlot"
    CONFIRM_INTENT = "ConfirmIntent"
    DELEGATE = "Delegate"
    CLOSE = "Close"


class Confirmation(enum.Enum):
    """Whether the user confirmed the intent (Lex's confirmationState)."""

    NONE = "None"
    CONFIRMED = "Confirmed"
    DENIED = "Denied"


@dataclasses.dataclass
class ActiveContext:
    """A context an intent set: active for some more turns and until a moment, with the values it carries."""

    name: str
    turns_left: int
    expires_at: dt.datetime
    attributes: dict[str, str] = dataclasses.field(default_factory=dict)

    def is_active(self, now: dt.datetime) -> bool:
        """Whether the context still counts."""
        return self.turns_left > 0 and now < self.expires_at


@dataclasses.dataclass
class Session:
    """One user's conversation with one bot alias in one locale."""

    session_id: str
    intent: str | None = None
    slots: dict[str, SlotValue | None] = dataclasses.field(default_factory=dict)
    state: IntentState | None = None
    confirmation: Confirmation = Confirmation.NONE
    step: Step | None = None
    slot_to_elicit: str | None = None
    # How many times in a row the current prompt got an answer that did not fit.
    retries: int = 0
    attributes: dict[str, str] = dataclasses.field(default_factory=dict)
    contexts: list[ActiveContext] = dataclasses.field(default_factory=list)
    last_turn_at: dt.datetime | None = None

    def active_contexts(self, now: dt.datetime) -> list[ActiveContext]:
        """The contexts that still count at `now`."""
        return [context for context in self.contexts if context.is_active(now)]

    def start(self, intent: str, slot_names: list[str]) -> None:
        """Begin a new intent, forgetting the last one's slots and step."""
        self.intent, self.slots = intent, dict.fromkeys(slot_names)
        self.state, self.confirmation = IntentState.IN_PROGRESS, Confirmation.NONE
        self.step, self.slot_to_elicit, self.retries = None, None, 0

    def to_json(self) -> dict[str, Any]:
        """The session as JSON, to store between turns."""
        return {
            "session_id": self.session_id,
            "intent": self.intent,
            "slots": {name: None if v is None else dataclasses.asdict(v) for name, v in self.slots.items()},
            "state": None if self.state is None else self.state.value,
            "confirmation": self.confirmation.value,
            "step": None if self.step is None else self.step.value,
            "slot_to_elicit": self.slot_to_elicit,
            "retries": self.retries,
            "attributes": self.attributes,
            "contexts": [
                {
                    "name": c.name,
                    "turns_left": c.turns_left,
                    "expires_at": c.expires_at.isoformat(),
                    "attributes": c.attributes,
                }
                for c in self.contexts
            ],
            "last_turn_at": None if self.last_turn_at is None else self.last_turn_at.isoformat(),
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Session:
        """The session `to_json` stored."""
        slots = {
            name: None if v is None else SlotValue(v["original"], v["interpreted"], tuple(v["resolved"]))
            for name, v in document["slots"].items()
        }
        contexts = [
            ActiveContext(c["name"], c["turns_left"], dt.datetime.fromisoformat(c["expires_at"]), c["attributes"])
            for c in document["contexts"]
        ]
        last = document["last_turn_at"]
        return cls(
            session_id=document["session_id"],
            intent=document["intent"],
            slots=slots,
            state=None if document["state"] is None else IntentState(document["state"]),
            confirmation=Confirmation(document["confirmation"]),
            step=None if document["step"] is None else Step(document["step"]),
            slot_to_elicit=document["slot_to_elicit"],
            retries=document["retries"],
            attributes=document["attributes"],
            contexts=contexts,
            last_turn_at=None if last is None else dt.datetime.fromisoformat(last),
        )
