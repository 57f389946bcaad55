"""`alto speak` and `alto voices` end to end: the real command against the session's server."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.live_server import LiveServer
from tests.speech.audio_checks import decode, is_speech_like

pytestmark = pytest.mark.slow
ALTO = str(Path(sys.executable).with_name("alto"))


def alto(server: LiveServer, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    where = ["--endpoint-url", server.endpoint, "--data-dir", str(server.data_dir)]
    return subprocess.run([ALTO, *args, *where], capture_output=True, text=True, input=stdin, timeout=120, check=False)


@pytest.mark.parametrize(("suffix", "fmt", "rate"), [(".mp3", "mp3", 24000), (".ogg", "ogg_vorbis", 24000)])
def test_speak_writes_audio_in_the_suffix_s_format(
    server: LiveServer, tmp_path: Path, suffix: str, fmt: str, rate: int
) -> None:
    out = tmp_path / f"hello{suffix}"
    done = alto(server, "speak", "Hello from the command line.", "-o", str(out))
    assert done.returncode == 0, done.stderr
    samples = decode(out.read_bytes(), fmt, rate)
    assert 1.0 < samples.size / rate < 4.0 and is_speech_like(samples, rate)


def test_speak_writes_a_wav_from_ssml_and_stdin(server: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    ssml = "<speak>Hello <break time='1s'/> there.</speak>"
    done = alto(server, "speak", "-", "-o", str(out), "--ssml", "--voice", "Slt", stdin=ssml)
    assert done.returncode == 0, done.stderr
    with wave.open(str(out)) as file:
        assert file.getframerate() == 16000 and file.getnchannels() == 1
        frames = np.frombuffer(file.readframes(file.getnframes()), "<i2")
    assert frames.size / 16000 > 1.5


def test_speak_marks(server: LiveServer, tmp_path: Path) -> None:
    out = tmp_path / "marks.json"
    done = alto(server, "speak", "One two. Three.", "-o", str(out), "--marks", "--mark-types", "word,sentence")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [m["value"] for m in lines if m["type"] == "word"] == ["One", "two", "Three"]


def test_speak_reports_the_server_s_error(server: LiveServer, tmp_path: Path) -> None:
    done = alto(server, "speak", "Hi", "-o", str(tmp_path / "x.mp3"), "--voice", "Nobody")
    assert done.returncode == 1 and "ValidationException" in done.stderr and "Nobody" in done.stderr


def test_voices_lists_ours_and_polly_s(server: LiveServer) -> None:
    table = alto(server, "voices")
    assert table.returncode == 0 and "Joe" in table.stdout and "Joanna" in table.stdout
    neural = json.loads(alto(server, "voices", "--engine", "neural", "--json").stdout)
    assert {"Joe", "Joanna", "Matthew"} <= {v["Id"] for v in neural}
    assert all("neural" in v["SupportedEngines"] for v in neural)
    german = json.loads(alto(server, "voices", "--language", "de-DE", "--json").stdout)
    assert {v["LanguageCode"] for v in german} == {"de-DE"} and "Hans" in {v["Id"] for v in german}
