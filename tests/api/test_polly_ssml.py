"""SSML with unmodified boto3: every tag, heard or measured in the audio it makes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.api.polly_audio import heard, seconds, speak
from tests.live_server import LiveServer
from tests.speech.audio_checks import rms_db

pytestmark = pytest.mark.slow

TWO = "<speak>Hello there. {gap}How are you today?</speak>"


@pytest.fixture(scope="module")
def polly(server: LiveServer) -> Any:
    return server.client("polly")


def pitch_hz(samples: np.ndarray, rate: int = 16000) -> float:
    """The median fundamental frequency of the voiced frames (autocorrelation, 60-400 Hz)."""
    frame, found = 1024, []
    for start in range(0, samples.size - frame, frame // 2):
        chunk = samples[start : start + frame] - samples[start : start + frame].mean()
        if np.sqrt(np.mean(chunk**2)) < 0.02:
            continue
        corr = np.correlate(chunk, chunk, "full")[frame - 1 :]
        low, high = rate // 400, rate // 60
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.3 * corr[0]:
            found.append(rate / lag)
    return float(np.median(found))


def cepstral_peak(samples: np.ndarray, rate: int = 16000) -> float:
    """How voiced the audio is: the mean cepstral peak prominence at speech pitch quefrencies.

    A voiced frame's harmonics make a peak in the cepstrum at the pitch period; breath noise shaped by the same
    formants has none. (The autocorrelation peak is a weaker test: formant resonances alone give filtered noise
    a correlation of 0.3-0.4 at pitch lags.)
    """
    frame, prominences = 1024, []
    low, high = rate // 400, rate // 60
    quefrencies = np.arange(low, high)
    for start in range(0, samples.size - frame, frame // 2):
        chunk = samples[start : start + frame] - samples[start : start + frame].mean()
        if np.sqrt(np.mean(chunk**2)) < 0.01:
            continue
        cepstrum = np.fft.irfft(np.log(np.abs(np.fft.rfft(chunk * np.hanning(frame))) + 1e-9))[low:high]
        trend = np.polyval(np.polyfit(quefrencies, cepstrum, 1), quefrencies)
        prominences.append(float(np.max(cepstrum - trend)))
    return float(np.mean(prominences))


@pytest.mark.parametrize("voice", ["Joe", "Slt", "espeak-en-US"])
def test_a_break_of_one_and_a_half_seconds_lengthens_the_audio_by_that(polly: Any, voice: str) -> None:
    plain = seconds(speak(polly, TWO.format(gap=""), voice=voice))
    paused = seconds(speak(polly, TWO.format(gap='<break time="1500ms"/>'), voice=voice))
    assert 1.35 <= paused - plain <= 1.65, (plain, paused)


def test_break_strengths_grow(polly: Any) -> None:
    lengths = [
        seconds(speak(polly, f'<speak>One <break strength="{s}"/> two.</speak>'))
        for s in ("none", "weak", "medium", "strong", "x-strong")
    ]
    assert lengths == sorted(lengths) and lengths[-1] - lengths[0] > 0.8


def test_prosody_rate_slows_and_speeds(polly: Any) -> None:
    text = "<speak><prosody rate='{r}'>The quick brown fox jumps over the lazy dog.</prosody></speak>"
    slow, normal, fast = (seconds(speak(polly, text.format(r=r))) for r in ("x-slow", "100%", "150%"))
    assert slow > normal * 1.3 and fast < normal * 0.8


@pytest.mark.parametrize("voice", ["Joe", "espeak-en-US"])
def test_prosody_pitch_moves_the_pitch_and_keeps_the_length(polly: Any, voice: str) -> None:
    text = "<speak><prosody pitch='{p}'>We were away a year ago, over the ocean.</prosody></speak>"
    low, high = (speak(polly, text.format(p=p), voice=voice) for p in ("-20%", "+30%"))
    assert pitch_hz(high) > pitch_hz(low) * 1.25
    assert abs(seconds(high) - seconds(low)) < 0.25 * seconds(low)


def test_prosody_volume_and_emphasis_change_loudness(polly: Any) -> None:
    text = "<speak><prosody volume='{v}'>Listen to the sound of my voice.</prosody></speak>"
    soft, loud = (rms_db(speak(polly, text.format(v=v))) for v in ("x-soft", "+6dB"))
    assert loud - soft > 8
    sentence = "This is important, so please listen carefully to every word I say today."

    def mean_of_three(level: str | None) -> tuple[float, float]:
        text = sentence if level is None else f"<emphasis level='{level}'>{sentence}</emphasis>"
        runs = [speak(polly, f"<speak>{text}</speak>") for _ in range(3)]
        return float(np.mean([rms_db(r) for r in runs])), float(np.mean([seconds(r) for r in runs]))

    # Emphasis is louder (and a little slower and higher); reduced is softer and quicker. Piper's noise moves
    # each length by about 1%, as much as reduced shortens it: measured here on means of three, reduced
    # 4.38 s, plain 4.50 s, strong 4.87 s; -23.5, -20.5 and -16.1 dB.
    (plain_db, plain_s), (strong_db, strong_s), (reduced_db, reduced_s) = map(
        mean_of_three, (None, "strong", "reduced")
    )
    assert strong_db > plain_db + 2 > reduced_db + 4
    assert reduced_s < plain_s < strong_s


def test_whispered_speech_is_breath_not_voice(polly: Any) -> None:
    text = "<speak>{}</speak>"
    sentence = "We were away a year ago, over the ocean."
    voiced = speak(polly, text.format(sentence))
    whispered = speak(polly, text.format(f'<amazon:effect name="whispered">{sentence}</amazon:effect>'))
    # Measured here: 0.066-0.070 whispered against 0.148-0.168 voiced.
    assert cepstral_peak(whispered) < 0.7 * cepstral_peak(voiced)
    assert abs(seconds(whispered) - seconds(voiced)) < 0.2


@pytest.mark.parametrize(
    ("ssml", "expected"),
    [
        ('<say-as interpret-as="ordinal">3</say-as>', {"third"}),
        ('<say-as interpret-as="fraction">3/4</say-as>', {"three", "quarters"}),
        ('<say-as interpret-as="unit">10 km</say-as>', {"ten", "kilometers"}),
        ('<say-as interpret-as="date" format="mdy">12/25/2026</say-as>', {"december"}),
        ('<say-as interpret-as="time">2\'30"</say-as>', {"minutes", "seconds"}),
        ('<say-as interpret-as="address">12 Elm St.</say-as>', {"street"}),
        ('<sub alias="World Wide Web Consortium">W3C</sub>', {"world", "wide", "web"}),
    ],
)
def test_tags_that_settle_words_are_heard(polly: Any, ssml: str, expected: set[str]) -> None:
    words = set(heard(polly, f"<speak>The answer is {ssml}.</speak>"))
    # Whisper writes some numbers as digits: "third" may come back as "3rd".
    spelled = words | {{"3rd": "third"}.get(w, w) for w in words}
    assert expected & spelled, (ssml, words)


@pytest.mark.parametrize(
    "phoneme",
    [
        '<phoneme alphabet="ipa" ph="təˈmeɪtoʊ">tmt</phoneme>',
        "<phoneme alphabet='x-sampa' ph='t@\"meItoU'>tmt</phoneme>",
    ],
)
def test_a_phoneme_tag_says_its_pronunciation_not_its_spelling(polly: Any, phoneme: str) -> None:
    # Measured here: "tomato" heard 20 times in 20 with the tag, never for the bare "tmt". A sentence around the
    # word matters: alone after "The answer is", Whisper heard "to meet them" one time in five.
    sentence = "<speak>She cut a ripe red {} for the salad.</speak>"
    assert "tomato" in heard(polly, sentence.format(phoneme))
    assert "tomato" not in heard(polly, sentence.format("tmt"))


@pytest.mark.parametrize(
    ("ssml", "spelled"),
    [
        ('<say-as interpret-as="cardinal">1234</say-as>', "one thousand two hundred thirty-four"),
        ('<say-as interpret-as="digits">947</say-as>', "nine four seven"),
        ('<say-as interpret-as="telephone">5551234</say-as>', "five five five, one two three four"),
    ],
)
def test_numbers_read_as_told_sound_like_the_spelled_words(polly: Any, ssml: str, spelled: str) -> None:
    # Whisper writes every reading of a number as digits: the length tells the readings apart.
    told = seconds(speak(polly, f"<speak>The answer is {ssml}.</speak>"))
    written = seconds(speak(polly, f"The answer is {spelled}."))
    assert abs(told - written) < 0.12 * written, (told, written)


@pytest.mark.parametrize(("kind", "text"), [("characters", "NASA"), ("spell-out", "cat")])
def test_characters_are_spelled_letter_by_letter(polly: Any, kind: str, text: str) -> None:
    # Whisper writes spelled letters back as the word ("NASA"): spelling is told by its length.
    word = seconds(speak(polly, f"<speak>{text}</speak>"))
    spelled = seconds(speak(polly, f"<speak><say-as interpret-as='{kind}'>{text}</say-as></speak>"))
    assert spelled > word + 0.4, (word, spelled)


def test_w_role_picks_the_homograph(polly: Any) -> None:
    present = speak(polly, "<speak>I <w role='amazon:VB'>read</w> it.</speak>")
    past = speak(polly, "<speak>I <w role='amazon:VBD'>read</w> it.</speak>")
    # "reed" is longer than "red": the long vowel.
    assert seconds(present) > seconds(past)
    assert not np.array_equal(present[: past.size], past[: present.size])


def test_lang_switches_to_a_voice_of_that_language(polly: Any) -> None:
    english = speak(polly, "<speak>Merci beaucoup.</speak>")
    french = speak(polly, "<speak><lang xml:lang='fr-FR'>Merci beaucoup.</lang></speak>")
    assert seconds(english) > 0.3 and seconds(french) > 0.3
    assert not np.array_equal(english[: min(english.size, french.size)], french[: min(english.size, french.size)])


def test_paragraphs_sentences_and_breaths_add_time(polly: Any) -> None:
    plain = seconds(speak(polly, "<speak>One. Two.</speak>"))
    paragraphs = seconds(speak(polly, "<speak><p>One.</p><p>Two.</p></speak>"))
    sentences = seconds(speak(polly, "<speak><s>One</s><s>Two</s></speak>"))
    breath = seconds(speak(polly, "<speak>One. <amazon:breath duration='long'/> Two.</speak>"))
    auto = seconds(speak(polly, "<speak><amazon:auto-breaths>One, two, three, four.</amazon:auto-breaths></speak>"))
    assert paragraphs > plain + 0.3 and sentences > 0.5 and breath > plain + 0.3
    assert auto > seconds(speak(polly, "<speak>One, two, three, four.</speak>")) + 0.3


def test_entities_and_escapes_are_text(polly: Any) -> None:
    # A whole sentence: Whisper tiny once heard the bare "Salt and pepper." as "it's all in pepper".
    words = heard(polly, "<speak>Please pass the salt &amp; pepper.</speak>")
    assert {"salt", "and", "pepper"} <= set(words)
