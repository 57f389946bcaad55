# IPA is this module's subject: its letters look like Latin ones on purpose.
# ruff: noqa: RUF002
"""The formant voices: libespeak-ng through ctypes, timed by the word and phoneme events espeak sends.

libespeak-ng keeps one voice, one set of parameters and one synth callback for the whole process and is
not thread-safe, so every use goes through one module-level lock, and the library is initialised once, on
the first speaker built (never at import). Speech is synchronous: espeak_Synth returns when the callback
has had every buffer, with events that carry the sample they fall on.

Words with `phonemes` are spoken from them, as espeak's own phoneme mnemonics inside [[ ]], when the voice
is an English one and every phone has a mnemonic in espeak's English phoneme table; otherwise (other
languages, phones that table lacks) their text is spoken.
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
import dataclasses
import re
import threading

import numpy as np
import numpy.typing as npt

from altostratus.speech.engines.speaker import Phone, Spoken
from altostratus.speech.engines.timings import collapse_silences, fill_word_offsets
from altostratus.speech.utterances import Run, Word
from altostratus.speech.visemes import ipa_phones, viseme_of_ipa

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
INITIALIZE_PHONEME_IPA = 0x0002
CHARS_UTF8 = 1
PHONEMES = 0x100
POS_CHARACTER = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_PHONEME = 7
RATE, PITCH = 1, 3
EE_OK = 0
NORMAL_RATE, MIN_RATE, MAX_RATE = 175, 80, 450
NORMAL_PITCH, MAX_PITCH = 50, 100

# IPA -> espeak's mnemonics in its English phoneme table (docs/phonemes.md, and what `espeak-ng -x` writes
# for the same words `--ipa` writes in IPA).
_CONSONANTS: dict[str, str] = {
    "p": "p", "b": "b", "t": "t", "d": "d", "k": "k", "ɡ": "g", "f": "f", "v": "v", "θ": "T", "ð": "D",
    "s": "s", "z": "z", "ʃ": "S", "ʒ": "Z", "h": "h", "tʃ": "tS", "dʒ": "dZ", "m": "m", "n": "n", "ŋ": "N",
    "l": "l", "ɹ": "r", "r": "r", "w": "w", "j": "j", "ɾ": "t#", "ʔ": "?", "x": "x", "ç": "C",
}  # fmt: skip
_VOWELS: dict[str, str] = {
    "ə": "@", "ɚ": "3", "ɜ": "3:", "ɝ": "3:", "æ": "a", "a": "a", "ɐ": "a#", "ɑ": "A:", "ɒ": "0", "ʌ": "V",
    "ɛ": "E", "e": "e", "ɪ": "I", "ᵻ": "I#", "i": "i:", "ɔ": "O:", "o": "o", "ʊ": "U", "u": "u:",
    "eɪ": "eI", "aɪ": "aI", "aʊ": "aU", "oʊ": "oU", "əʊ": "oU", "ɔɪ": "OI", "ɪə": "i@", "ɛə": "e@",
    "eə": "e@", "ʊə": "U@",
}  # fmt: skip
_STRESS_MNEMONICS = {"ˈ": "'", "ˌ": ","}


class EspeakError(RuntimeError):
    """libespeak-ng is missing, failed to start, or refused a voice or a text."""


class _Event(ctypes.Structure):
    class _Id(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclasses.dataclass
class _Heard:
    """What the synth callback collected for one espeak_Synth call."""

    chunks: list[npt.NDArray[np.int16]] = dataclasses.field(default_factory=list)
    # (text position, 0-based, sample) of each word event; (sample, IPA) of each phoneme event.
    words: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    phonemes: list[tuple[int, str]] = dataclasses.field(default_factory=list)


class _Library:
    """libespeak-ng, initialised, with the callback that fills `heard` (use only under _LOCK)."""

    def __init__(self) -> None:
        path = ctypes.util.find_library("espeak-ng")
        if path is None:
            raise EspeakError("libespeak-ng not found (Debian: apt-get install libespeak-ng1)")
        self.lib = ctypes.CDLL(path)
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        options = INITIALIZE_PHONEME_EVENTS | INITIALIZE_PHONEME_IPA
        rate = int(self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None, options))
        if rate <= 0:
            raise EspeakError(f"espeak_Initialize failed ({rate}); is espeak-ng-data installed?")
        self.sample_rate = rate
        self.heard = _Heard()
        # Kept on self: the library holds only a raw pointer, so the Python object must outlive it.
        self._callback = _Callback(self._collect)
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        if wav and count > 0:
            self.heard.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        index = 0
        while events[index].type != EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == EVENT_WORD:
                self.heard.words.append((event.text_position - 1, event.sample))
            elif event.type == EVENT_PHONEME:
                name = bytes(event.id.string).split(b"\0", 1)[0].decode("utf-8", "replace")
                self.heard.phonemes.append((event.sample, name))
            index += 1
        return 0

    def voices(self, spec: _Voice | None = None) -> list[tuple[list[str], str, str]]:
        """(languages, name, identifier) of each voice espeak lists for the spec (all when None)."""
        array = self.lib.espeak_ListVoices(ctypes.byref(spec) if spec is not None else None)
        found = []
        index = 0
        while array[index]:
            voice = array[index].contents
            found.append((_languages(voice.languages), _text(voice.name), _text(voice.identifier)))
            index += 1
        return found

    def set_voice(self, name: str) -> None:
        status = self.lib.espeak_SetVoiceByName(name.encode("utf-8"))
        if status != EE_OK:
            raise EspeakError(f"espeak voice {name!r} not found (espeak error {status})")


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", "replace")


def _languages(pointer: int | None) -> list[str]:
    """espeak's list of (priority byte, language, NUL) ended by a zero priority, as the languages."""
    languages = []
    offset = 0
    while pointer and ctypes.string_at(pointer + offset, 1) != b"\0":
        language = ctypes.string_at(pointer + offset + 1)
        languages.append(language.decode("utf-8", "replace"))
        offset += len(language) + 2
    return languages


