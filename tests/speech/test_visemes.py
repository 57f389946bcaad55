"""Phones to Polly's visemes, and festival's US phones to IPA."""

from __future__ import annotations

import pytest

from altostratus.speech.visemes import VISEMES, ipa_of_festival_phone, ipa_phones, viseme_of_ipa

POLLY_VISEMES = {"p", "t", "S", "T", "f", "k", "i", "r", "s", "u", "@", "a", "e", "E", "o", "O", "sil", "l"}
FESTIVAL_US = [
    "aa",
    "ae",
    "ah",
    "ao",
    "aw",
    "ay",
    "b",
    "ch",
    "d",
    "dh",
    "eh",
    "er",
    "ey",
    "f",
    "g",
    "hh",
    "ih",
    "iy",
    "jh",
    "k",
    "l",
    "m",
    "n",
    "ng",
    "ow",
    "oy",
    "p",
    "r",
    "s",
    "sh",
    "t",
    "th",
    "uh",
    "uw",
    "v",
    "w",
    "y",
    "z",
    "zh",
    "pau",
]


@pytest.mark.parametrize(
    ("phone", "viseme"),
    [
        # Rows of Polly's en-US table, as espeak and Piper spell them.
        ("b", "p"), ("d", "t"), ("d͡ʒ", "S"), ("dʒ", "S"), ("ð", "T"), ("f", "f"), ("ɡ", "k"), ("g", "k"),
        ("h", "k"), ("j", "i"), ("k", "k"), ("l", "l"), ("m", "p"), ("n", "t"), ("ŋ", "k"), ("p", "p"),
        ("ɹ", "r"), ("s", "s"), ("ʃ", "S"), ("t", "t"), ("t͡ʃ", "S"), ("tʃ", "S"), ("θ", "T"), ("Θ", "T"),
        ("v", "f"), ("w", "u"), ("z", "s"), ("ʒ", "S"), ("ə", "@"), ("ɚ", "@"), ("æ", "a"), ("aɪ", "a"),
        ("aʊ", "a"), ("ɑ", "a"), ("eɪ", "e"), ("ɝ", "E"), ("ɛ", "E"), ("i:", "i"), ("iː", "i"), ("ɪ", "i"),
        ("oʊ", "o"), ("ɔ", "O"), ("ɔɪ", "O"), ("u", "u"), ("ʊ", "u"), ("ʌ", "E"),
    ],
)  # fmt: skip
def test_polly_en_us_table(phone: str, viseme: str) -> None:
    assert viseme_of_ipa(phone) == viseme


@pytest.mark.parametrize(
    ("phone", "viseme"),
    [("ˈeɪ", "e"), ("ˌɑː", "a"), ("ɔː", "O"), ("ɜː", "E"), ("oːɹ", "o"), ("pʰ", "p"), ("ɑ̃", "a"), ("ɾ", "t")],
)
def test_marks_and_diacritics_do_not_change_the_viseme(phone: str, viseme: str) -> None:
    assert viseme_of_ipa(phone) == viseme


@pytest.mark.parametrize(("phone", "viseme"), [("ç", "k"), ("x", "k"), ("ʁ", "k"), ("ø", "o"), ("y", "u"), ("ɒ", "O")])
def test_phones_of_other_polly_tables(phone: str, viseme: str) -> None:
    assert viseme_of_ipa(phone) == viseme


@pytest.mark.parametrize("phone", ["", " ", ".", ",", "ˈ"])
def test_silence_and_punctuation_are_sil(phone: str) -> None:
    assert viseme_of_ipa(phone) == "sil"


def test_every_viseme_is_one_polly_uses() -> None:
    assert set(VISEMES.values()) <= POLLY_VISEMES


@pytest.mark.parametrize(
    ("ipa", "phones"),
    [
        ("ˈteɪbəl", ["t", "eɪ", "b", "ə", "l"]),
        ("t͡ʃɜːtʃ", ["t͡ʃ", "ɜː", "tʃ"]),
        ("həlˈoʊ wˈɜːld", ["h", "ə", "l", "oʊ", "w", "ɜː", "l", "d"]),
        ("dʒˈʌdʒ", ["dʒ", "ʌ", "dʒ"]),
        ("pʰɪn", ["pʰ", "ɪ", "n"]),
        ("ʁɑ̃", ["ʁ", "ɑ̃"]),
        ("aɪə", ["aɪ", "ə"]),
        ("", []),
    ],
)
def test_ipa_phones(ipa: str, phones: list[str]) -> None:
    assert ipa_phones(ipa) == phones


@pytest.mark.parametrize("phone", FESTIVAL_US)
def test_festival_phones_reach_polly_visemes(phone: str) -> None:
    assert viseme_of_ipa(ipa_of_festival_phone(phone)) in POLLY_VISEMES


@pytest.mark.parametrize(
    ("phone", "ipa"), [("ch", "tʃ"), ("jh", "dʒ"), ("hh", "h"), ("y", "j"), ("r", "ɹ"), ("er", "ɝ"), ("pau", "")]
)
def test_festival_phone_ipa(phone: str, ipa: str) -> None:
    assert ipa_of_festival_phone(phone) == ipa


def test_festival_unstressed_schwas() -> None:
    assert viseme_of_ipa(ipa_of_festival_phone("ah", stressed=False)) == "@"
    assert viseme_of_ipa(ipa_of_festival_phone("ah")) == "E"
    assert ipa_of_festival_phone("er", stressed=False) == "ɚ"


def test_unknown_festival_phone_is_refused() -> None:
    with pytest.raises(ValueError, match="'qq'"):
        ipa_of_festival_phone("qq")
