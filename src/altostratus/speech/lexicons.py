"""Pronunciation lexicons (W3C PLS 1.0, as Polly takes them): parsing, limits, and lookup at synthesis.

A lexeme's graphemes are matched case-sensitively against whole written words (a grapheme may be several
words: the longest match wins), before text normalisation; the first lexicon named in a request that has a
grapheme wins. An alias is spoken instead of the grapheme; a phoneme (IPA, or X-SAMPA turned into IPA when
the lexicon is read) is the pronunciation the engine uses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from altostratus.speech.errors import (
    InvalidLexicon,
    LexiconSizeExceeded,
    MaxLexemeLengthExceeded,
    UnsupportedPlsAlphabet,
    UnsupportedPlsLanguage,
)
from altostratus.speech.phonetics import validate_ipa, xsampa_to_ipa

PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Polly's limits: a lexicon of at most 4,000 characters, graphemes and phonemes of at most 100.
MAX_LEXICON_CHARACTERS = 4000
MAX_LEXEME_CHARACTERS = 100
ALPHABETS = ("ipa", "x-sampa")


@dataclasses.dataclass(frozen=True)
class Pronunciation:
    """What a lexeme says for its graphemes: an alias to speak, or phonemes in IPA."""

    alias: str | None = None
    phonemes: str | None = None


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """A parsed lexicon: its alphabet, language, and entries by grapheme (as a tuple of words)."""

    alphabet: str
    language: str
    entries: dict[tuple[str, ...], Pronunciation]
    lexemes: int
    size: int

    def applies_to(self, language: str) -> bool:
        """Whether it is for this voice language ("en" applies to en-US and en-GB, "en-US" to en-US only)."""
        own, other = self.language.lower(), language.lower()
        return other == own or other.startswith(own + "-")


def parse_lexicon(content: str, languages: Collection[str]) -> Lexicon:
    """A lexicon read from PLS text, checked against Polly's limits and the languages spoken here."""
    if len(content) > MAX_LEXICON_CHARACTERS:
        raise LexiconSizeExceeded(
            f"the lexicon is {len(content)} characters; a lexicon is at most {MAX_LEXICON_CHARACTERS}"
        )
    try:
        root = fromstring(content.encode("utf-8"), forbid_dtd=True)
    except ParseError as error:
        raise InvalidLexicon(f"the lexicon is not well-formed XML: {error}") from None
    except DefusedXmlException:
        raise InvalidLexicon("the lexicon may not hold a DTD or entity declarations") from None
    if _local(root.tag) != "lexicon":
        raise InvalidLexicon(f"the root element is <{_local(root.tag)}>; a PLS lexicon's root is <lexicon>")
    alphabet = root.get("alphabet")
    if alphabet not in ALPHABETS:
        raise UnsupportedPlsAlphabet(f"alphabet={alphabet!r}; expected one of {list(ALPHABETS)}")
    language = root.get(XML_LANG) or ""
    if not _spoken(language, languages):
        raise UnsupportedPlsLanguage(
            f"xml:lang={language!r}; expected a language a voice here speaks: {sorted(languages)}"
        )
    entries: dict[tuple[str, ...], Pronunciation] = {}
    lexemes = [child for child in root if _local(child.tag) == "lexeme"]
    for lexeme in lexemes:
        graphemes, pronunciation = _lexeme(lexeme, alphabet)
        for grapheme in graphemes:
            entries.setdefault(tuple(grapheme.split()), pronunciation)
    return Lexicon(alphabet, language, entries, len(lexemes), len(content))


def _lexeme(lexeme: Element, alphabet: str) -> tuple[list[str], Pronunciation]:
    graphemes = [(child.text or "").strip() for child in lexeme if _local(child.tag) == "grapheme"]
    if not graphemes or not all(graphemes):
        raise InvalidLexicon("every <lexeme> needs at least one non-empty <grapheme>")
    for child in lexeme:
        text = (child.text or "").strip()
        if len(text) > MAX_LEXEME_CHARACTERS:
            raise MaxLexemeLengthExceeded(
                f"<{_local(child.tag)}> {text[:20]!r}... is {len(text)} characters; at most {MAX_LEXEME_CHARACTERS}"
            )
    for child in lexeme:
        kind, text = _local(child.tag), " ".join((child.text or "").split())
        if kind == "alias" and text:
            return graphemes, Pronunciation(alias=text)
        if kind == "phoneme" and text:
            ipa = xsampa_to_ipa(text) if alphabet == "x-sampa" else text
            try:
                validate_ipa(ipa)
            except ValueError as error:
                raise InvalidLexicon(f"<phoneme> {text!r} for {graphemes[0]!r}: {error}") from None
            return graphemes, Pronunciation(phonemes=ipa)
    raise InvalidLexicon(f"the lexeme for {graphemes[0]!r} has neither a <phoneme> nor an <alias>")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _spoken(language: str, languages: Collection[str]) -> bool:
    wanted = language.lower()
    return bool(wanted) and any(code.lower() == wanted or code.lower().startswith(wanted + "-") for code in languages)


class Lexicons:
    """The lexicons a request names, in order, ready for lookup over written words."""

    def __init__(self, lexicons: Sequence[Lexicon] = ()) -> None:
        self._entries: dict[tuple[str, ...], Pronunciation] = {}
        for lexicon in lexicons:
            for grapheme, pronunciation in lexicon.entries.items():
                self._entries.setdefault(grapheme, pronunciation)
        self._longest = max((len(g) for g in self._entries), default=0)

    def lookup(self, words: Sequence[str]) -> tuple[int, Pronunciation] | None:
        """The longest grapheme at the start of `words`: how many words it covers, and its pronunciation."""
        for count in range(min(self._longest, len(words)), 0, -1):
            found = self._entries.get(tuple(words[:count]))
            if found is not None:
                return count, found
        return None
