"""A sentence into audio at the output rate, with its marks timed from the engines' own alignments.

Per run: the speaker speaks it (at its rate); pitch, when the speaker does not shift it itself, is shifted
by speaking slower by the factor and resampling (which also restores the duration); then whispering and
loudness. Pauses are silence, breaths or beeps. Every time is counted in output samples, from the start of
the whole audio, and written in milliseconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from altostratus.speech import audio
from altostratus.speech.engines.speaker import Speaker, Spoken
from altostratus.speech.utterances import Mark, Pause, Run, Sentence, Sound

Samples = npt.NDArray[np.float32]
BREATH_DB = -32.0
PAUSE_BLOCK_MS = 10_000


@dataclasses.dataclass
class Rendered:
    """A sentence's audio at the output rate, in parts of at most a run or PAUSE_BLOCK_MS of silence, and its
    speech marks (all types; the caller picks)."""

    parts: list[Samples]
    marks: list[dict[str, Any]]

    @property
    def samples(self) -> Samples:
        """The whole sentence's audio."""
        return np.concatenate(self.parts).astype(np.float32) if self.parts else np.zeros(0, np.float32)


class Renderer:
    """Renders sentences one after another, keeping the running time for the marks."""

    def __init__(self, out_rate: int, speaker_for: Callable[[Run], Speaker]) -> None:
        self._rate = out_rate
        self._speaker_for = speaker_for
        self._elapsed = 0

    def _ms(self, samples: int) -> int:
        return round((self._elapsed + samples) * 1000 / self._rate)

    def render(self, sentence: Sentence) -> Rendered:
        """The sentence's audio and marks; the running time moves past it."""
        parts: list[Samples] = []
        marks: list[dict[str, Any]] = []
        length = 0
        sentence_at: int | None = None
        for piece in sentence.pieces:
            if sentence_at is None and not isinstance(piece, Pause) and sentence.value:
                sentence_at = length
                marks.append(self._mark(length, "sentence", sentence.start, sentence.end, sentence.value))
            if isinstance(piece, Mark):
                marks.append(self._mark(length, "ssml", piece.start, piece.end, piece.name))
                continue
            if isinstance(piece, Pause):
                marks.append({"time": self._ms(length), "type": "viseme", "value": "sil"})
                for block in self._pause(piece):
                    parts.append(block)
                    length += block.size
                continue
            else:
                samples, spoken = self._run(piece)
                for word, offset in zip(piece.words, spoken.word_offsets, strict=True):
                    marks.append(self._mark(length + offset, "word", word.start, word.end, word.value))
                marks.extend(
                    {"time": self._ms(length + phone.offset), "type": "viseme", "value": phone.viseme}
                    for phone in spoken.phones
                )
                marks.append({"time": self._ms(length + samples.size), "type": "viseme", "value": "sil"})
            parts.append(samples)
            length += samples.size
        self._elapsed += length
        marks.sort(key=lambda mark: mark["time"])
        return Rendered(parts, _without_repeated_silence(marks))

    def _mark(self, at: int, kind: str, start: int, end: int, value: str) -> dict[str, Any]:
        return {"time": self._ms(at), "type": kind, "start": start, "end": end, "value": value}

    def _pause(self, pause: Pause) -> list[Samples]:
        """The pause's audio; silence in blocks, so a long one is never held whole."""
        if pause.sound is Sound.BEEP:
            return [audio.beep(pause.ms, self._rate)]
        if pause.sound is Sound.BREATH:
            return [breath(pause.ms, self._rate)]
        total = round(pause.ms * self._rate / 1000)
        block = round(PAUSE_BLOCK_MS * self._rate / 1000)
        return [np.zeros(min(block, total - at), np.float32) for at in range(0, total, block)]

    def _run(self, run: Run) -> tuple[Samples, Spoken]:
        speaker = self._speaker_for(run)
        prosody = run.prosody
        source_rate = speaker.sample_rate
        if prosody.pitch != 1.0 and not speaker.native_pitch:
            # Slower by the factor, then played faster by it: the same length, the pitch moved by the factor.
            run = dataclasses.replace(run, prosody=dataclasses.replace(prosody, rate=prosody.rate / prosody.pitch))
            # To 100 Hz (a pitch step of 0.5% at most): a rate like 23,814 makes the polyphase filter 50 times slower.
            source_rate = round(speaker.sample_rate * prosody.pitch / 100) * 100
        spoken = speaker.speak(run)
        samples = audio.resample(spoken.samples, source_rate, self._rate)
        scale = self._rate / source_rate
        spoken = Spoken(
            samples,
            [min(round(o * scale), samples.size) for o in spoken.word_offsets],
            [dataclasses.replace(p, offset=min(round(p.offset * scale), samples.size)) for p in spoken.phones],
        )
        if prosody.whispered:
            samples = audio.whisper(samples, self._rate)
        if prosody.volume_db:
            samples = audio.gain(samples, prosody.volume_db)
        return samples.astype(np.float32), spoken


def breath(ms: int, rate: int) -> Samples:
    """An in-breath: soft noise, low-passed and shaped by a rise and fall, at about -32 dBFS."""
    count = max(1, round(ms * rate / 1000))
    noise = np.random.default_rng(7).standard_normal(count)
    width = max(1, rate // 2000)
    smooth = np.convolve(noise, np.ones(width) / width, mode="same")
    shaped = smooth * np.hanning(count)
    peak = float(np.max(np.abs(shaped))) or 1.0
    return (shaped / peak * 10 ** (BREATH_DB / 20)).astype(np.float32)


def _without_repeated_silence(marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for mark in marks:
        if mark["value"] == "sil" and kept and kept[-1]["type"] == "viseme" and kept[-1]["value"] == "sil":
            continue
        kept.append(mark)
    return kept