_LOCK = threading.Lock()
_library: _Library | None = None


def _loaded() -> _Library:
    """The initialised library; the caller holds _LOCK."""
    global _library
    if _library is None:
        _library = _Library()
    return _library


def espeak_voices() -> list[tuple[str, str]]:
    """(language, name) of each installed espeak-ng voice, by its first language: ("en-us", "English_(America)")."""
    with _LOCK:
        voices = _loaded().voices()
    return [(languages[0], name) for languages, name, _ in voices if languages]


def espeak_variants() -> list[str]:
    """The voice variants espeak-ng has ("f3", "m3", "klatt", ...), as `+variant` names them."""
    spec = _Voice()
    spec.languages = ctypes.cast(ctypes.c_char_p(b"variant"), ctypes.c_void_p).value
    with _LOCK:
        voices = _loaded().voices(spec)
    return sorted(identifier.rsplit("/", 1)[-1] for _, _, identifier in voices)


class EspeakSpeaker:
    """One espeak-ng voice: a language ("en-us", "de") and optionally a variant ("f3" female, "m3" male)."""

    native_pitch = True

    def __init__(self, language: str, *, variant: str | None = None) -> None:
        self.language = language
        self.variant = variant
        variants = espeak_variants() if variant is not None else []
        if variant is not None and variant not in variants:
            raise EspeakError(f"variant={variant!r}; expected one of {variants}")
        self._voice_name = language if variant is None else f"{language}+{variant}"
        with _LOCK:
            library = _loaded()
            library.set_voice(language)
            self.sample_rate = library.sample_rate
        self._speaks_english = language.lower().startswith("en")

    def speak(self, run: Run) -> Spoken:
        """The run's audio, each word's first sample from espeak's word events, its phones from phoneme events."""
        text, starts = self._text(run.words)
        if not run.words:
            return Spoken(np.zeros(0, np.float32), [], [])
        flags = CHARS_UTF8 | (PHONEMES if "[[" in text else 0)
        with _LOCK:
            library = _loaded()
            library.set_voice(self._voice_name)
            library.lib.espeak_SetParameter(RATE, _rate(run.prosody.rate), 0)
            library.lib.espeak_SetParameter(PITCH, _pitch(run.prosody.pitch), 0)
            library.heard = heard = _Heard()
            encoded = text.encode("utf-8")
            status = library.lib.espeak_Synth(encoded, len(encoded) + 1, 0, POS_CHARACTER, 0, flags, None, None)
        if status != EE_OK:
            raise EspeakError(f"espeak_Synth failed (espeak error {status}) for a run of {len(run.words)} words")
        pcm = np.concatenate(heard.chunks) if heard.chunks else np.zeros(0, np.int16)
        samples = (pcm.astype(np.float32) / 32768.0).clip(-1.0, 1.0)
        phones = collapse_silences([Phone(sample, viseme_of_ipa(name)) for sample, name in heard.phonemes])
        return Spoken(samples, _word_offsets(starts, heard.words, samples.size), phones)

    def _text(self, words: tuple[Word, ...]) -> tuple[str, list[int]]:
        """The text espeak reads (words joined by spaces) and the character at which each word starts."""
        pieces: list[str] = []
        starts: list[int] = []
        offset = 0
        for word in words:
            piece = self._piece(word)
            starts.append(offset)
            pieces.append(piece)
            offset += len(piece) + 1
        return " ".join(pieces), starts

    def _piece(self, word: Word) -> str:
        if word.phonemes is not None and self._speaks_english:
            mnemonics = espeak_mnemonics(word.phonemes)
            if mnemonics is not None:
                return f"[[{mnemonics}]]"
        # Brackets would open espeak's phoneme input, NULs end the C string, and other control characters
        # have no business in speech; each becomes a space so character positions still line up.
        cleaned = "".join(" " if c in "[]" or not c.isprintable() else c for c in word.text)
        return " ".join(cleaned.split()) or ","


