# IPA is this module's subject: its letters look like Latin ones on purpose.
# ruff: noqa: RUF002
"""Phones to Polly's visemes: IPA as espeak-ng and Piper write it, and festival's US phone set.

The table is Amazon Polly's own for en-US, "Phoneme and Viseme Tables for Supported Languages: English (US)"
(https://docs.aws.amazon.com/polly/latest/dg/ph-table-english-us.html), followed row for row. Its current
version gives /l/ the viseme "l"; the older one (awsdocs/amazon-polly-developer-guide on GitHub) gave "t".
Phones the en-US table does not list take the viseme Polly's en-GB, de-DE or fr-FR table gives them
(əʊ -> @, ɒ -> O, ç x ʀ -> k, ɐ -> a, ø -> o, œ -> O, y ʏ ɥ -> u); the few no Polly table lists take the
viseme of the en-US phone made with the same mouth shape, each noted where it is.
"""

from __future__ import annotations

import unicodedata

SILENCE = "sil"

# Polly's en-US table: IPA -> viseme. Its "Θ" is a typo for θ and "i:" is written iː here.
_EN_US: dict[str, str] = {
    "b": "p",
    "d": "t",
    "dʒ": "S",
    "ð": "T",
    "f": "f",
    "ɡ": "k",
    "h": "k",
    "j": "i",
    "k": "k",
    "l": "l",
    "m": "p",
    "n": "t",
    "ŋ": "k",
    "p": "p",
    "ɹ": "r",
    "s": "s",
    "ʃ": "S",
    "t": "t",
    "tʃ": "S",
    "θ": "T",
    "v": "f",
    "w": "u",
    "z": "s",
    "ʒ": "S",
    "ə": "@",
    "ɚ": "@",
    "æ": "a",
    "aɪ": "a",
    "aʊ": "a",
    "ɑ": "a",
    "eɪ": "e",
    "ɝ": "E",
    "ɛ": "E",
    "i": "i",
    "ɪ": "i",
    "oʊ": "o",
    "ɔ": "O",
    "ɔɪ": "O",
    "u": "u",
    "ʊ": "u",
    "ʌ": "E",
}

# Polly's en-GB, de-DE and fr-FR tables, for phones the en-US one lacks.
_OTHER_POLLY_TABLES: dict[str, str] = {
    "əʊ": "@",
    "ɜ": "E",
    "ɛə": "E",
    "eə": "E",  # espeak's spelling of "square"
    "ɪə": "i",
    "ɒ": "O",
    "ʊə": "u",
    "ç": "k",
    "x": "k",
    "ʀ": "k",
    "ʁ": "k",
    "ɐ": "a",
    "a": "a",
    "e": "e",
    "o": "o",
    "ø": "o",
    "œ": "O",
    "y": "u",
    "ʏ": "u",
    "ɥ": "u",
    "ɔʏ": "O",
}

# Phones no Polly table lists, by the en-US phone with the same mouth shape.
_BY_LIKENESS: dict[str, str] = {
    "ɾ": "t",  # the American flap in "better" is a quick /t/ or /d/
    "ʔ": "k",  # a glottal stop, like /h/, leaves the mouth as it was
    "ɫ": "l",
    "r": "r",
    "ɻ": "r",
    "ɲ": "t",  # the tongue-on-palate nasal of "baigner" shows like /n/
    "ɣ": "k",
    "χ": "k",
    "ʎ": "l",
    "ɬ": "l",
    "β": "p",
    "ɸ": "f",
    "ᵻ": "i",  # espeak's reduced vowel in "roses"
    "ɘ": "@",
    "ɵ": "@",
    "ɨ": "i",
    "ʉ": "u",
    "ɯ": "u",
    "ɤ": "o",
    "ɶ": "O",
    "ʍ": "u",
    "ʝ": "i",
}

VISEMES: dict[str, str] = {**_BY_LIKENESS, **_OTHER_POLLY_TABLES, **_EN_US}

# Two letters that make one phone when they follow each other: diphthongs and affricates.
_PAIRS = frozenset({"eɪ", "aɪ", "aʊ", "oʊ", "ɔɪ", "əʊ", "ɪə", "ɛə", "eə", "ʊə", "ɔʏ", "tʃ", "dʒ"})
_STRESS = frozenset("ˈˌ'")
_LENGTH = frozenset("ːˑ:")
_TIES = frozenset("\u0361\u035c\u203f")
# Spacing modifier letters that colour the phone before them (aspiration, palatal, labial, velar, rhotic).
_MODIFIERS = frozenset("ʰʲʷˠˤ˞ʼ")
# Spellings of the same phone: ASCII g for the IPA script g, the table's capital theta.
_SAME_PHONE = str.maketrans({"g": "ɡ", "Θ": "θ", "ʤ": "dʒ", "ʧ": "tʃ"})


