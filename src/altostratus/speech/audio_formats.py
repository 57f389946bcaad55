"""Polly's output formats: their content types, the sample rates each allows, and the default rate per engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from altostratus.speech.errors import InvalidParameter, InvalidSampleRate

SPEECH_MARKS = "json"


@dataclass(frozen=True)
class AudioFormat:
    """One audio OutputFormat: its name, content type, allowed sample rates and default rates."""

    name: str
    content_type: str
    sample_rates: tuple[int, ...]
    standard_rate: int
    neural_rate: int

    def default_rate(self, neural: bool) -> int:
        """The rate Polly uses when the request names none."""
        return self.neural_rate if neural else self.standard_rate


_COMPRESSED_RATES = (8000, 16000, 22050, 24000, 44100, 48000)

FORMATS: Mapping[str, AudioFormat] = {
    f.name: f
    for f in (
        AudioFormat("mp3", "audio/mpeg", _COMPRESSED_RATES, 22050, 24000),
        AudioFormat("ogg_vorbis", "audio/ogg", _COMPRESSED_RATES, 22050, 24000),
        AudioFormat("ogg_opus", "audio/ogg", (48000,), 48000, 48000),
        AudioFormat("pcm", "audio/pcm", (8000, 16000), 16000, 16000),
        AudioFormat("mulaw", "audio/mulaw", (8000,), 8000, 8000),
        AudioFormat("alaw", "audio/alaw", (8000,), 8000, 8000),
    )
}

CONTENT_TYPES: Mapping[str, str] = {
    **{name: f.content_type for name, f in FORMATS.items()},
    SPEECH_MARKS: "application/x-json-stream",
}


def audio_format(output_format: str) -> AudioFormat:
    """The audio format of this name; speech marks (json) and unknown names are refused."""
    try:
        return FORMATS[output_format]
    except KeyError:
        raise InvalidParameter(
            f"OutputFormat={output_format!r} is not an audio format; expected one of {sorted(FORMATS)}"
        ) from None


def content_type(output_format: str) -> str:
    """The Content-Type Polly answers with for this OutputFormat, speech marks included."""
    try:
        return CONTENT_TYPES[output_format]
    except KeyError:
        raise InvalidParameter(f"OutputFormat={output_format!r}; expected one of {sorted(CONTENT_TYPES)}") from None


def sample_rate_for(output_format: str, requested: str | None, neural: bool) -> int:
    """The sample rate to synthesize at: the requested one if the format allows it, else its default.

    `neural` is true for every engine but standard (neural, long-form and generative all default to 24 kHz).
    """
    fmt = audio_format(output_format)
    if requested is None:
        return fmt.default_rate(neural)
    # Polly sends SampleRate as a string; only the exact spellings it documents are valid ("22050", not "22050.0").
    allowed = {str(rate): rate for rate in fmt.sample_rates}
    if requested not in allowed:
        raise InvalidSampleRate(
            f"SampleRate={requested!r} is not valid for OutputFormat={output_format!r}; expected one of {list(allowed)}"
        )
    return allowed[requested]