def espeak_mnemonics(ipa: str) -> str | None:
    """An IPA pronunciation in espeak's English mnemonics ("təˈmeɪtoʊ" -> "t@m'eItoU"), None if it has no way.

    espeak wants a stress mark just before the stressed vowel, where IPA puts it before the syllable.
    """
    mnemonics: list[str] = []
    for word in ipa.split():
        if mnemonics:
            mnemonics.append("_")
        stress = ""
        for piece in re.split("([ˈˌ])", word):
            if piece in _STRESS_MNEMONICS:
                stress = _STRESS_MNEMONICS[piece]
                continue
            for phone in ipa_phones(piece):
                key = "".join(c for c in phone if c not in "ːˑ:\u0361\u035c").replace("g", "ɡ")
                if key in _VOWELS:
                    mnemonics.append(stress + _VOWELS[key])
                    stress = ""
                elif key in _CONSONANTS:
                    mnemonics.append(_CONSONANTS[key])
                else:
                    return None
    return "".join(mnemonics) or None


def _rate(rate: float) -> int:
    return int(min(MAX_RATE, max(MIN_RATE, round(NORMAL_RATE * rate))))


def _pitch(pitch: float) -> int:
    return int(min(MAX_PITCH, max(0, round(NORMAL_PITCH * pitch))))


def _word_offsets(starts: list[int], events: list[tuple[int, int]], total: int) -> list[int]:
    """One sample per run word, from the word events: espeak numbers characters in the whole text, so each
    event falls in the run word whose span holds its position; a word it merged into its neighbour has none.
    """
    first: list[int | None] = [None] * len(starts)
    for position, sample in events:
        index = max(0, bisect.bisect_right(starts, position) - 1)
        current = first[index]
        first[index] = sample if current is None else min(current, sample)
    return fill_word_offsets(first, total)
