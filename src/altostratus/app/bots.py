"""Bots' wiring: stored bots and their builds, the NLU trainer, code hooks as functions, and the Lex V2 wire."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from altostratus.api.bots.lex_models import LexModelsApi
from altostratus.api.bots.lex_runtime import LexRuntimeApi
from altostratus.api.gateway import ServiceAdapter
from altostratus.app.foundation import Foundation
from altostratus.app.slice import ServiceSlice
from altostratus.bots.builds import BUILD_JOB, LocaleBuilds
from altostratus.bots.conversation_log import ConversationLog
from altostratus.bots.errors import DependencyFailed
from altostratus.bots.nlu.understanding import NluTrainer
from altostratus.bots.releases import Releases
from altostratus.bots.runtime import BotRuntime
from altostratus.bots.store import BotStore
from altostratus.bots.voice import WhisperListener
from altostratus.core.errors import AltoError
from altostratus.functions.service import FunctionsService
from altostratus.lake.errors import BucketAlreadyOwnedByYou, NoSuchBucket
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.speech.service import SpeechService, SynthesisRequest

# Lex V2 writes text logs to a CloudWatch log group; here they are objects in the lake.
LOG_BUCKET = "alto-bot-logs"


@dataclasses.dataclass
class Bots:
    """Bots' store, builds and runtime, and their slice."""

    store: BotStore
    builds: LocaleBuilds
    runtime: BotRuntime
    log: ConversationLog
    slice: ServiceSlice


class FunctionHooks:
    """Code hooks run as functions: Lex's event in, its answer out; a failure is Lex's DependencyFailedException."""

    def __init__(self, functions: FunctionsService) -> None:
        self._functions = functions

    def call(self, function: str, event: Mapping[str, Any]) -> Any:
        """The function's answer to `event`."""
        try:
            result = self._functions.invoke(function, json.dumps(event).encode())
        except AltoError as error:
            raise DependencyFailed(
                f"Invalid Bot Configuration: the code hook {function!r} cannot run: {error}"
            ) from None
        outcome = result.outcome
        if outcome.function_error:
            detail = outcome.payload.decode("utf-8", "replace")[:500]
            raise DependencyFailed(f"Invalid Lambda Response: Received error response from Lambda: {detail}")
        try:
            return json.loads(outcome.payload)
        except ValueError:
            raise DependencyFailed("Invalid Lambda Response: the code hook's answer is not JSON") from None


class LakeLogs:
    """Conversation logs in a lake bucket of their own (created on first write, the admin's like any other)."""

    def __init__(self, lake: LakeService, bucket: str = LOG_BUCKET) -> None:
        self._lake = lake
        self.bucket = bucket

    def write(self, key: str, data: bytes) -> None:
        """Write the object whole."""
        with contextlib.suppress(BucketAlreadyOwnedByYou):
            self._lake.create_bucket(self.bucket)
        writer = self._lake.object_writer(self.bucket, key, ObjectMeta("application/x-ndjson"))
        with writer:
            writer.write(data)
            writer.commit(event_name="ObjectCreated:Put")

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix`, page after page; none when no turn was ever logged."""
        found: list[str] = []
        after = ""
        try:
            while True:
                page = self._lake.list_objects(self.bucket, prefix=prefix, after=after)
                found += [info.key for info in page.objects]
                if not page.is_truncated or not page.objects:
                    return found
                after = page.objects[-1].key
        except NoSuchBucket:
            return []

    def read(self, key: str) -> bytes:
        """The object's bytes."""
        return b"".join(self._lake.read(self._lake.head(self.bucket, key)))


class SpeechVoice:
    """Bots' answers spoken by the speech service (what Polly's SynthesizeSpeech does)."""

    def __init__(self, speech: SpeechService) -> None:
        self._speech = speech

    def speak(self, text: str, voice_id: str, output_format: str, sample_rate: str) -> Iterator[bytes]:
        """The audio of `text` in chunks, as SynthesizeSpeech streams it."""
        request = SynthesisRequest(text=text, voice_id=voice_id, output_format=output_format, sample_rate=sample_rate)
        return self._speech.synthesize(request).chunks


def wire_bots(base: Foundation, lake: LakeService, functions: FunctionsService, speech: SpeechService) -> Bots:
    """The NLU's sentence encoder loads on the first build or turn (about 1 s), Whisper on the first spoken one."""
    store = BotStore(base.metadata, base.clock)
    builds = LocaleBuilds(store, base.jobs, base.blobs, NluTrainer(), base.clock)
    log = ConversationLog(LakeLogs(lake), base.clock)
    releases = Releases(base.metadata, base.clock)
    runtime = BotRuntime(store, builds, FunctionHooks(functions), base.clock, log, releases)

    def adapters() -> list[ServiceAdapter]:
        runtime_api = LexRuntimeApi(runtime, base.clock, WhisperListener(), SpeechVoice(speech))
        return [runtime_api.adapter(), LexModelsApi(store, builds, releases).adapter()]

    service = ServiceSlice("bots", jobs={BUILD_JOB: builds.run}, adapters=adapters, start=log.start, stop=log.stop)
    return Bots(store, builds, runtime, log, service)
