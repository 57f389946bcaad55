"""SSML's prosody, emphasis and break values, read as Polly documents them, into multipliers and decibels."""

from __future__ import annotations

import re

from altostratus.speech.errors import InvalidSsml

RATES = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.6}
PITCHES = {"x-low": 0.8, "low": 0.9, "medium": 1.0, "default": 1.0, "high": 1.1, "x-high": 1.2}
VOLUMES = {"silent": -90.0, "x-soft": -9.0, "soft": -4.5, "medium": 0.0, "default": 0.0, "loud": 4.5, "x-loud": 9.0}
# Break strengths, in ms: "medium" is a comma's pause, "strong" a sentence's, "x-strong" a paragraph's.
STRENGTHS = {"none": 0, "x-weak": 100, "weak": 200, "medium": 400, "strong": 700, "x-strong": 1000}
# Emphasis: (rate, pitch, volume dB) multipliers, as a speaker stresses words.
EMPHASIS = {
    "strong": (0.85, 1.08, 4.0),
    "moderate": (0.92, 1.04, 2.0),
    "none": (1.0, 1.0, 0.0),
    "reduced": (1.1, 0.97, -3.0),
}
# Polly's limits: rate 20% to 200%, a break of at most 10 s.
MIN_RATE, MAX_RATE = 0.2, 2.0
MAX_BREAK_MS = 10_000

_PERCENT = re.compile(r"^([+-]?\d+(?:\.\d+)?)%$")
_DECIBELS = re.compile(r"^([+-]\d+(?:\.\d+)?)dB$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


def clamp_rate(multiplier: float) -> float:
    """A combined rate held within 20% to 200%."""
    return min(MAX_RATE, max(MIN_RATE, multiplier))


def clamp_pitch(multiplier: float) -> float:
    """A combined pitch held within -50% to +100%."""
    return min(2.0, max(0.5, multiplier))


def _shown(value: str) -> str:
    """A value as an error message quotes it: at most 40 characters."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


def rate(value: str) -> float:
    """x-slow .. x-fast or a percentage of the normal rate (20% to 200%)."""
    if value in RATES:
        return RATES[value]
    match = _PERCENT.match(value)
    if match is None or value.startswith(("+", "-")):
        raise InvalidSsml(f"prosody rate={_shown(value)}; expected one of {sorted(RATES)} or a percentage such as 120%")
    multiplier = float(match.group(1)) / 100
    if not MIN_RATE <= multiplier <= MAX_RATE:
        raise InvalidSsml(f"prosody rate={_shown(value)}; the rate must be from 20% to 200%")
    return multiplier


def pitch(value: str) -> float:
    """x-low .. x-high, or a relative change such as +10% or -20% (at most an octave either way)."""
    if value in PITCHES:
        return PITCHES[value]
    match = _PERCENT.match(value)
    if match is None:
        raise InvalidSsml(f"prosody pitch={_shown(value)}; expected one of {sorted(PITCHES)} or a change such as +10%")
    multiplier = 1 + float(match.group(1)) / 100
    if not 0.5 <= multiplier <= 2.0:
        raise InvalidSsml(f"prosody pitch={_shown(value)}; the change must be from -50% to +100%")
    return multiplier


def volume(value: str) -> float:
    """silent .. x-loud, or a change in decibels such as +6dB (at most 30 dB either way)."""
    if value in VOLUMES:
        return VOLUMES[value]
    match = _DECIBELS.match(value)
    if match is None:
        raise InvalidSsml(f"prosody volume={_shown(value)}; expected one of {sorted(VOLUMES)} or a change such as +6dB")
    decibels = float(match.group(1))
    if abs(decibels) > 30:
        raise InvalidSsml(f"prosody volume={_shown(value)}; the change must be within 30dB")
    return decibels


def break_ms(time: str | None, strength: str | None) -> int:
    """A break's length: its time (e.g. 1500ms, 1.5s; at most 10 s), else its strength's, else medium's."""
    if time is not None:
        match = _DURATION.match(time)
        if match is None:
            raise InvalidSsml(f"break time={_shown(time)}; expected a duration such as 500ms or 1.5s")
        ms = float(match.group(1)) * (1000 if match.group(2) == "s" else 1)
        if ms > MAX_BREAK_MS:
            raise InvalidSsml(f"break time={_shown(time)}; a break is at most 10s")
        return round(ms)
    if strength is None:
        return STRENGTHS["medium"]
    if strength not in STRENGTHS:
        raise InvalidSsml(f"break strength={_shown(strength)}; expected one of {list(STRENGTHS)}")
    return STRENGTHS[strength]
