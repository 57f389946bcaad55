"""SSML, parsed by us with expat (no DTDs, so no entity expansion), into spans for the sentence builder.

Tags and what becomes of them:
- speak (root), p, s: sentence boundaries; a paragraph adds a pause after it.
- break (time, strength), amazon:breath (duration, volume): pauses; a breath is heard, not silent.
- prosody (rate, pitch, volume), emphasis (level), amazon:effect name="whispered": the style of what is inside.
- say-as, sub, phoneme (ipa, x-sampa), w (role): words whose spoken form is settled here.
- lang (xml:lang, on any element too): the language, spoken by a voice of that language where there is one.
- mark: a mark at this point; amazon:auto-breaths: a breath at each phrase break inside it.
Refused with InvalidSsmlException: any other tag or attribute, amazon:domain, amazon:effect other than
whispered, prosody amazon:max-duration, and the audio tag. Errors name the line and column of the fault.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any
from xml.parsers import expat

from altostratus.speech import prosody_values as values
from altostratus.speech.errors import InvalidSsml
from altostratus.speech.homographs import ROLES, pronunciation
from altostratus.speech.phonetics import validate_ipa, xsampa_to_ipa
from altostratus.speech.say_as import say_as
from altostratus.speech.spans import Boundary, Fixed, Span, Style, Text, byte_offsets
from altostratus.speech.text_checks import unspeakable
from altostratus.speech.utterances import Mark, Pause, Prosody, Sound, Word

# Attributes every element may carry besides its own.
COMMON = frozenset({"xml:lang"})
ATTRIBUTES: dict[str, frozenset[str]] = {
    "speak": frozenset({"version", "xmlns", "xml:base", "xmlns:amazon", "xmlns:xsi", "xsi:schemaLocation"}),
    "p": frozenset(),
    "s": frozenset(),
    "break": frozenset({"time", "strength"}),
    "prosody": frozenset({"rate", "pitch", "volume"}),
    "emphasis": frozenset({"level"}),
    "say-as": frozenset({"interpret-as", "format", "detail"}),
    "sub": frozenset({"alias"}),
    "phoneme": frozenset({"alphabet", "ph"}),
    "w": frozenset({"role"}),
    "lang": frozenset(),
    "mark": frozenset({"name"}),
    "amazon:effect": frozenset({"name"}),
    "amazon:auto-breaths": frozenset({"volume", "frequency", "duration"}),
    "amazon:breath": frozenset({"volume", "duration"}),
}
# Elements whose content is words settled by the element: no elements may nest inside them.
FIXED = frozenset({"say-as", "sub", "phoneme", "w"})
EMPTY = frozenset({"break", "mark", "amazon:breath"})
PARAGRAPH_PAUSE_MS = 500
BREATH_MS = {"x-short": 150, "short": 250, "medium": 350, "long": 500, "x-long": 700}
NOT_HONOURED = {
    "amazon:domain": "speaking styles (amazon:domain) are not supported by this server's voices",
    "audio": "the audio tag is not supported",
}


@dataclasses.dataclass
class _Open:
    """An element being read: its name, the style inside it, the text it gathers (fixed elements)."""

    tag: str
    attributes: dict[str, str]
    style: Style
    start: int
    text: list[str] = dataclasses.field(default_factory=list)
    text_start: int | None = None
    text_end: int = 0


class _Reader:
    """Expat's handlers: they turn elements and text into spans as the parser goes."""

    def __init__(self, source: bytes, parser: Any) -> None:
        self.source = source
        self.parser = parser
        self.spans: list[Span] = []
        self.stack: list[_Open] = []
        self.characters = 0

    def fail(self, message: str) -> InvalidSsml:
        line, column = self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1
        return InvalidSsml(f"Invalid SSML request: line {line}, column {column}: {message}")

    def style(self) -> Style:
        return self.stack[-1].style if self.stack else Style()

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        try:
            self._start(tag, attributes)
        except InvalidSsml as error:
            raise self.fail(str(error)) from None

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        at = self.parser.CurrentByteIndex
        if not self.stack and tag != "speak":
            raise InvalidSsml(f"the root element must be <speak>, not <{tag}>")
        if self.stack and tag == "speak":
            raise InvalidSsml("<speak> may only be the root element")
        if tag in NOT_HONOURED:
            raise InvalidSsml(f"<{tag}>: {NOT_HONOURED[tag]}")
        if tag not in ATTRIBUTES:
            raise InvalidSsml(f"unknown tag <{tag}>; expected one of {sorted(ATTRIBUTES)}")
        unknown = sorted(set(attributes) - ATTRIBUTES[tag] - COMMON)
        if unknown:
            allowed = sorted(ATTRIBUTES[tag] | COMMON)
            raise InvalidSsml(f"<{tag}> has no attribute {unknown[0]!r}; expected one of {allowed}")
        if self.stack and self.stack[-1].tag in FIXED:
            raise InvalidSsml(f"<{tag}> may not be inside <{self.stack[-1].tag}>")
        style = _styled(self.style(), tag, attributes)
        if tag in ("p", "s"):
            self.spans.append(Boundary())
        elif tag == "break":
            ms = values.break_ms(attributes.get("time"), attributes.get("strength"))
            strength = attributes.get("strength")
            self.spans.append(Boundary(ms) if strength in ("strong", "x-strong") else Pause(ms))
        elif tag == "amazon:breath":
            self.spans.append(Pause(_breath_ms(attributes.get("duration")), Sound.BREATH))
        elif tag == "mark":
            name = attributes.get("name")
            if not name:
                raise InvalidSsml("<mark> needs a name attribute")
            end = self.source.find(b">", at) + 1
            self.spans.append(Mark(name, at, end))
        elif tag == "say-as" and "interpret-as" not in attributes:
            raise InvalidSsml("<say-as> needs an interpret-as attribute")
        elif tag == "sub" and "alias" not in attributes:
            raise InvalidSsml("<sub> needs an alias attribute")
        elif tag == "phoneme":
            _phonemes(attributes)
        elif tag == "w" and attributes.get("role") not in ROLES:
            raise InvalidSsml(f"<w> role={attributes.get('role')!r}; expected one of {sorted(ROLES)}")
        self.stack.append(_Open(tag, attributes, style, at))

    def end(self, tag: str) -> None:
        element = self.stack.pop()
        try:
            if element.tag in FIXED:
                self._fixed(element)
            elif element.tag == "p":
                self.spans.append(Boundary(PARAGRAPH_PAUSE_MS))
            elif element.tag == "s":
                self.spans.append(Boundary())
        except InvalidSsml as error:
            raise self.fail(str(error)) from None

    def text(self, data: str) -> None:
        at = self.parser.CurrentByteIndex
        if not self.stack:
            return
        bad = next((c for c in data if unspeakable(c)), None)
        if bad is not None:
            raise self.fail(f"the text holds U+{ord(bad):04X}, a character that cannot be spoken")
        self.characters += len(data)
        offsets = byte_offsets(data, self.source, at)
        top = self.stack[-1]
        if top.tag in FIXED:
            top.text.append(data)
            top.text_start = at if top.text_start is None else top.text_start
            top.text_end = offsets[-1]
            return
        self.spans.append(Text(data, offsets, top.style))

    def _fixed(self, element: _Open) -> None:
        written = "".join(element.text)
        start = element.text_start if element.text_start is not None else element.start
        end = element.text_end if element.text_start is not None else start
        value = self.source[start:end].decode("utf-8", "replace").strip()
        attributes = element.attributes
        phonemes = None
        if element.tag == "say-as":
            spoken = say_as(
                written.strip(),
                attributes["interpret-as"],
                format=attributes.get("format"),
                detail=attributes.get("detail"),
            )
        elif element.tag == "sub":
            spoken = attributes["alias"]
        elif element.tag == "phoneme":
            spoken, phonemes = written.strip(), _phonemes(attributes)
        else:
            spoken = written.strip()
            phonemes = pronunciation(spoken.strip(".,;:!?"), attributes["role"])
        if not spoken.strip() and phonemes is None:
            return
        self.spans.append(Fixed(Word(spoken.strip(), start, end, value, phonemes), element.style))


