"""The neural voice: Piper (VITS, ONNX) with the phoneme alignments its model gives, so marks are measured.

Each word is phonemized on its own (espeak-ng inside piper) and the words' phonemes are joined by the word
separator, so the model's per-phoneme sample counts tell exactly where each word starts; espeak would
otherwise merge function words ("on the" -> "ɔnðə") and the count of words would no longer match.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from altostratus.speech.engines.speaker import Phone, Spoken
from altostratus.speech.utterances import Run, Word
from altostratus.speech.visemes import viseme_of_ipa

BOS, EOS, PAD, WORD_GAP = "^", "$", "_", " "
# The model's sampling noise (its defaults: 0.667 for the voice, 0.8 for durations). A third is as clear
# (Whisper tiny's WER on 40 Harvard sentences: 12.5% with either) and makes the same text sound nearly the
# same from one request to the next.
NOISE = 0.333
# The most phonemes one model call takes (about 25 s of speech, 0.5 GB), and the rates it is asked for
# (the renderer slows a run further to raise its pitch).
MAX_PHONEMES = 400
MIN_RATE, MAX_RATE = 0.1, 4.0
# Symbols that are punctuation, stress or length to the model: they shape the speech but are not phones.
NOT_PHONES = frozenset(",.;:!?¡¿—…\"'()- ˈˌːˑ")


class PiperSpeaker:
    """One Piper voice: its model loads on first use (about 2 s), once, and serves every thread."""

    native_pitch = False

    def __init__(self, model: Path, config: Path | None = None) -> None:
        self._model = model
        self._config_path = config or Path(f"{model}.json")
        self._config: dict[str, Any] = json.loads(self._config_path.read_text(encoding="utf-8"))
        self.sample_rate = int(self._config["audio"]["sample_rate"])
        self._id_map: dict[str, list[int]] = self._config["phoneme_id_map"]
        self._voice: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._voice is None:
                from piper import PiperVoice

                self._voice = PiperVoice.load(self._model, self._config_path, include_alignments=True)
            return self._voice

    def speak(self, run: Run) -> Spoken:
        """The run's audio, with each word's first sample and each phone's, from the model's alignments.

        A long run is spoken in pieces of at most MAX_PHONEMES (cut after a comma where there is one): the
        model's memory grows with the square of its input, and 1,200 words at once take 10 GB.
        """
        voice = self._loaded()
        spoken = [self._piece(voice, piece, run.prosody.rate) for piece in self._pieces(voice, run.words)]
        samples: list[npt.NDArray[np.float32]] = []
        offsets: list[int] = []
        phones: list[Phone] = []
        at = 0
        for piece in spoken:
            samples.append(piece.samples)
            offsets.extend(at + offset for offset in piece.word_offsets)
            phones.extend(dataclasses.replace(phone, offset=at + phone.offset) for phone in piece.phones)
            at += piece.samples.size
        joined = np.concatenate(samples) if samples else np.zeros(0, np.float32)
        return Spoken(joined.astype(np.float32), offsets, phones)

    def _pieces(self, voice: Any, words: tuple[Word, ...]) -> list[list[tuple[Word, list[str]]]]:
        pieces: list[list[tuple[Word, list[str]]]] = [[]]
        length = 0
        for word in words:
            phonemes = [p for p in self._phonemes(voice, word) if p in self._id_map]
            if pieces[-1] and length + len(phonemes) > MAX_PHONEMES:
                pieces.append([])
                length = 0
            pieces[-1].append((word, phonemes))
            length += len(phonemes) + 1
            if length > MAX_PHONEMES // 2 and word.text.endswith((",", ";", ":")):
                pieces.append([])
                length = 0
        return [piece for piece in pieces if piece]

    def _piece(self, voice: Any, words: list[tuple[Word, list[str]]], rate: float) -> Spoken:
        from piper import SynthesisConfig

        phonemes: list[str] = []
        word_phoneme_index: list[int] = []
        for _, word_phonemes in words:
            if phonemes:
                phonemes.append(WORD_GAP)
            word_phoneme_index.append(len(phonemes))
            phonemes.extend(word_phonemes)
        if all(p in NOT_PHONES for p in phonemes):
            return Spoken(np.zeros(0, np.float32), [0] * len(words), [])
        ids, first_id = self._ids(phonemes)
        length_scale = 1.0 / min(MAX_RATE, max(MIN_RATE, rate))
        config = SynthesisConfig(length_scale=length_scale, noise_scale=NOISE, noise_w_scale=NOISE)
        audio, id_samples = voice.phoneme_ids_to_audio(ids, config, include_alignments=True)
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        if peak > 1e-8:
            samples = samples / peak * 0.9
        starts = np.concatenate([[0], np.cumsum(np.asarray(id_samples, dtype=np.int64))])
        phoneme_start = [int(starts[i]) for i in first_id]
        word_offsets = [phoneme_start[i] if i < len(phoneme_start) else samples.size for i in word_phoneme_index]
        phones = [Phone(phoneme_start[i], viseme_of_ipa(p)) for i, p in enumerate(phonemes) if p not in NOT_PHONES]
        return Spoken(samples, word_offsets, _merge_repeats(phones))

    def _phonemes(self, voice: Any, word: Word) -> list[str]:
        if word.phonemes is not None:
            # The pronunciation replaces the word; the punctuation after it still phrases the sentence.
            ending = word.text[len(word.text.rstrip(",.;:!?")) :]
            return ipa_phones_flat(word.phonemes) + list(ending)
        sentences: list[list[str]] = voice.phonemize(word.text)
        return [p for sentence in sentences for p in sentence]

    def _ids(self, phonemes: list[str]) -> tuple[list[int], list[int]]:
        """The model's ids ([BOS, PAD] + each phoneme's ids and a PAD + [EOS]), and where each phoneme's begin."""
        ids = [*self._id_map[BOS], *self._id_map[PAD]]
        first_id = []
        for phoneme in phonemes:
            first_id.append(len(ids))
            ids.extend(self._id_map[phoneme])
            ids.extend(self._id_map[PAD])
        ids.extend(self._id_map[EOS])
        return ids, first_id


def ipa_phones_flat(ipa: str) -> list[str]:
    """An IPA pronunciation as the model's symbols (espeak's IPA, one code point each), spaces as word gaps."""
    return list(" ".join(ipa.split()))


def _merge_repeats(phones: list[Phone]) -> list[Phone]:
    """One viseme per mouth shape: a diphthong's or length mark's repeat of the same viseme is dropped."""
    merged: list[Phone] = []
    for phone in phones:
        if not merged or merged[-1].viseme != phone.viseme or merged[-1].offset == phone.offset:
            if merged and merged[-1].offset == phone.offset:
                merged[-1] = phone
            else:
                merged.append(phone)
    return merged
