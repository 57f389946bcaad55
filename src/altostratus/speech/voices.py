"""The voice catalog: our voices and Polly's names for them, the engines each answers for, and its speakers."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping

from altostratus.speech import voice_table as table
from altostratus.speech.engines.speaker import Speaker
from altostratus.speech.errors import EngineNotSupported, InvalidParameter, LanguageNotSupported


class EngineKind(enum.StrEnum):
    """Polly's engines that voices here answer for."""

    STANDARD = "standard"
    NEURAL = "neural"


ENGINES = ("standard", "neural", "long-form", "generative")


@dataclasses.dataclass(frozen=True)
class Voice:
    """A voice as DescribeVoices shows it, with the speaker that answers for each engine it supports."""

    id: str
    gender: str
    language: str
    additional_languages: tuple[str, ...]
    speakers: Mapping[EngineKind, Speaker]
    # For an alias, the voice that answers for each engine (documentation and `alto voices`).
    answered_by: Mapping[EngineKind, str]

    @property
    def language_name(self) -> str:
        """The language's English name."""
        return table.LANGUAGES[self.language][0]

    @property
    def engines(self) -> list[str]:
        """The engines it answers for, in Polly's order."""
        return [kind.value for kind in EngineKind if kind in self.speakers]

    def default_engine(self) -> EngineKind:
        """Polly's default is standard; a voice with only the neural engine gets that."""
        return EngineKind.STANDARD if EngineKind.STANDARD in self.speakers else EngineKind.NEURAL

    def speaker(self, engine: str | None, language: str | None = None) -> tuple[EngineKind, Speaker]:
        """The engine and speaker for a request; EngineNotSupported or LanguageNotSupported when none fits."""
        if language is not None and language != self.language and language not in self.additional_languages:
            raise LanguageNotSupported(
                f"LanguageCode={language!r}; voice {self.id} speaks {[self.language, *self.additional_languages]}"
            )
        if engine is None:
            kind = self.default_engine()
        elif engine not in ENGINES:
            raise InvalidParameter(f"Engine={engine!r}; expected one of {list(ENGINES)}")
        elif engine not in self.engines:
            raise EngineNotSupported(
                f"This voice does not support the selected engine: {engine} (voice {self.id} supports {self.engines})"
            )
        else:
            kind = EngineKind(engine)
        return kind, self.speakers[kind]


class VoiceCatalog:
    """Every voice by id; speakers for languages, for SSML's <lang>."""

    def __init__(self, voices: list[Voice], by_language: Mapping[str, Speaker]) -> None:
        self._voices = {voice.id: voice for voice in voices}
        self._by_language = dict(by_language)

    def voice(self, voice_id: str) -> Voice:
        """The voice `voice_id`; a ValidationException naming the voices when there is none."""
        voice = self._voices.get(voice_id)
        if voice is None:
            raise InvalidParameter(
                f"VoiceId={voice_id!r}; expected a voice of DescribeVoices, such as {sorted(self._voices)[:8]}"
            )
        return voice

    def voices(
        self, *, engine: str | None = None, language: str | None = None, include_additional: bool = False
    ) -> list[Voice]:
        """The voices, by id; only those answering for `engine` and speaking `language` when given."""
        if engine is not None and engine not in ENGINES:
            raise InvalidParameter(f"Engine={engine!r}; expected one of {list(ENGINES)}")
        chosen = []
        for voice in sorted(self._voices.values(), key=lambda v: v.id):
            if engine is not None and engine not in voice.engines:
                continue
            speaks = language is None or voice.language == language
            if not speaks and include_additional:
                speaks = language in voice.additional_languages
            if speaks:
                chosen.append(voice)
        return chosen

    def languages(self) -> list[str]:
        """Every language some voice speaks."""
        return sorted(
            {v.language for v in self._voices.values()}
            | {code for v in self._voices.values() for code in v.additional_languages}
        )

    def speaker_for_language(self, language: str) -> Speaker | None:
        """A speaker of `language` ("de-DE", or just "de"), for text inside <lang>; None when none speaks it."""
        if language in self._by_language:
            return self._by_language[language]
        prefix = language.split("-")[0].lower()
        for code, speaker in self._by_language.items():
            if code.split("-")[0].lower() == prefix:
                return speaker
        return None


def build_catalog(neural: Speaker, festival: Speaker, espeak: Callable[[str, str | None], Speaker]) -> VoiceCatalog:
    """The catalog of voice_table: `espeak(voice, variant)` makes an espeak-ng speaker (variant f3: female)."""
    voices: list[Voice] = []
    speakers: dict[tuple[str, str | None], Speaker] = {}

    def espeak_speaker(language: str, variant: str | None) -> Speaker:
        key = (table.LANGUAGES[language][1], variant)
        if key not in speakers:
            speakers[key] = espeak(*key)
        return speakers[key]

    neural_only = {EngineKind.NEURAL: neural}
    voices.append(Voice("Joe", "Male", "en-US", (), neural_only, {EngineKind.NEURAL: "Joe"}))
    voices.append(Voice("Slt", "Female", "en-US", (), {EngineKind.STANDARD: festival}, {EngineKind.STANDARD: "Slt"}))
    by_language: dict[str, Speaker] = {}
    for language in table.ESPEAK_VOICES:
        speaker = espeak_speaker(language, None)
        by_language[language] = speaker
        voice_id = f"espeak-{language}"
        voices.append(
            Voice(voice_id, "Male", language, (), {EngineKind.STANDARD: speaker}, {EngineKind.STANDARD: voice_id})
        )
    for name, (gender, language) in table.ALIASES.items():
        variant = "f3" if gender == "Female" else None
        if language == "en-US" and gender == "Female":
            standard, standard_name = festival, "Slt"
        else:
            standard = espeak_speaker(language, variant)
            standard_name = f"espeak-{language}" + ("+f3" if variant else "")
        found: dict[EngineKind, Speaker] = {EngineKind.STANDARD: standard}
        answered = {EngineKind.STANDARD: standard_name}
        if language.startswith("en-"):
            found[EngineKind.NEURAL], answered[EngineKind.NEURAL] = neural, "Joe"
        voices.append(Voice(name, gender, language, table.ADDITIONAL_LANGUAGES.get(name, ()), found, answered))
    return VoiceCatalog(voices, by_language)
