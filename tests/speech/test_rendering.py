"""Rendering sentences: marks timed from the speaker's own offsets, pauses, and pitch shifted without changing
the length (a fake speaker with known timings stands in for an engine)."""

from __future__ import annotations

import dataclasses

import numpy as np

from altostratus.speech.engines.speaker import Phone, Spoken
from altostratus.speech.rendering import Renderer
from altostratus.speech.utterances import Mark, Pause, Prosody, Run, Sentence, Word


@dataclasses.dataclass
class ToneSpeaker:
    """Each word is 0.25 s of a 200 Hz tone at 16 kHz (divided by the rate), its phone at its start."""

    sample_rate: int = 16000
    native_pitch: bool = False

    def speak(self, run: Run) -> Spoken:
        per_word = round(0.25 * self.sample_rate / run.prosody.rate)
        count = per_word * len(run.words)
        t = np.arange(count) / self.sample_rate
        samples = (0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
        offsets = [i * per_word for i in range(len(run.words))]
        return Spoken(samples, offsets, [Phone(o, "p") for o in offsets])


def words(*names: str) -> tuple[Word, ...]:
    return tuple(Word(n, i * 10, i * 10 + len(n), n) for i, n in enumerate(names))


def test_marks_come_from_the_speaker_s_offsets_and_pauses_add_time() -> None:
    sentence = Sentence((Run(words("a", "b")), Pause(500), Mark("m", 30, 40), Run(words("c"))), 0, 40, "a b c")
    renderer = Renderer(8000, lambda run: ToneSpeaker())
    rendered = renderer.render(sentence)
    assert rendered.samples.size == 8000 * (0.25 * 3 + 0.5)
    times = {m["value"]: m["time"] for m in rendered.marks if m["type"] in ("word", "ssml")}
    assert times == {"a": 0, "b": 250, "m": 1000, "c": 1000}
    assert rendered.marks[0]["type"] == "sentence" and rendered.marks[0]["time"] == 0
    second = renderer.render(Sentence((Run(words("d")),), 50, 51, "d"))
    assert second.marks[0]["time"] == 1250


def test_pitch_is_shifted_with_the_same_length() -> None:
    renderer = Renderer(16000, lambda run: ToneSpeaker())
    plain = renderer.render(Sentence((Run(words("a", "b")),), 0, 3, "a b")).samples
    higher = (
        Renderer(16000, lambda run: ToneSpeaker())
        .render(Sentence((Run(words("a", "b"), Prosody(pitch=1.5)),), 0, 3, "a b"))
        .samples
    )
    assert abs(higher.size - plain.size) <= 2
    spectrum = np.abs(np.fft.rfft(higher))
    assert abs(np.argmax(spectrum) * 16000 / higher.size - 300) < 10


def test_volume_and_whisper_are_applied() -> None:
    loud = Renderer(16000, lambda run: ToneSpeaker()).render(
        Sentence((Run(words("a"), Prosody(volume_db=-12)),), 0, 1, "a")
    )
    assert np.sqrt(np.mean(loud.samples**2)) < 0.5 / np.sqrt(2) / 3