def ipa_phones(text: str) -> list[str]:
    """The phones of an IPA string, each with its length mark and diacritics; stress and spaces dropped.

    "ˈteɪbəl" -> ["t", "eɪ", "b", "ə", "l"]; a tie bar joins the letters around it ("t͡ʃ" -> "t͡ʃ"), and the
    diphthongs and affricates English writes untied ("eɪ", "tʃ") stay one phone.
    """
    phones: list[str] = []
    tie = False
    for char in text:
        if char in _STRESS or char.isspace() or char in ".|‖-":
            tie = False
            continue
        if char in _TIES:
            tie = bool(phones)
            if phones:
                phones[-1] += char
            continue
        attaches = char in _LENGTH or char in _MODIFIERS or unicodedata.category(char) == "Mn"
        if phones and (attaches or tie or _base(phones[-1]) + char in _PAIRS):
            phones[-1] += char
        else:
            phones.append(char)
        tie = False
    return phones


def _base(phone: str) -> str:
    """A phone without its length, ties, diacritics and modifiers: the key of the viseme table."""
    kept = (
        c
        for c in unicodedata.normalize("NFC", phone)
        if c not in _LENGTH and c not in _TIES and c not in _MODIFIERS and c not in _STRESS
    )
    # Nasal, syllabic and other combining marks do not change the mouth's shape.
    return "".join(c for c in kept if unicodedata.category(c) != "Mn").translate(_SAME_PHONE)


def viseme_of_ipa(phone: str) -> str:
    """Polly's viseme for one IPA phone ("ˈeɪ" -> "e"); "sil" for silence, an empty string or punctuation.

    A phone of several letters that the table does not hold (espeak's r-coloured "oːɹ", "ɪə") takes the
    viseme of its first letter that has one, which is the vowel's or consonant's nucleus.
    """
    base = _base(phone)
    if base in VISEMES:
        return VISEMES[base]
    for index in range(len(base)):
        pair, letter = base[index : index + 2], base[index]
        if pair in VISEMES:
            return VISEMES[pair]
        if letter in VISEMES:
            return VISEMES[letter]
    return SILENCE


# Festival's US phone set (radio phones, as its cmu lexicon and the arctic voices use them) -> IPA.
_FESTIVAL_IPA: dict[str, str] = {
    "aa": "ɑ",
    "ae": "æ",
    "ah": "ʌ",
    "ao": "ɔ",
    "aw": "aʊ",
    "ax": "ə",
    "axr": "ɚ",
    "ay": "aɪ",
    "b": "b",
    "ch": "tʃ",
    "d": "d",
    "dh": "ð",
    "dx": "ɾ",
    "eh": "ɛ",
    "el": "l̩",
    "em": "m̩",
    "en": "n̩",
    "er": "ɝ",
    "ey": "eɪ",
    "f": "f",
    "g": "ɡ",
    "hh": "h",
    "hv": "h",
    "ih": "ɪ",
    "iy": "i",
    "jh": "dʒ",
    "k": "k",
    "l": "l",
    "m": "m",
    "n": "n",
    "ng": "ŋ",
    "nx": "ŋ",
    "ow": "oʊ",
    "oy": "ɔɪ",
    "p": "p",
    "r": "ɹ",
    "s": "s",
    "sh": "ʃ",
    "t": "t",
    "th": "θ",
    "uh": "ʊ",
    "uw": "u",
    "v": "v",
    "w": "w",
    "y": "j",
    "z": "z",
    "zh": "ʒ",
    # Silences: a pause, the utterance edge, a breath.
    "pau": "",
    "h#": "",
    "brth": "",
}
# Unstressed, festival's "ah" and "er" are the schwas (CMU's AH0 and ER0).
_FESTIVAL_UNSTRESSED: dict[str, str] = {"ah": "ə", "er": "ɚ"}


def ipa_of_festival_phone(phone: str, *, stressed: bool = True) -> str:
    """The IPA of a phone of festival's US set ("ch" -> "tʃ"); an empty string for its silences ("pau")."""
    if phone not in _FESTIVAL_IPA:
        raise ValueError(f"festival phone {phone!r}; expected one of {sorted(_FESTIVAL_IPA)}")
    if not stressed and phone in _FESTIVAL_UNSTRESSED:
        return _FESTIVAL_UNSTRESSED[phone]
    return _FESTIVAL_IPA[phone]
