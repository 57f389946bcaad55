"""Stored bots, builds as jobs and turns through the runtime, on a real metadata store, queue and blob store.

The NLU here is the scripted one of the dialog tests (the real one is trained in the API tests); what is under
test is the keeping: builds and their status, sessions kept between turns, expiry, and the errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from altostratus.bots.builds import BUILD_JOB, LocaleBuilds
from altostratus.bots.definitions import LocaleDefinition
from altostratus.bots.interpretations import UnderstandsUtterances
from altostratus.bots.runtime import TEST_ALIAS, BotRuntime, TurnRequest
from altostratus.bots.store import BotNotFound, BotStore, SessionKey
from altostratus.bots.yaml_format import load_bot
from altostratus.core.errors import ValidationError
from altostratus.jobs import JobQueue
from altostratus.jobs.runner import PermanentJobError
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.metadata import MetadataStore
from tests.bots.dialog_fakes import ScriptedNlu
from tests.bots.test_dialog import ANSWERS, READINGS
from tests.jobs.conftest import FakeClock

BOOKTRIP = (Path(__file__).resolve().parents[2] / "examples" / "bots" / "booktrip.yaml").read_text()


class ScriptedTrainer:
    """Trains the scripted NLU, and counts what it trained and loaded."""

    def __init__(self) -> None:
        self.trained: list[str] = []
        self.loaded = 0

    def train(self, locale: LocaleDefinition) -> UnderstandsUtterances:
        self.trained.append(locale.locale_id)
        return ScriptedNlu(READINGS, ANSWERS)

    def load(self, data: bytes, locale: LocaleDefinition) -> UnderstandsUtterances:
        self.loaded += 1
        return ScriptedNlu(READINGS, ANSWERS)


@dataclasses.dataclass
class JobRun:
    job_id: str
    payload: Mapping[str, Any]
    attempt: int = 1


@dataclasses.dataclass
class Parts:
    store: BotStore
    builds: LocaleBuilds
    runtime: BotRuntime
    queue: JobQueue
    clock: FakeClock
    trainer: ScriptedTrainer

    def run_build(self) -> None:
        job = self.queue.claim("test-worker", [BUILD_JOB], 60)
        assert job is not None
        try:
            result = self.builds.run(JobRun(job.job_id, job.payload))
        except PermanentJobError as error:
            self.queue.fail(job.job_id, "test-worker", str(error), retry=False)
        else:
            self.queue.complete(job.job_id, "test-worker", result)


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Parts]:
    metadata = MetadataStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    metadata.migrate()
    clock = FakeClock()
    store = BotStore(metadata, clock)
    queue = JobQueue(metadata, clock)
    trainer = ScriptedTrainer()
    builds = LocaleBuilds(store, queue, LocalBlobStore(tmp_path / "blobs", fsync=False), trainer, clock)
    yield Parts(store, builds, BotRuntime(store, builds, None, clock), queue, clock, trainer)
    metadata.close()


def built(parts: Parts) -> str:
    bot = parts.store.put(load_bot(BOOKTRIP))
    assert parts.builds.start(bot.bot_id, "en_US").status == "Building"
    parts.run_build()
    assert parts.builds.status(bot.bot_id, "en_US").status == "Built"
    return bot.bot_id


def test_a_build_trains_the_locale_and_turns_keep_the_session(parts: Parts) -> None:
    bot_id = built(parts)
    key = SessionKey(bot_id, TEST_ALIAS, "en_US", "s1")
    assert parts.runtime.turn(TurnRequest(key, "book a hotel")).session.slot_to_elicit == "Location"
    turn = parts.runtime.turn(TurnRequest(key, "paris"))
    assert turn.session.slots["Location"] is not None and turn.session.slot_to_elicit == "CheckInDate"
    assert parts.runtime.session(key).slot_to_elicit == "CheckInDate"
    assert parts.trainer.trained == ["en_US"]


def test_an_idle_session_expires_and_the_next_turn_starts_afresh(parts: Parts) -> None:
    bot_id = built(parts)
    key = SessionKey(bot_id, TEST_ALIAS, "en_US", "s2")
    parts.runtime.turn(TurnRequest(key, "book a hotel"))
    parts.clock.advance(301)
    with pytest.raises(BotNotFound, match="does not exist or has expired"):
        parts.runtime.session(key)
    turn = parts.runtime.turn(TurnRequest(key, "paris"))
    # A fresh session knows nothing of the question asked before: a bare city is not an intent.
    assert turn.session.intent == "FallbackIntent" and "Location" not in turn.session.slots


def test_a_definition_at_fault_fails_its_build_with_the_reasons(parts: Parts) -> None:
    broken = BOOKTRIP.replace("type: RoomType,", "type: RoomKind,")
    bot = parts.store.put(load_bot(broken))
    parts.builds.start(bot.bot_id, "en_US")
    parts.run_build()
    status = parts.builds.status(bot.bot_id, "en_US")
    assert status.status == "Failed"
    assert status.failure_reasons == ("Intent BookHotel, slot RoomType: slot type 'RoomKind' is not defined",)
    with pytest.raises(BotNotFound, match="is not built"):
        parts.runtime.turn(TurnRequest(SessionKey(bot.bot_id, TEST_ALIAS, "en_US", "s"), "book a hotel"))


def test_a_worker_that_takes_the_build_at_once_finds_its_record(parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    # On a busy machine a worker may claim the job before start() returns: it must build, not fail as replaced.
    submit = parts.queue.submit

    def submit_and_run(*args: Any, **kwargs: Any) -> Any:
        job = submit(*args, **kwargs)
        parts.run_build()
        return job

    monkeypatch.setattr(parts.queue, "submit", submit_and_run)
    bot = parts.store.put(load_bot(BOOKTRIP))
    assert parts.builds.start(bot.bot_id, "en_US").status == "Built"


def test_unknown_bots_aliases_locales_and_bad_text_are_refused(parts: Parts) -> None:
    bot_id = built(parts)
    with pytest.raises(BotNotFound, match="Bot 'NOSUCHBOT1' does not exist"):
        parts.runtime.turn(TurnRequest(SessionKey("NOSUCHBOT1", TEST_ALIAS, "en_US", "s"), "hi"))
    with pytest.raises(BotNotFound, match="alias 'OTHERALIAS'"):
        parts.runtime.turn(TurnRequest(SessionKey(bot_id, "OTHERALIAS", "en_US", "s"), "hi"))
    with pytest.raises(BotNotFound, match="en_GB"):
        parts.runtime.turn(TurnRequest(SessionKey(bot_id, TEST_ALIAS, "en_GB", "s"), "hi"))
    key = SessionKey(bot_id, TEST_ALIAS, "en_US", "s")
    for text in ("", "   ", "x" * 1025):
        with pytest.raises(ValidationError, match="expected 1 to 1024"):
            parts.runtime.turn(TurnRequest(key, text))
    with pytest.raises(ValidationError, match="IANA time zone"):
        parts.runtime.turn(TurnRequest(key, "book a hotel", {"x-amz-lex:time-zone": "Mars/Olympus"}))


def test_a_deleted_session_is_gone_and_the_model_is_loaded_once_after_a_restart(parts: Parts, tmp_path: Path) -> None:
    bot_id = built(parts)
    key = SessionKey(bot_id, TEST_ALIAS, "en_US", "s3")
    parts.runtime.turn(TurnRequest(key, "book a hotel"))
    assert parts.runtime.delete_session(key).intent == "BookHotel"
    with pytest.raises(BotNotFound):
        parts.runtime.session(key)
    fresh = LocaleBuilds(
        parts.store, parts.queue, LocalBlobStore(tmp_path / "blobs", fsync=False), parts.trainer, parts.clock
    )
    for _ in range(2):
        fresh.built(bot_id, "en_US")
    assert parts.trainer.loaded == 1