def _styled(style: Style, tag: str, attributes: Mapping[str, str]) -> Style:
    """The style inside an element: its parent's, changed by what the element says."""
    if "xml:lang" in attributes:
        style = dataclasses.replace(style, language=attributes["xml:lang"])
    prosody = style.prosody
    if tag == "prosody":
        if "amazon:max-duration" in attributes:
            raise InvalidSsml("prosody amazon:max-duration is not supported")
        # Nested elements multiply, within Polly's range for one element: x-slow inside x-slow is 20%, not 0.6**n.
        prosody = Prosody(
            rate=values.clamp_rate(prosody.rate * values.rate(attributes["rate"]))
            if "rate" in attributes
            else prosody.rate,
            pitch=values.clamp_pitch(prosody.pitch * values.pitch(attributes["pitch"]))
            if "pitch" in attributes
            else prosody.pitch,
            volume_db=max(-90.0, min(30.0, prosody.volume_db + values.volume(attributes["volume"])))
            if "volume" in attributes
            else prosody.volume_db,
            whispered=prosody.whispered,
        )
    elif tag == "emphasis":
        level = attributes.get("level", "moderate")
        if level not in values.EMPHASIS:
            raise InvalidSsml(f"emphasis level={level!r}; expected one of {sorted(values.EMPHASIS)}")
        rate, pitch, decibels = values.EMPHASIS[level]
        prosody = Prosody(
            values.clamp_rate(prosody.rate * rate),
            values.clamp_pitch(prosody.pitch * pitch),
            max(-90.0, min(30.0, prosody.volume_db + decibels)),
            prosody.whispered,
        )
    elif tag == "amazon:effect":
        name = attributes.get("name")
        if name != "whispered":
            raise InvalidSsml(f"amazon:effect name={name!r}; only 'whispered' is supported")
        prosody = dataclasses.replace(prosody, whispered=True)
    elif tag == "amazon:auto-breaths":
        style = dataclasses.replace(style, breaths=True)
    return dataclasses.replace(style, prosody=prosody)


