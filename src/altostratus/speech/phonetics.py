"""Phonetic alphabets: X-SAMPA into IPA, and a check that a pronunciation is written in IPA.

SSML's <phoneme alphabet="x-sampa"> and PLS lexicons may write pronunciations in X-SAMPA, the ASCII spelling
of IPA; the engines read IPA, so X-SAMPA is converted first and every pronunciation is checked before use.
"""

from __future__ import annotations

import unicodedata

# fmt: off
# X-SAMPA symbol -> IPA, after the X-SAMPA table of Wells (1995). Symbols of one letter that are the same in
# both (a, b, d, e, f, h, i, j, k, l, m, n, o, p, q, r, s, t, u, v, w, x, y, z) pass through unchanged.
_XSAMPA = {
    # Lowercase letters with a variant.
    "b_<": "ɓ", "d`": "ɖ", "d_<": "ɗ", "g": "ɡ", "g_<": "ɠ", "h\\": "ɦ", "j\\": "ʝ", "l`": "ɭ", "l\\": "ɺ",
    "n`": "ɳ", "p\\": "ɸ", "r`": "ɽ", "r\\": "ɹ", "r\\`": "ɻ", "s`": "ʂ", "s\\": "ɕ", "t`": "ʈ", "v\\": "ʋ",
    "x\\": "ɧ", "z`": "ʐ", "z\\": "ʑ",
    # Capitals.
    "A": "ɑ", "B": "β", "B\\": "ʙ", "C": "ç", "D": "ð", "E": "ɛ", "F": "ɱ", "G": "ɣ", "G\\": "ɢ", "G\\_<": "ʛ",
    "H": "ɥ", "H\\": "ʜ", "I": "ɪ", "I\\": "ᵻ", "J": "ɲ", "J\\": "ɟ", "J\\_<": "ʄ", "K": "ɬ", "K\\": "ɮ",
    "L": "ʎ", "L\\": "ʟ", "M": "ɯ", "M\\": "ɰ", "N": "ŋ", "N\\": "ɴ", "O": "ɔ", "O\\": "ʘ", "P": "ʋ", "Q": "ɒ",
    "R": "ʁ", "R\\": "ʀ", "S": "ʃ", "T": "θ", "U": "ʊ", "U\\": "ᵿ", "V": "ʌ", "W": "ʍ", "X": "χ", "X\\": "ħ",
    "Y": "ʏ", "Z": "ʒ",
    # Other symbols.
    "@": "ə", "@\\": "ɘ", "@`": "ɚ", "{": "æ", "}": "ʉ", "1": "ɨ", "2": "ø", "3": "ɜ", "3\\": "ɞ", "3`": "ɝ",
    "4": "ɾ", "5": "ɫ", "6": "ɐ", "7": "ɤ", "8": "ɵ", "9": "œ", "&": "ɶ", "?": "ʔ", "?\\": "ʕ", "<\\": "ʢ",
    ">\\": "ʡ", "^": "ꜛ", "!": "ꜜ", "!\\": "ǃ", "|\\": "ǀ", "||": "‖", "|\\|\\": "ǁ", "=\\": "ǂ", "-\\": "‿",
    # Suprasegmentals.
    '"': "ˈ", "%": "ˌ", ":": "ː", ":\\": "ˑ", ".": ".", "-": "",
    # Diacritics.
    '_"': "\u0308", "_+": "\u031f", "_-": "\u0320", "_/": "\u030c", "_0": "\u0325", "=": "\u0329",
    "_=": "\u0329", "_>": "ʼ", "_?\\": "ˤ", "_\\": "\u0302", "_^": "\u032f", "_}": "\u031a", "`": "˞",
    "~": "\u0303", "_~": "\u0303", "_A": "\u0318", "_a": "\u033a", "_B": "\u030f", "_B_L": "\u1dc5",
    "_c": "\u031c", "_d": "\u032a", "_e": "\u0334", "_F": "\u0302", "_G": "ˠ", "_H": "\u0301",
    "_H_T": "\u1dc4", "_h": "ʰ", "_j": "ʲ", "'": "ʲ", "_k": "\u0330", "_L": "\u0300", "_l": "ˡ",
    "_M": "\u0304", "_m": "\u033b", "_N": "\u033c", "_n": "ⁿ", "_O": "\u0339", "_o": "\u031e",
    "_q": "\u0319", "_R": "\u030c", "_R_F": "\u1dc8", "_r": "\u031d", "_T": "\u030b", "_t": "\u0324",
    "_v": "\u032c", "_w": "ʷ", "_X": "\u0306", "_x": "\u033d", "_": "\u0361",
}
# fmt: on
_LONGEST = max(len(symbol) for symbol in _XSAMPA)
# Symbols that are not letters but belong in a pronunciation: stress, length, syllable and group marks.
_IPA_MARKS = frozenset("ˈˌːˑ.‿‖ ")
_IPA_BLOCKS = ((0x0250, 0x02AF), (0x1D00, 0x1DBF), (0xA700, 0xA71F))


def xsampa_to_ipa(text: str) -> str:
    """IPA for an X-SAMPA string, matching the longest symbol first ("r\\" before "r", "@`" before "@").

    A character X-SAMPA does not define passes through unchanged, for `validate_ipa` to report.
    """
    out = []
    at = 0
    while at < len(text):
        for size in range(min(_LONGEST, len(text) - at), 0, -1):
            symbol = text[at : at + size]
            if symbol in _XSAMPA:
                out.append(_XSAMPA[symbol])
                at += size
                break
        else:
            out.append(text[at])
            at += 1
    return "".join(out)


def validate_ipa(text: str) -> None:
    """Raise ValueError naming the first character of `text` that is not IPA.

    IPA here is: lowercase Latin and Greek letters, the IPA letter blocks, modifier letters (aspiration, stress,
    length), combining diacritics, spaces, "." between syllables, the linking tie and the major group bar.
    Digits, capitals and ASCII punctuation other than "." are not IPA.
    """
    if not text.strip():
        raise ValueError("the pronunciation is empty")
    for position, char in enumerate(text):
        if not _is_ipa(char):
            name = unicodedata.name(char, "unnamed")
            raise ValueError(f"{char!r} ({name}) at position {position} is not an IPA symbol")


def _is_ipa(char: str) -> bool:
    if char in _IPA_MARKS:
        return True
    category = unicodedata.category(char)
    if category == "Mn":
        return True
    code = ord(char)
    if any(low <= code <= high for low, high in _IPA_BLOCKS):
        return True
    name = unicodedata.name(char, "")
    if category in ("Lm", "Sk"):
        return name.startswith("MODIFIER LETTER")
    if category == "Ll":
        return name.startswith(("LATIN SMALL", "GREEK SMALL"))
    # Click letters (ǀ ǁ ǂ ǃ) are letters of their own kind.
    return category == "Lo" and name.startswith("LATIN LETTER")
