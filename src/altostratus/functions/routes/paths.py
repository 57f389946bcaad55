"""Route path templates in API Gateway's syntax: literal segments, `{name}` parameters, a final greedy `{name+}`."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Sequence
from urllib.parse import unquote

from altostratus.core.errors import BadRequest

MAX_PATH_CHARS = 1024
_PARAM = re.compile(r"\{(?P<name>[A-Za-z0-9._-]+)(?P<greedy>\+?)\}")
# Characters a literal segment may hold: RFC 3986's pchar, percent escapes included.
_LITERAL = re.compile(r"[A-Za-z0-9._~:@!$&'()*+,;=%-]+")
SYNTAX = "'/', then segments of literal text, {name} or, as the last segment, {name+}; e.g. /bookings/{id}"


class InvalidRoute(BadRequest):
    """The route's method or path is not valid."""

    code = "BadRequestException"


class SegmentKind(enum.IntEnum):
    """What a template segment matches; lower values are more specific and win."""

    LITERAL = 0
    PARAMETER = 1
    GREEDY = 2


@dataclasses.dataclass(frozen=True)
class Segment:
    """One segment of a template: literal text, or the name of the parameter it binds."""

    kind: SegmentKind
    text: str


@dataclasses.dataclass(frozen=True)
class PathTemplate:
    """A parsed route path, e.g. /bookings/{id} or /files/{proxy+}."""

    text: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> PathTemplate:
        """The template `text` spells; InvalidRoute naming the offending part otherwise."""
        if not text.startswith("/") or len(text) > MAX_PATH_CHARS:
            raise InvalidRoute(f"path={text!r}; expected {SYNTAX} (at most {MAX_PATH_CHARS} characters)")
        parts = text[1:].split("/") if text != "/" else []
        segments = tuple(_segment(text, part) for part in parts)
        names = [s.text for s in segments if s.kind is not SegmentKind.LITERAL]
        if len(set(names)) != len(names):
            raise InvalidRoute(f"path={text!r} uses a parameter name twice: {sorted(names)}")
        if any(s.kind is SegmentKind.GREEDY for s in segments[:-1]):
            raise InvalidRoute(f"path={text!r}; a greedy parameter {{name+}} may only be the last segment")
        return cls(text, segments)

    @property
    def shape(self) -> str:
        """The template with parameter names left out: two routes of one method and shape would be ambiguous."""
        marks = {SegmentKind.PARAMETER: "{}", SegmentKind.GREEDY: "{+}"}
        return "/" + "/".join(marks.get(s.kind, s.text) for s in self.segments)

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sort key: compared segment by segment, a literal beats a parameter, which beats a greedy one."""
        return tuple(int(s.kind) for s in self.segments)

    def match(self, parts: Sequence[str]) -> dict[str, str] | None:
        """The path parameters if the request path's raw segments match this template, else None."""
        greedy = bool(self.segments) and self.segments[-1].kind is SegmentKind.GREEDY
        fixed = self.segments[:-1] if greedy else self.segments
        if len(parts) < len(fixed) + greedy or (not greedy and len(parts) != len(fixed)):
            return None
        params: dict[str, str] = {}
        for segment, part in zip(fixed, parts, strict=False):
            value = unquote(part)
            if segment.kind is SegmentKind.LITERAL:
                if value != unquote(segment.text):
                    return None
            elif not value:
                return None
            else:
                params[segment.text] = value
        if greedy:
            rest = "/".join(unquote(part) for part in parts[len(fixed) :])
            if not rest:
                return None
            params[self.segments[-1].text] = rest
        return params


def split_path(path: str) -> list[str]:
    """A request path's raw (still percent-encoded) segments: '/a/b' -> ['a', 'b'], '/' or '' -> []."""
    return path[1:].split("/") if path not in ("", "/") else []


def _segment(template: str, part: str) -> Segment:
    found = _PARAM.fullmatch(part)
    if found:
        return Segment(SegmentKind.GREEDY if found["greedy"] else SegmentKind.PARAMETER, found["name"])
    if not _LITERAL.fullmatch(part):
        raise InvalidRoute(f"path={template!r} has the segment {part!r}; expected {SYNTAX}")
    return Segment(SegmentKind.LITERAL, part)