def _phonemes(attributes: Mapping[str, str]) -> str:
    """A phoneme element's pronunciation in IPA."""
    alphabet, ph = attributes.get("alphabet"), attributes.get("ph")
    if not ph:
        raise InvalidSsml("<phoneme> needs a ph attribute")
    if alphabet not in ("ipa", "x-sampa"):
        raise InvalidSsml(f"phoneme alphabet={alphabet!r}; expected 'ipa' or 'x-sampa'")
    ipa = xsampa_to_ipa(ph) if alphabet == "x-sampa" else ph
    try:
        validate_ipa(ipa)
    except ValueError as error:
        raise InvalidSsml(f"phoneme ph={ph!r}: {error}") from None
    return ipa


def _breath_ms(duration: str | None) -> int:
    if duration is None:
        return BREATH_MS["medium"]
    if duration not in BREATH_MS:
        raise InvalidSsml(f"amazon:breath duration={duration!r}; expected one of {list(BREATH_MS)}")
    return BREATH_MS[duration]


def _refuse_doctype(*_: object) -> None:
    raise InvalidSsml("a DOCTYPE is not allowed in SSML (no DTDs, no entity declarations)")


@dataclasses.dataclass(frozen=True)
class Document:
    """A parsed SSML document: its spans, and its characters outside tags (what Polly bills)."""

    spans: list[Span]
    characters: int


def parse(ssml: str) -> Document:
    """An SSML document's spans; InvalidSsml (naming line and column) when it is not valid."""
    source = ssml.encode("utf-8")
    parser = expat.ParserCreate("utf-8")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    reader = _Reader(source, parser)
    handlers: dict[str, Callable[..., None]] = {
        "StartElementHandler": reader.start,
        "EndElementHandler": reader.end,
        "CharacterDataHandler": reader.text,
        "StartDoctypeDeclHandler": _refuse_doctype,
        "EntityDeclHandler": _refuse_doctype,
    }
    for name, handler in handlers.items():
        setattr(parser, name, handler)
    try:
        parser.Parse(source, True)
    except InvalidSsml as error:
        if str(error).startswith("Invalid SSML request: line"):
            raise
        raise reader.fail(str(error)) from None
    except expat.ExpatError as error:
        reason = expat.errors.messages[error.code]
        raise InvalidSsml(f"Invalid SSML request: line {error.lineno}, column {error.offset + 1}: {reason}") from None
    if reader.stack:
        raise InvalidSsml(f"Invalid SSML request: the document ended inside <{reader.stack[-1].tag}>")
    return Document(reader.spans, reader.characters)
