"""Conversation logs: turns buffered, written as JSON lines per bot and day, the missed ones found again."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from altostratus.bots.conversation_log import ConversationLog, turn_record
from altostratus.bots.dialog import Turn
from altostratus.bots.interpretations import Interpretation, SlotValue
from altostratus.bots.session import IntentState, Session, Step
from altostratus.bots.store import SessionKey

DAY = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)


class MemoryLogs:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.failing = False

    def write(self, key: str, data: bytes) -> None:
        if self.failing:
            raise OSError("the lake is full")
        self.objects[key] = data

    def keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def read(self, key: str) -> bytes:
        return self.objects[key]


class FixedClock:
    def __init__(self, now: dt.datetime) -> None:
        self.at = now

    def now(self) -> dt.datetime:
        return self.at


def a_turn(said: str, intent: str, bot: str = "BOT1", at: dt.datetime = DAY) -> dict[str, object]:
    session = Session("s-1", intent=intent, state=IntentState.IN_PROGRESS, step=Step.ELICIT_SLOT)
    session.slots = {"Location": SlotValue("paris", "Paris", ("Paris",)), "Nights": None}
    turn = Turn(session, [{"contentType": "PlainText", "content": "Which day?"}], [Interpretation(intent, 0.93)], said)
    return turn_record(at, SessionKey(bot, "TSTALIASID", "en_US", "s-1"), "Text", said, turn, "FallbackIntent")


def test_a_turn_is_logged_with_its_input_reading_slots_and_answer() -> None:
    record = a_turn("book a hotel in paris", "BookHotel")
    assert record["input"] == record["inputTranscript"] == "book a hotel in paris"
    assert record["interpretations"] == [{"intent": "BookHotel", "confidence": 0.93}]
    assert record["slots"] == {"Location": "Paris"}
    assert (record["intentState"], record["dialogAction"], record["messages"]) == (
        "InProgress",
        "ElicitSlot",
        ["Which day?"],
    )
    assert record["missed"] is False and a_turn("zxcv", "FallbackIntent")["missed"] is True


def test_turns_are_written_at_the_flush_as_json_lines_per_bot_and_day() -> None:
    logs, clock = MemoryLogs(), FixedClock(DAY)
    log = ConversationLog(logs, clock)
    log.record(a_turn("book a hotel", "BookHotel"))
    log.record(a_turn("zxcv", "FallbackIntent"))
    log.record(a_turn("rent a car", "BookCar", bot="BOT2"))
    log.record(a_turn("next day", "BookHotel", at=DAY + dt.timedelta(days=1)))
    assert logs.objects == {}
    log.flush()
    days = sorted(key.rsplit("/", 1)[0] for key in logs.objects)
    assert days == ["BOT1/2026-12-03", "BOT1/2026-12-04", "BOT2/2026-12-03"]
    first = logs.objects[logs.keys("BOT1/2026-12-03/")[0]].decode().splitlines()
    assert [json.loads(line)["input"] for line in first] == ["book a hotel", "zxcv"]
    assert [t["input"] for t in log.turns("BOT1")] == ["book a hotel", "zxcv", "next day"]
    assert [t["input"] for t in log.missed("BOT1", "2026-12-03")] == ["zxcv"]
    assert log.missed("BOT1", "2026-12-04") == [] and list(log.turns("NOBOT")) == []


def test_lines_a_flush_could_not_write_are_kept_for_the_next() -> None:
    logs = MemoryLogs()
    log = ConversationLog(logs, FixedClock(DAY))
    log.record(a_turn("book a hotel", "BookHotel"))
    logs.failing = True
    log.flush()
    logs.failing = False
    log.record(a_turn("zxcv", "FallbackIntent"))
    log.flush()
    assert [t["input"] for t in log.turns("BOT1")] == ["book a hotel", "zxcv"]


@pytest.mark.timeout(20)
def test_stop_writes_what_is_left() -> None:
    logs = MemoryLogs()
    log = ConversationLog(logs, FixedClock(DAY), flush_seconds=60)
    log.start()
    log.record(a_turn("book a hotel", "BookHotel"))
    log.stop()
    assert [t["input"] for t in log.turns("BOT1")] == ["book a hotel"]
