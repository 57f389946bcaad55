"""Conversation logs: every turn as one JSON line, kept per bot and day, and the turns the bot missed.

Turns are buffered and written every `flush_seconds` (and at stop) as one object of JSON lines under
`<bot id>/<YYYY-MM-DD>/`, so that a turn costs no write of its own. A person reads the missed turns (the ones the
fallback intent answered) with `alto bots missed BOT` and adds them to the bot as sample utterances.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from altostratus.bots.dialog import Turn
from altostratus.bots.store import SessionKey
from altostratus.core.clock import Clock

LOG = logging.getLogger(__name__)


class KeepsLogs(Protocol):
    """Where log objects go: written whole, listed by prefix, read back."""

    def write(self, key: str, data: bytes) -> None:
        """Store `data` at `key`."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix`, in order."""
        ...

    def read(self, key: str) -> bytes:
        """The object at `key`."""
        ...


def turn_record(
    at: dt.datetime, key: SessionKey, input_mode: str, said: str, turn: Turn, fallback: str
) -> dict[str, Any]:
    """What one turn leaves in the log: the input, how it was read, what the dialog did and said."""
    session = turn.session
    return {
        "timestamp": at.isoformat(),
        "botId": key.bot_id,
        "botAliasId": key.alias_id,
        "localeId": key.locale_id,
        "sessionId": key.session_id,
        "inputMode": input_mode,
        "input": said,
        "inputTranscript": turn.transcript,
        "interpretations": [{"intent": i.intent, "confidence": round(i.confidence, 4)} for i in turn.interpretations],
        "intent": session.intent,
        "slots": {name: v.interpreted for name, v in session.slots.items() if v is not None},
        "intentState": None if session.state is None else session.state.value,
        "dialogAction": None if session.step is None else session.step.value,
        "messages": [m["content"] for m in turn.messages],
        # The fallback intent answered: a person may add this utterance to the intent it meant.
        "missed": session.intent == fallback,
    }


class ConversationLog:
    """Buffers turns and writes them as JSON lines per bot and day."""

    def __init__(self, sink: KeepsLogs, clock: Clock, *, flush_seconds: float = 2.0) -> None:
        self._sink = sink
        self._clock = clock
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._buffer: dict[tuple[str, str], list[bytes]] = {}
        self._written = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, record: Mapping[str, Any]) -> None:
        """Keep one turn's record until the next flush."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        place = (str(record["botId"]), str(record["timestamp"])[:10])
        with self._lock:
            self._buffer.setdefault(place, []).append(line)

    def flush(self) -> None:
        """Write what is buffered: one object per bot and day."""
        with self._lock:
            taken, self._buffer = self._buffer, {}
        for (bot_id, day), lines in taken.items():
            self._written += 1
            stamp = self._clock.now().strftime("%H%M%S%f")
            try:
                self._sink.write(f"{bot_id}/{day}/{stamp}-{self._written:06d}.jsonl", b"".join(lines))
            except Exception:  # the lake may be briefly unwritable: keep the lines for the next flush
                LOG.exception(
                    "could not write %d conversation log lines of bot %s; kept for the next flush", len(lines), bot_id
                )
                with self._lock:
                    self._buffer[(bot_id, day)] = lines + self._buffer.get((bot_id, day), [])

    def start(self) -> None:
        """Flush every `flush_seconds` on a thread of its own."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="bot-conversation-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
        self.flush()

    def turns(self, bot_id: str, day: str | None = None) -> Iterator[dict[str, Any]]:
        """The logged turns of a bot (on one day, "YYYY-MM-DD", when given), oldest first."""
        for key in self._sink.keys(f"{bot_id}/{day}/" if day else f"{bot_id}/"):
            for line in self._sink.read(key).splitlines():
                if line.strip():
                    yield json.loads(line)

    def missed(self, bot_id: str, day: str | None = None) -> list[dict[str, Any]]:
        """The turns the fallback intent answered."""
        return [turn for turn in self.turns(bot_id, day) if turn.get("missed")]

    def _run(self) -> None:
        while not self._stopping.wait(self._flush_seconds):
            self.flush()
