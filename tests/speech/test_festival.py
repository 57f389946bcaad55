"""The festival speaker: a real festival process with the HTS voice cmu_us_slt_arctic_hts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from altostratus.speech.engines.festival import FestivalError, FestivalSpeaker
from altostratus.speech.utterances import Prosody, Run, Word

VOICE_DIR = Path("/usr/share/festival/voices/us/cmu_us_slt_arctic_hts")
pytestmark = pytest.mark.skipif(
    shutil.which("festival") is None or not VOICE_DIR.is_dir(), reason="festival or festvox-us-slt-hts not installed"
)
TEN_WORDS = "one two three four five six seven eight nine ten"


def run_of(text: str, rate: float = 1.0) -> Run:
    return Run(tuple(Word(word, 0, len(word), word) for word in text.split()), Prosody(rate=rate))


@pytest.fixture(scope="module")
def speaker() -> Iterator[FestivalSpeaker]:
    speaker = FestivalSpeaker()
    yield speaker
    speaker.close()


def assert_offsets(offsets: list[int], words: int, samples: int) -> None:
    assert len(offsets) == words
    assert offsets == sorted(offsets)
    assert all(0 <= offset <= samples for offset in offsets)


def test_speaks_audio_at_the_measured_rate(speaker: FestivalSpeaker) -> None:
    spoken = speaker.speak(run_of("Hello world, this is a test."))
    assert speaker.sample_rate == 32000
    assert spoken.samples.dtype == np.float32
    assert spoken.samples.size > speaker.sample_rate // 2
    assert 0.05 < float(np.max(np.abs(spoken.samples))) <= 1.0


def test_more_words_take_longer(speaker: FestivalSpeaker) -> None:
    short, long = speaker.speak(run_of("one two three")), speaker.speak(run_of(TEN_WORDS))
    assert long.samples.size > short.samples.size * 2


def test_rate_two_is_faster(speaker: FestivalSpeaker) -> None:
    normal, fast = speaker.speak(run_of(TEN_WORDS)), speaker.speak(run_of(TEN_WORDS, rate=2.0))
    assert fast.samples.size < normal.samples.size * 0.7
    assert fast.word_offsets[-1] < normal.word_offsets[-1] * 0.7


def test_one_monotone_offset_per_word(speaker: FestivalSpeaker) -> None:
    run = run_of('Hello café naïve, on the world. "Don\'t" 42 go ... 日本')
    spoken = speaker.speak(run)
    assert_offsets(spoken.word_offsets, len(run.words), spoken.samples.size)
    # Every spoken word starts after the one before; "42" is two festival words but one offset.
    assert len(set(spoken.word_offsets[:9])) == 9


def test_a_word_of_several_words_is_one_offset(speaker: FestivalSpeaker) -> None:
    run = Run((Word("it costs", 0, 8, "it costs"), Word("three dollars fifty", 9, 14, "$3.50")))
    spoken = speaker.speak(run)
    assert_offsets(spoken.word_offsets, 2, spoken.samples.size)
    assert spoken.word_offsets[1] > spoken.word_offsets[0]


def test_phones_are_polly_visemes_in_order(speaker: FestivalSpeaker) -> None:
    spoken = speaker.speak(run_of("Judge the thin ship."))
    visemes = [phone.viseme for phone in spoken.phones]
    assert visemes[0] == "sil" and visemes[-1] == "sil"
    assert visemes[1:4] == ["S", "E", "S"]
    assert "T" in visemes
    assert [phone.offset for phone in spoken.phones] == sorted(phone.offset for phone in spoken.phones)


def test_scheme_in_the_text_is_only_spoken(speaker: FestivalSpeaker, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    attacks = [
        f'") (system "touch {target}") ("',
        f'\\") (system \\"touch {target}\\") (\\"',
        f'(system "touch {target}") \'(a) `(b) #t ;comment',
        'back\\slash \\\\ \\" """ \\',
    ]
    for attack in attacks:
        run = run_of(attack)
        spoken = speaker.speak(run)
        assert_offsets(spoken.word_offsets, len(run.words), spoken.samples.size)
        assert spoken.samples.size > 0
    assert not target.exists()
    assert speaker.speak(run_of("still here")).samples.size > 0


def test_phonemes_are_not_honoured_but_the_text_is_spoken(speaker: FestivalSpeaker) -> None:
    words = (Word("tomato", 0, 6, "tomato", phonemes="təˈmɑːtoʊ"),)
    assert speaker.speak(Run(words)).samples.size > 0


def test_only_punctuation(speaker: FestivalSpeaker) -> None:
    run = run_of("... !!! ???")
    spoken = speaker.speak(run)
    assert_offsets(spoken.word_offsets, 3, spoken.samples.size)


def test_empty_run(speaker: FestivalSpeaker) -> None:
    spoken = speaker.speak(Run(()))
    assert spoken.samples.size == 0 and spoken.word_offsets == [] and spoken.phones == []


@pytest.mark.slow
def test_threads_match_serial_calls(speaker: FestivalSpeaker) -> None:
    runs = [run_of(text) for text in ("one two three", "the quick brown fox", "jumps over", "the lazy dog")] * 2
    serial = [speaker.speak(run) for run in runs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(speaker.speak, runs))
    for one, other in zip(serial, parallel, strict=True):
        assert np.array_equal(one.samples, other.samples)
        assert one.word_offsets == other.word_offsets
        assert one.phones == other.phones


@pytest.mark.slow
def test_a_dead_process_is_restarted(speaker: FestivalSpeaker) -> None:
    process = speaker._process
    assert process is not None
    process.kill()
    process.wait()
    assert speaker.speak(run_of("back again")).samples.size > 0


@pytest.mark.slow
def test_a_hung_call_raises_and_the_next_one_works() -> None:
    impatient = FestivalSpeaker(timeout_s=2.0)
    try:
        with pytest.raises(FestivalError, match="no answer"):
            impatient.speak(run_of("a" * 2000))
        impatient.timeout_s = 60.0  # the restart itself takes a second or two on a busy machine
        assert impatient.speak(run_of("fine now")).samples.size > 0
    finally:
        impatient.close()


def test_unknown_voice_is_refused() -> None:
    with pytest.raises(ValueError, match="voice="):
        FestivalSpeaker(voice='x") (system "true')


@pytest.mark.slow
def test_missing_voice_is_a_clear_error() -> None:
    # The process starts on first use: the voice is found missing then.
    with pytest.raises(FestivalError, match="voice_nobody_here"):
        FestivalSpeaker(voice="voice_nobody_here").speak(run_of("hello"))
