"""Building a bot locale: its definition checked, then its NLU trained as a job and stored in the lake's blobs.

Lex's botLocaleStatus follows the job: Building while it is pending or running, Built when it completed, Failed
with failureReasons naming the intent, slot or slot type at fault. A locale serves the NLU of its last good build.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Protocol

from altostratus.bots.checks import check_locale
from altostratus.bots.definitions import BotDefinition, LocaleDefinition
from altostratus.bots.interpretations import UnderstandsUtterances
from altostratus.bots.store import BotNotFound, BotStore, BuildRecord
from altostratus.core.clock import Clock
from altostratus.core.ids import short_id
from altostratus.jobs.job import JobState
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import JobContext, PermanentJobError
from altostratus.storage.blobs import BlobStore, put_chunks

BUILD_JOB = "bots.build"
STATUSES = {
    JobState.PENDING: "Building",
    JobState.INPROGRESS: "Building",
    JobState.COMPLETED: "Built",
    JobState.FAILED: "Failed",
}


class TrainsNlu(Protocol):
    """Trains a locale's NLU from its definition, and loads one trained before."""

    def train(self, locale: LocaleDefinition) -> UnderstandsUtterances:
        """A new NLU trained on the locale's utterances and slot types."""
        ...

    def load(self, data: bytes, locale: LocaleDefinition) -> UnderstandsUtterances:
        """The NLU `to_bytes` stored."""
        ...


@dataclasses.dataclass(frozen=True)
class LocaleStatus:
    """What Lex reports of a locale's build."""

    status: str  # NotBuilt | Building | Built | Failed
    failure_reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class LocaleBuilds:
    """Starts builds, reports their status, runs them as jobs, and hands out the built NLU."""

    def __init__(self, store: BotStore, jobs: JobQueue, blobs: BlobStore, trainer: TrainsNlu, clock: Clock) -> None:
        self._store = store
        self._jobs = jobs
        self._blobs = blobs
        self._trainer = trainer
        self._clock = clock
        self._loaded: dict[str, UnderstandsUtterances] = {}
        self._lock = threading.Lock()

    def start(self, bot_id: str, locale_id: str) -> LocaleStatus:
        """Check the locale and submit its build; faults fail the build at once, with their reasons."""
        bot = self._store.get(bot_id).definition
        locale = _locale(bot, locale_id)
        findings = check_locale(locale)
        # The record is written before its job is queued, so a worker that takes the job at once finds it.
        job_id = short_id(20)
        previous = self._store.build(bot_id, locale_id)
        record = BuildRecord(
            bot_id,
            locale_id,
            job_id,
            bot,
            findings.faults,
            findings.warnings,
            None if previous is None else previous.model_key,
            self._clock.now(),
        )
        self._store.put_build(record)
        self._jobs.submit(BUILD_JOB, {"bot_id": bot_id, "locale_id": locale_id}, max_attempts=2, job_id=job_id)
        return self.status(bot_id, locale_id)

    def status(self, bot_id: str, locale_id: str) -> LocaleStatus:
        """The locale's build status: NotBuilt before its first build."""
        record = self._store.build(bot_id, locale_id)
        if record is None:
            return LocaleStatus("NotBuilt")
        state, message = self._jobs.states([record.job_id]).get(record.job_id, (JobState.FAILED, "build lost"))
        reasons = record.faults or ((message,) if state is JobState.FAILED else ())
        return LocaleStatus(STATUSES[state], reasons, record.warnings)

    def run(self, context: JobContext) -> dict[str, Any]:
        """The build job: train the NLU on the definition the build recorded, and store it."""
        bot_id, locale_id = str(context.payload["bot_id"]), str(context.payload["locale_id"])
        record = self._store.build(bot_id, locale_id)
        if record is None or record.job_id != context.job_id:
            raise PermanentJobError("a newer build of this locale replaced this one")
        if record.faults:
            raise PermanentJobError("; ".join(record.faults))
        locale = _locale(record.definition, locale_id)
        nlu = self._trainer.train(locale)
        key = f"bots/{bot_id}/{locale_id}/{context.job_id}.nlu"
        put_chunks(self._blobs, key, [nlu.to_bytes()])
        self._store.put_build(dataclasses.replace(record, model_key=key, updated_at=self._clock.now()))
        with self._lock:
            self._loaded[key] = nlu
        return {"model_key": key}

    def built(self, bot_id: str, locale_id: str) -> tuple[LocaleDefinition, UnderstandsUtterances]:
        """The locale as last built and its NLU; BotNotFound when it has no good build."""
        record = self._store.build(bot_id, locale_id)
        if record is None or record.model_key is None:
            raise BotNotFound(f"Locale {locale_id} of bot {bot_id} is not built; build it first")
        locale = _locale(record.definition, locale_id)
        return locale, self.model(record.model_key, locale)

    def model_key(self, bot_id: str, locale_id: str) -> str:
        """Where the locale's last good build keeps its model; BotNotFound when it has none."""
        record = self._store.build(bot_id, locale_id)
        if record is None or record.model_key is None or self.status(bot_id, locale_id).status != "Built":
            raise BotNotFound(f"Locale {locale_id} of bot {bot_id} is not built; build it first")
        return record.model_key

    def model(self, key: str, locale: LocaleDefinition) -> UnderstandsUtterances:
        """The NLU stored at `key` for `locale`, loaded once."""
        with self._lock:
            found = self._loaded.get(key)
        if found is None:
            found = self._trainer.load(b"".join(self._blobs.read(key)), locale)
            with self._lock:
                self._loaded[key] = found
        return found


def _locale(bot: BotDefinition, locale_id: str) -> LocaleDefinition:
    locale = bot.locale(locale_id)
    if locale is None:
        raise BotNotFound(f"Bot {bot.name} has no locale {locale_id!r}; it has {[x.locale_id for x in bot.locales]}")
    return locale
