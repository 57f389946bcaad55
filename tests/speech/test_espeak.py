"""The espeak-ng speaker: real libespeak-ng, timed by its own events."""

from __future__ import annotations

import ctypes.util
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from altostratus.speech.engines.espeak import EspeakError, EspeakSpeaker, espeak_mnemonics, espeak_voices
from altostratus.speech.utterances import Prosody, Run, Word

pytestmark = pytest.mark.skipif(ctypes.util.find_library("espeak-ng") is None, reason="libespeak-ng not installed")


def run_of(text: str, rate: float = 1.0) -> Run:
    return Run(tuple(Word(word, 0, len(word), word) for word in text.split()), Prosody(rate=rate))


@pytest.fixture(scope="module")
def speaker() -> EspeakSpeaker:
    return EspeakSpeaker("en-us", variant="f3")


def assert_offsets(spoken_offsets: list[int], words: int, samples: int) -> None:
    assert len(spoken_offsets) == words
    assert spoken_offsets == sorted(spoken_offsets)
    assert all(0 <= offset <= samples for offset in spoken_offsets)


def test_speaks_audio_in_range(speaker: EspeakSpeaker) -> None:
    spoken = speaker.speak(run_of("Hello world, this is a test."))
    assert speaker.sample_rate == 22050
    assert spoken.samples.dtype == np.float32
    assert spoken.samples.size > speaker.sample_rate // 2
    assert float(np.max(np.abs(spoken.samples))) > 0.05
    assert float(np.max(np.abs(spoken.samples))) <= 1.0


def test_more_words_take_longer(speaker: EspeakSpeaker) -> None:
    short = speaker.speak(run_of("one two three"))
    long = speaker.speak(run_of("one two three four five six seven eight nine ten"))
    assert long.samples.size > short.samples.size * 2


def test_rate_two_is_faster(speaker: EspeakSpeaker) -> None:
    text = "one two three four five six seven eight nine ten"
    normal, fast = speaker.speak(run_of(text)), speaker.speak(run_of(text, rate=2.0))
    assert fast.samples.size < normal.samples.size * 0.7


def test_one_monotone_offset_per_word(speaker: EspeakSpeaker) -> None:
    run = run_of("Hello café naïve, on the world. Don't 42 go ... ¿qué?")
    spoken = speaker.speak(run)
    assert_offsets(spoken.word_offsets, len(run.words), spoken.samples.size)
    # Words espeak times on their own start strictly later than the one before.
    assert spoken.word_offsets[0] < spoken.word_offsets[1] < spoken.word_offsets[2] < spoken.word_offsets[3]


def test_a_word_of_several_words_is_one_offset(speaker: EspeakSpeaker) -> None:
    run = Run((Word("it costs", 0, 8, "it costs"), Word("three dollars fifty", 9, 14, "$3.50")))
    spoken = speaker.speak(run)
    assert_offsets(spoken.word_offsets, 2, spoken.samples.size)
    assert spoken.word_offsets[1] > spoken.word_offsets[0]


def test_phones_are_polly_visemes_in_order(speaker: EspeakSpeaker) -> None:
    spoken = speaker.speak(run_of("Judge the thin ship."))
    visemes = [phone.viseme for phone in spoken.phones]
    assert visemes[:3] == ["S", "E", "S"]
    assert "T" in visemes
    assert [phone.offset for phone in spoken.phones] == sorted(phone.offset for phone in spoken.phones)


def test_german() -> None:
    german = EspeakSpeaker("de")
    run = run_of("Guten Tag, wie geht es Ihnen? Schön, danke.")
    spoken = german.speak(run)
    assert float(np.max(np.abs(spoken.samples))) > 0.05
    assert_offsets(spoken.word_offsets, len(run.words), spoken.samples.size)


def test_phonemes_are_spoken_as_given(speaker: EspeakSpeaker) -> None:
    words = (
        Word("say", 0, 3, "say"),
        Word("tomato", 4, 10, "tomato", phonemes="təˈmɑːtoʊ"),
        Word("now", 11, 14, "now"),
    )
    spoken = speaker.speak(Run(words))
    assert_offsets(spoken.word_offsets, 3, spoken.samples.size)
    # "tomato" as written would be said with /eɪ/ (viseme e); the given /ɑː/ is viseme a.
    assert [phone.viseme for phone in spoken.phones][2:8] == ["t", "@", "p", "a", "t", "o"]


def test_mnemonics() -> None:
    assert espeak_mnemonics("təˈmeɪtoʊ") == "t@m'eItoU"
    assert espeak_mnemonics("ˈhɛloʊ wˈɜːld") == "h'EloU_w'3:ld"
    assert espeak_mnemonics("日本") is None


def test_text_cannot_open_phoneme_input(speaker: EspeakSpeaker) -> None:
    spoken = speaker.speak(run_of("[[h@'loU]] a\x00b"))
    assert_offsets(spoken.word_offsets, 2, spoken.samples.size)


def test_empty_run(speaker: EspeakSpeaker) -> None:
    spoken = speaker.speak(Run(()))
    assert spoken.samples.size == 0 and spoken.word_offsets == [] and spoken.phones == []


def test_threads_match_serial_calls(speaker: EspeakSpeaker) -> None:
    """Calls from many threads neither crash nor mix their runs.

    espeak is not bit-exact from one call to the next even serially (its noise source and smoothing carry
    over), so the runs must match in visemes and in timings to within 5 ms, and in length to within 100 ms (the
    trailing pause after the last phone varies: 17,296 against 18,377 samples was seen under load).
    """
    runs = [run_of(text) for text in ("one two three", "the quick brown fox", "jumps over", "the lazy dog")] * 4
    serial = [speaker.speak(run) for run in runs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(speaker.speak, runs))
    tolerance = speaker.sample_rate // 200
    for one, other in zip(serial, parallel, strict=True):
        assert abs(one.samples.size - other.samples.size) <= speaker.sample_rate // 10
        assert np.allclose(one.word_offsets, other.word_offsets, atol=tolerance)
        assert [phone.viseme for phone in one.phones] == [phone.viseme for phone in other.phones]
        assert np.allclose([p.offset for p in one.phones], [p.offset for p in other.phones], atol=tolerance)


def test_voices_are_listed() -> None:
    voices = espeak_voices()
    assert ("en-us", "English_(America)") in voices or any(language == "en-us" for language, _ in voices)
    assert any(language == "de" for language, _ in voices)


def test_unknown_voice_and_variant_are_refused() -> None:
    with pytest.raises(EspeakError, match="xx-nowhere"):
        EspeakSpeaker("xx-nowhere")
    with pytest.raises(EspeakError, match="variant='nope'"):
        EspeakSpeaker("en-us", variant="nope")
