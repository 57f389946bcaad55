"""The speech service: checks a synthesis request, then speaks it sentence by sentence as audio or marks."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Generator, Sequence

from altostratus.speech import audio, audio_formats, ssml
from altostratus.speech.engines.speaker import Speaker
from altostratus.speech.errors import (
    EngineNotSupported,
    InvalidParameter,
    InvalidSampleRate,
    InvalidSsml,
    MarksNotSupportedForFormat,
    SsmlMarksNotSupportedForTextType,
    TextLengthExceeded,
)
from altostratus.speech.lexicon_store import LexiconStore
from altostratus.speech.rendering import Renderer
from altostratus.speech.sentences import build_sentences
from altostratus.speech.spans import plain_text
from altostratus.speech.text_checks import unspeakable
from altostratus.speech.utterances import Pause, Run, Sentence
from altostratus.speech.voices import EngineKind, VoiceCatalog

MARK_TYPES = ("sentence", "ssml", "viseme", "word")
TEXT_TYPES = ("text", "ssml")
# Polly's limits for SynthesizeSpeech: 6,000 characters in all, 3,000 of them billed (outside SSML tags).
MAX_CHARACTERS = 6000
MAX_BILLED = 3000
# StartSpeechSynthesisTask: 200,000 in all, 100,000 billed.
MAX_TASK_CHARACTERS = 200_000
MAX_TASK_BILLED = 100_000
# Silence a request may ask for (breaks and paragraphs): ten minutes, two hours for a task. Each break is at
# most 10 s, as in Polly; these stop a few kilobytes of <break/> from making hours of audio.
MAX_PAUSE_S = 600
MAX_TASK_PAUSE_S = 7200
MARK_RATES = list(audio_formats.FORMATS["mp3"].sample_rates)


@dataclasses.dataclass(frozen=True)
class SynthesisRequest:
    """What to say, in which voice, and in which form (SynthesizeSpeech's parameters, our names)."""

    text: str
    voice_id: str
    output_format: str
    text_type: str = "text"
    engine: str | None = None
    sample_rate: str | None = None
    mark_types: Sequence[str] = ()
    lexicon_names: Sequence[str] = ()
    language: str | None = None


@dataclasses.dataclass
class Synthesis:
    """A checked request, ready to speak: its content type and billed characters, and its bytes on demand."""

    content_type: str
    characters: int
    sample_rate: int
    engine: EngineKind
    chunks: Generator[bytes, None, None]


class SpeechService:
    """Voices, lexicons and the engines behind them; at most `concurrency` sentences are spoken at once."""

    def __init__(self, catalog: VoiceCatalog, lexicons: LexiconStore, *, concurrency: int = 2) -> None:
        self.catalog = catalog
        self.lexicons = lexicons
        self._slots = threading.BoundedSemaphore(concurrency)

    def synthesize(self, request: SynthesisRequest, *, task: bool = False) -> Synthesis:
        """Check everything a client can get wrong, then hand back the stream (nothing is spoken yet)."""
        _check_text(request.text, task)
        voice = self.catalog.voice(request.voice_id)
        engine, speaker = voice.speaker(request.engine, request.language)
        language = request.language or voice.language
        if language != voice.language:
            if engine is EngineKind.NEURAL:
                raise EngineNotSupported(f"LanguageCode={language!r}: the neural engine speaks {voice.language} only")
            speaker = self.catalog.speaker_for_language(language) or speaker
        marks = _mark_types(request)
        content_type = audio_formats.content_type(request.output_format)
        # Marks are timed on the audio an mp3 of the same request would hold.
        audio_format = "mp3" if request.output_format == audio_formats.SPEECH_MARKS else request.output_format
        try:
            rate = audio_formats.sample_rate_for(audio_format, request.sample_rate, engine is EngineKind.NEURAL)
        except InvalidSampleRate:
            if audio_format == request.output_format:
                raise
            raise InvalidSampleRate(
                f"SampleRate={request.sample_rate!r}; speech marks take the rates of mp3: {MARK_RATES}"
            ) from None
        lexicons = self.lexicons.for_request(list(request.lexicon_names), language)
        if request.text_type == "ssml":
            document = ssml.parse(request.text)
            spans, characters = document.spans, document.characters
        else:
            spans, characters = plain_text(request.text), len(request.text)
        _check_billed(characters, task)
        sentences = build_sentences(spans, request.text.encode("utf-8"), lexicons, language)
        _check_pauses(sentences, task)
        speakers = {language: speaker}
        for run in (p for s in sentences for p in s.pieces if isinstance(p, Run)):
            if run.language is not None and run.language not in speakers:
                found = self.catalog.speaker_for_language(run.language)
                if found is None:
                    raise InvalidSsml(
                        f"xml:lang={run.language[:40]!r}: no voice here speaks it; expected one of "
                        f"{self.catalog.languages()}"
                    )
                speakers[run.language] = found

        def speaker_for(run: Run) -> Speaker:
            return speakers[run.language or language]

        renderer = Renderer(rate, speaker_for)
        if request.output_format == "json":
            chunks = self._marks(sentences, renderer, marks)
        else:
            chunks = self._audio(sentences, renderer, request.output_format, rate)
        return Synthesis(content_type, characters, rate, engine, chunks)

    def _audio(
        self, sentences: list[Sentence], renderer: Renderer, output_format: str, rate: int
    ) -> Generator[bytes, None, None]:
        encoder = audio.open_encoder(output_format, rate)
        for sentence in sentences:
            with self._slots:
                rendered = renderer.render(sentence)
            for part in rendered.parts:
                data = encoder.encode(part)
                if data:
                    yield data
        tail = encoder.finish()
        if tail:
            yield tail

    def _marks(
        self, sentences: list[Sentence], renderer: Renderer, types: frozenset[str]
    ) -> Generator[bytes, None, None]:
        for sentence in sentences:
            with self._slots:
                rendered = renderer.render(sentence)
            lines = [
                json.dumps(m, ensure_ascii=False, separators=(",", ":")) for m in rendered.marks if m["type"] in types
            ]
            if lines:
                yield ("\n".join(lines) + "\n").encode("utf-8")


def _check_text(text: str, task: bool) -> None:
    limit = MAX_TASK_CHARACTERS if task else MAX_CHARACTERS
    if not text.strip():
        raise InvalidParameter("Text is empty; give at least one character to speak")
    if len(text) > limit:
        raise TextLengthExceeded(f"Maximum text length has been exceeded: {len(text)} characters, at most {limit}")
    for index, char in enumerate(text):
        if unspeakable(char):
            raise InvalidParameter(
                f"Text has the control character U+{ord(char):04X} at position {index}; it cannot be spoken"
            )


def _check_pauses(sentences: list[Sentence], task: bool) -> None:
    limit = MAX_TASK_PAUSE_S if task else MAX_PAUSE_S
    total = sum(p.ms for s in sentences for p in s.pieces if isinstance(p, Pause)) / 1000
    if total > limit:
        raise InvalidSsml(f"the breaks add up to {total:.0f} s; a request holds at most {limit} s of them")


def _check_billed(characters: int, task: bool) -> None:
    limit = MAX_TASK_BILLED if task else MAX_BILLED
    if characters > limit:
        raise TextLengthExceeded(
            f"Maximum text length has been exceeded: {characters} billed characters (outside SSML tags), "
            f"at most {limit}"
        )


def _mark_types(request: SynthesisRequest) -> frozenset[str]:
    types = frozenset(request.mark_types)
    unknown = sorted(types - set(MARK_TYPES))
    if unknown:
        raise InvalidParameter(f"SpeechMarkTypes={unknown}; expected some of {list(MARK_TYPES)}")
    if request.text_type not in TEXT_TYPES:
        raise InvalidParameter(f"TextType={request.text_type!r}; expected one of {list(TEXT_TYPES)}")
    if request.output_format == "json" and not types:
        raise MarksNotSupportedForFormat("OutputFormat json needs SpeechMarkTypes (sentence, ssml, viseme, word)")
    if request.output_format != "json" and types:
        raise MarksNotSupportedForFormat(
            f"SpeechMarkTypes are only given with OutputFormat json, not {request.output_format!r}"
        )
    if "ssml" in types and request.text_type != "ssml":
        raise SsmlMarksNotSupportedForTextType("ssml speech marks need TextType ssml")
    return types
