"""`alto speak` and `alto voices`: text to speech over the Polly API with boto3.

`alto speak "TEXT" -o OUT` picks the format from OUT's suffix: .mp3, .ogg (Vorbis; --format ogg_opus for
Opus), .pcm (raw 16-bit), .wav (pcm in a WAV header, written here), .json (speech marks). The audio is
written as it streams from the server, sentence by sentence.
"""

from __future__ import annotations

import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from altostratus.cli.options import json_option, service_client, with_clients
from altostratus.cli.output import CommandFailed, print_json, print_table

Client = Any  # boto3 clients are built at run time and carry no static types
SUFFIXES = {".mp3": "mp3", ".ogg": "ogg_vorbis", ".opus": "ogg_opus", ".pcm": "pcm", ".wav": "pcm", ".json": "json"}
FORMATS = ("mp3", "ogg_vorbis", "ogg_opus", "pcm", "mulaw", "alaw", "json")
MARK_TYPES = ("sentence", "word", "viseme", "ssml")


def _clients(endpoint_url: str | None, data_dir: Path | None) -> tuple[Client]:
    return (service_client("polly", endpoint_url, data_dir),)


with_client = with_clients(_clients)


@click.command("speak")
@click.argument("text")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the audio (or marks): its suffix picks the format.",
)
@click.option("--voice", default="Joe", show_default=True, help="A voice of `alto voices` (our ids or Polly's names).")
@click.option("--engine", type=click.Choice(["standard", "neural"]), help="The engine (default: the voice's).")
@click.option("--format", "output_format", type=click.Choice(FORMATS), help="The format, if not OUT's suffix's.")
@click.option("--sample-rate", help="Hz, as Polly allows for the format (e.g. 16000).")
@click.option("--ssml", is_flag=True, help="TEXT is SSML (<speak>...</speak>).")
@click.option("--marks", "marks", is_flag=True, help="Write speech marks (JSON lines) instead of audio.")
@click.option("--mark-types", default="sentence,word", show_default=True, help="Which marks, with --marks.")
@click.option("--lexicon", "lexicons", multiple=True, help="A stored lexicon to apply (up to five).")
@click.option("--language", help="The language, for a voice that speaks several.")
@with_client
def speak(
    polly: Client,
    text: str,
    output: Path,
    voice: str,
    engine: str | None,
    output_format: str | None,
    sample_rate: str | None,
    ssml: bool,
    marks: bool,
    mark_types: str,
    lexicons: tuple[str, ...],
    language: str | None,
) -> None:
    """Speak TEXT ("-" reads it from standard input) into OUT."""
    if text == "-":
        text = sys.stdin.read()
    chosen = "json" if marks else output_format or SUFFIXES.get(output.suffix.lower())
    if chosen is None:
        raise CommandFailed(f"cannot tell the format from {output.name!r}; give --format, one of {list(FORMATS)}")
    request: dict[str, Any] = {
        "Text": text,
        "VoiceId": voice,
        "OutputFormat": chosen,
        "TextType": "ssml" if ssml else "text",
    }
    if chosen == "json":
        request["SpeechMarkTypes"] = [t.strip() for t in mark_types.split(",") if t.strip()]
    for name, value in (("Engine", engine), ("SampleRate", sample_rate), ("LanguageCode", language)):
        if value:
            request[name] = value
    if lexicons:
        request["LexiconNames"] = list(lexicons)
    answer = polly.synthesize_speech(**request)
    stream = answer["AudioStream"]
    wav = output.suffix.lower() == ".wav" and chosen == "pcm"
    written = _write_wav(stream, output, int(sample_rate or 16000)) if wav else _write(stream, output)
    click.echo(f"{output}: {written} bytes, {answer['ContentType']}, {answer['RequestCharacters']} characters")


def _write(stream: Any, output: Path) -> int:
    with output.open("wb") as file:
        return _copy(stream, file.write)


def _write_wav(stream: Any, output: Path, rate: int) -> int:
    with wave.open(str(output), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        return _copy(stream, file.writeframes)


def _copy(stream: Any, write: Callable[[bytes], object]) -> int:
    """Write the answer's chunks as they come; how many bytes were written."""
    written = 0
    for chunk in stream.iter_chunks(64 * 1024):
        write(chunk)
        written += len(chunk)
    return written


@click.command("voices")
@click.option("--engine", type=click.Choice(["standard", "neural"]), help="Only voices answering for this engine.")
@click.option("--language", help="Only voices of this language (e.g. en-US).")
@json_option
@with_client
def voices(polly: Client, engine: str | None, language: str | None, as_json: bool) -> None:
    """The voices: our own and Polly's names, with the engines each answers for."""
    options = {k: v for k, v in (("Engine", engine), ("LanguageCode", language)) if v}
    found = polly.describe_voices(**options)["Voices"]
    if as_json:
        print_json(found)
        return
    rows = [
        [v["Id"], v["Gender"], v["LanguageCode"], v["LanguageName"], ",".join(v["SupportedEngines"])] for v in found
    ]
    print_table(rows, ["ID", "GENDER", "LANGUAGE", "NAME", "ENGINES"])
