"""Bots' wiring: stored bots and their builds, the NLU trainer, code hooks as functions, and the Lex V2 wire."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from altostratus.api.bots.lex_runtime import LexRuntimeApi
from altostratus.api.gateway import ServiceAdapter
from altostratus.app.foundation import Foundation
from altostratus.app.slice import ServiceSlice
from altostratus.bots.builds import BUILD_JOB, LocaleBuilds
from altostratus.bots.errors import DependencyFailed
from altostratus.bots.nlu.understanding import NluTrainer
from altostratus.bots.runtime import BotRuntime
from altostratus.bots.store import BotStore
from altostratus.core.errors import AltoError
from altostratus.functions.service import FunctionsService


@dataclasses.dataclass
class Bots:
    """Bots' store, builds and runtime, and their slice."""

    store: BotStore
    builds: LocaleBuilds
    runtime: BotRuntime
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


def wire_bots(base: Foundation, functions: FunctionsService) -> Bots:
    """The NLU's sentence encoder loads on the first build or turn (about 1 s)."""
    store = BotStore(base.metadata, base.clock)
    builds = LocaleBuilds(store, base.jobs, base.blobs, NluTrainer(), base.clock)
    runtime = BotRuntime(store, builds, FunctionHooks(functions), base.clock)

    def adapters() -> list[ServiceAdapter]:
        return [LexRuntimeApi(runtime, base.clock).adapter()]

    return Bots(store, builds, runtime, ServiceSlice("bots", jobs={BUILD_JOB: builds.run}, adapters=adapters))
