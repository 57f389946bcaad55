"""The statistical parametric voice: Debian's festival with an HTS voice (cmu_us_slt_arctic_hts by default).

One `festival --pipe` process per speaker, started with it, serves every call in turn under a lock, and is
started again when it dies or stops answering. Timings come from the utterance itself: each Word's first
Segment for the word offsets, and every Segment for the phones (festival's US phones, through IPA, to
Polly's visemes).

The text never becomes Scheme: festival reads it from a file in a private temporary directory (`fread`),
so quotes, parentheses and backslashes in it are only spoken. Festival knows ASCII English only, so letters
are folded to ASCII ("café" is read "cafe") and what has no ASCII form is dropped. It does not honour
phoneme input: a word with `phonemes` is spoken from its text.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import select
import shutil
import subprocess
import tempfile
import threading
import time
import unicodedata
import wave
import weakref
from pathlib import Path

import numpy as np
import numpy.typing as npt

from altostratus.speech.engines.speaker import Phone, Spoken
from altostratus.speech.engines.timings import collapse_silences, fill_word_offsets
from altostratus.speech.utterances import Run, Word
from altostratus.speech.visemes import ipa_of_festival_phone, viseme_of_ipa

DEFAULT_VOICE = "voice_cmu_us_slt_arctic_hts"
# Beyond these the HTS engine's speed factor stops sounding like speech.
MIN_RATE, MAX_RATE = 0.2, 5.0
_SYMBOL = re.compile(r"[A-Za-z0-9_]+")

# Defined once per process; every request calls alto-speak with paths and numbers only, never text.
_PRELUDE = r"""
(define (alto-first-start word)
  "The start of the word's first segment, or -1 when festival gave it none (punctuation)."
  (let ((syl (item.relation word 'SylStructure)))
    (if (and syl (item.daughter1 syl) (item.daughter1 (item.daughter1 syl)))
        (item.feat (item.daughter1 (item.daughter1 syl)) "R:Segment.start")
        -1)))
(define (alto-report utt tag)
  (let ((token (utt.relation.first utt 'Token)) (index 0))
    (while token
      (mapcar (lambda (word) (format t "%s W %d %f\n" tag index (alto-first-start word)))
              (item.daughters token))
      (set! index (+ index 1))
      (set! token (item.next token)))
    (format t "%s N %d\n" tag index))
  (mapcar (lambda (seg)
            (format t "%s S %s %f %s\n" tag (item.name seg) (item.feat seg "start")
                    (item.feat seg "R:SylStructure.parent.stress")))
          (utt.relation.items utt 'Segment)))
(define (alto-speak text-path wave-path rate tag)
  (let ((fd (fopen text-path "rb")) (text nil) (utt nil))
    (set! text (fread 1000000 fd))
    (fclose fd)
    (Parameter.set 'Duration_Stretch (/ 1.0 rate))
    (set! hts_engine_params (append alto-hts-params (list (list "-r" rate))))
    (set! utt (eval (list 'Utterance 'Text text)))
    (utt.synth utt)
    (utt.save.wave utt wave-path 'riff)
    (alto-report utt tag)
    (format t "%s OK\n" tag)))
"""


class FestivalError(RuntimeError):
    """Festival is missing, died, took too long, or could not speak a text."""


@dataclasses.dataclass
class _Timings:
    """What festival reported for one utterance, in seconds."""

    # (token index, start or -1) of each festival word, in order.
    words: list[tuple[int, float]]
    tokens: int
    # (phone, start, stressed) of each segment.
    segments: list[tuple[str, float, bool]]


class FestivalSpeaker:
    """One festival voice; its sample rate is measured by speaking a word when it starts (about 1 s)."""

    native_pitch = False

    def __init__(self, *, voice: str = DEFAULT_VOICE, timeout_s: float = 60.0) -> None:
        if not _SYMBOL.fullmatch(voice):
            raise ValueError(f"voice={voice!r}; expected a festival voice function name like {DEFAULT_VOICE!r}")
        self.voice = voice
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="alto-festival-"))
        self._remove_dir = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        self._sample_rate: int | None = None

    @property
    def sample_rate(self) -> int:
        """The voice's rate, measured by speaking one word the first time it is asked (festival starts then)."""
        if self._sample_rate is None:
            self._sample_rate = self._synthesize(["ready"], 1.0)[1]
        return self._sample_rate

    def speak(self, run: Run) -> Spoken:
        """The run's audio, each word's first sample from festival's Word and Segment relations."""
        pieces, owner = _pieces(run.words)
        if not run.words:
            return Spoken(np.zeros(0, np.float32), [], [])
        rate = min(MAX_RATE, max(MIN_RATE, run.prosody.rate))
        samples, sample_rate, timings = self._synthesize(pieces, rate)
        word_offsets = _word_offsets(timings, owner, len(run.words), sample_rate, samples.size)
        return Spoken(samples, word_offsets, _phones(timings.segments, sample_rate))

    def close(self) -> None:
        """Stop the festival process and remove the temporary directory."""
        with self._lock:
            self._stop()
        self._remove_dir()

    def _synthesize(self, pieces: list[str], rate: float) -> tuple[npt.NDArray[np.float32], int, _Timings]:
        tag = secrets.token_hex(8)
        text_path, wave_path = self._dir / f"{tag}.txt", self._dir / f"{tag}.wav"
        text_path.write_bytes(" ".join(pieces).encode("ascii"))
        request = f'(alto-speak {_quoted(str(text_path))} {_quoted(str(wave_path))} {rate:.4f} "{tag}")'
        try:
            with self._lock:
                lines = self._ask(request, tag)
            if f"{tag} OK" not in lines:
                raise FestivalError(f"festival could not speak a text of {len(pieces)} words: {_last_error(lines)}")
            samples, sample_rate = _read_wave(wave_path)
        finally:
            text_path.unlink(missing_ok=True)
            wave_path.unlink(missing_ok=True)
        return samples, sample_rate, _parse(lines, tag)

    def _ask(self, request: str, tag: str) -> list[str]:
        """Send one request and read festival's lines up to its end marker (the caller holds the lock)."""
        process = self._running()
        assert process.stdin is not None and process.stdout is not None
        # unwind-protect keeps a Scheme error inside this request; the end marker follows either way.
        process.stdin.write(f'(unwind-protect {request} nil)\n(format t "%s END\\n" "{tag}")\n'.encode())
        process.stdin.flush()
        return self._read_until(process, f"{tag} END")

    def _read_until(self, process: subprocess.Popen[bytes], marker: str) -> list[str]:
        assert process.stdout is not None
        deadline = time.monotonic() + self.timeout_s
        received = b""
        while marker.encode() not in received:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([process.stdout], [], [], left)[0]:
                self._stop()
                raise FestivalError(f"festival gave no answer in {self.timeout_s:.0f} s; it will be restarted")
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                code = process.wait()
                self._stop()
                raise FestivalError(f"festival exited with status {code}; it will be restarted")
            received += chunk
        return received.decode("utf-8", "replace").splitlines()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        festival = shutil.which("festival")
        stdbuf = shutil.which("stdbuf")
        if festival is None or stdbuf is None:
            raise FestivalError("festival (and coreutils' stdbuf) not found; Debian: apt-get install festival")
        # festival writes through stdio: line-buffer it, or answers sit in its buffer while it waits on us.
        self._process = subprocess.Popen(
            [stdbuf, "-oL", "-eL", festival, "--pipe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self._dir,
        )
        weakref.finalize(self, _kill, self._process)
        tag = secrets.token_hex(8)
        assert self._process.stdin is not None
        voice = f'(begin ({self.voice}) (set! alto-hts-params hts_engine_params) (format t "%s VOICE\\n" "{tag}"))'
        start = f'{_PRELUDE}\n(unwind-protect {voice} nil)\n(format t "%s END\\n" "{tag}")\n'
        self._process.stdin.write(start.encode())
        self._process.stdin.flush()
        if f"{tag} VOICE" not in self._read_until(self._process, f"{tag} END"):
            self._stop()
            raise FestivalError(f"voice={self.voice!r} is not a festival voice here (festvox-* package missing?)")
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            _kill(self._process)
            self._process = None


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Stop a festival process whose speaker was dropped without close()."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def _quoted(text: str) -> str:
    """A Scheme string literal for text we made ourselves (paths): backslashes and quotes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pieces(words: tuple[Word, ...]) -> tuple[list[str], list[int]]:
    """The whitespace-separated ASCII pieces festival tokenises, one token each, and each one's run word."""
    pieces: list[str] = []
    owner: list[int] = []
    for index, word in enumerate(words):
        folded = unicodedata.normalize("NFKD", word.text).encode("ascii", "ignore").decode("ascii")
        printable = "".join(c if c.isprintable() else " " for c in folded)
        # A word with nothing festival can say still needs its token, so that the tokens line up with words.
        for piece in printable.split() or [","]:
            pieces.append(piece)
            owner.append(index)
    return pieces, owner


def _read_wave(path: Path) -> tuple[npt.NDArray[np.float32], int]:
    with wave.open(str(path), "rb") as audio:
        rate, width, frames = audio.getframerate(), audio.getsampwidth(), audio.readframes(audio.getnframes())
    if width != 2:
        raise FestivalError(f"festival wrote {8 * width}-bit samples; expected 16-bit")
    return (np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0).clip(-1.0, 1.0), rate


def _parse(lines: list[str], tag: str) -> _Timings:
    words: list[tuple[int, float]] = []
    segments: list[tuple[str, float, bool]] = []
    tokens = 0
    for line in lines:
        fields = line.split()
        if len(fields) < 3 or fields[0] != tag:
            continue
        if fields[1] == "W":
            words.append((int(fields[2]), float(fields[3])))
        elif fields[1] == "N":
            tokens = int(fields[2])
        elif fields[1] == "S":
            segments.append((fields[2], float(fields[3]), fields[4] not in ("0", "nil")))
    return _Timings(words, tokens, segments)


def _last_error(lines: list[str]) -> str:
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return (errors[-1] if errors else "no error given").strip()[:200]


def _word_offsets(timings: _Timings, owner: list[int], count: int, rate: int, total: int) -> list[int]:
    """One sample per run word: the start of the first festival word, with segments, of its tokens.

    Tokens are the pieces in order (festival splits only on whitespace); should festival ever count more,
    the extra ones are held to the last run word.
    """
    first: list[int | None] = [None] * count
    for token, start in timings.words:
        if start < 0:
            continue
        word, sample = owner[min(token, len(owner) - 1)], round(start * rate)
        current = first[word]
        first[word] = sample if current is None else min(current, sample)
    return fill_word_offsets(first, total)


def _phones(segments: list[tuple[str, float, bool]], rate: int) -> list[Phone]:
    """Each segment as its viseme, through its IPA; festival's pauses are "sil"."""
    phones = [
        Phone(round(start * rate), viseme_of_ipa(ipa_of_festival_phone(name, stressed=stressed)))
        for name, start, stressed in segments
    ]
    return collapse_silences(phones)
