"""X-SAMPA into IPA, and the check that a pronunciation is IPA."""

from __future__ import annotations

import pytest

from altostratus.speech.phonetics import validate_ipa, xsampa_to_ipa


@pytest.mark.parametrize(
    ("xsampa", "ipa"),
    [
        ('h@"loU', "həˈloʊ"),
        ('"pA:p@', "ˈpɑːpə"),
        ("tS", "tʃ"),
        ("dZ", "dʒ"),
        ("r\\", "ɹ"),
        ("r\\`", "ɻ"),
        ("r", "r"),
        ("@`", "ɚ"),
        ("3`", "ɝ"),
        ("@", "ə"),
        ("@\\", "ɘ"),
        ("t`", "ʈ"),
        ("{", "æ"),
        ("}", "ʉ"),
        ("T D S Z N", "θ ð ʃ ʒ ŋ"),
        ("I U E O V Q", "ɪ ʊ ɛ ɔ ʌ ɒ"),
        ("1 2 3 4 5 6 7 8 9", "ɨ ø ɜ ɾ ɫ ɐ ɤ ɵ œ"),
        ("?", "ʔ"),
        ("?\\", "ʕ"),
        ("G\\_<", "ʛ"),
        ("J\\_<", "ʄ"),
        ("b_<", "ɓ"),
        ("p_h", "pʰ"),
        ("t_w", "tʷ"),
        ("t_j", "tʲ"),
        ("t'", "tʲ"),
        ("n=", "n̩"),
        ("n_=", "n̩"),
        ("e~", "e\u0303"),
        ("a_0", "a\u0325"),
        ("A:", "ɑː"),
        ("e:\\", "eˑ"),
        ('%Iks.pl@"neIS@n', "ˌɪks.pləˈneɪʃən"),
        ("k_>", "kʼ"),
        ("|\\|\\", "ǁ"),
        ("!\\", "ǃ"),
        ("-\\", "‿"),
        # "-" only separates symbols.
        ("t-S", "tʃ"),
        ("", ""),
    ],
)
def test_xsampa_to_ipa(xsampa: str, ipa: str) -> None:
    assert xsampa_to_ipa(xsampa) == ipa


def test_unknown_characters_pass_through_for_validation_to_report() -> None:
    assert xsampa_to_ipa("a#b") == "a#b"
    with pytest.raises(ValueError, match="'#'"):
        validate_ipa(xsampa_to_ipa("a#b"))


@pytest.mark.parametrize(
    "ipa",
    [
        "həˈloʊ",
        "ˈtʰɛst",
        "ˌɪks.pləˈneɪʃən",
        "wɜːld",
        "ɹˈiːd",
        "n̩",
        "e\u0303",
        "kʼ",
        "ǃ",
        "ɡ",
        "βθχ",
        "la‿ami",
        "ˈhɛloʊ ˈwɝld",
        "ᵻ",
        "eˑ",
    ],
)
def test_valid_ipa(ipa: str) -> None:
    validate_ipa(ipa)


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("ab1", "'1'"),
        ("hEllo", "'E'"),
        ("a,b", "','"),
        ("a;b", "';'"),
        ('a"b', "'\"'"),
        ("tS", "'S'"),
        ("a|b", "'|'"),
        ("привет", "'п'"),
        ("a!", "'!'"),
    ],
)
def test_invalid_ipa_names_the_character(text: str, bad: str) -> None:
    with pytest.raises(ValueError, match="is not an IPA symbol") as raised:
        validate_ipa(text)
    assert bad in str(raised.value)


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_pronunciation_is_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        validate_ipa(text)
