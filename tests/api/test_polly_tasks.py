"""Speech synthesis tasks with unmodified boto3: long texts spoken into the lake, listed, surviving a restart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.api.errors import fails
from tests.live_server import LiveServer, live_server
from tests.speech.audio_checks import decode, is_speech_like

pytestmark = pytest.mark.slow

PARAGRAPH = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "


@pytest.fixture(scope="module")
def polly(server: LiveServer) -> Any:
    return server.client("polly")


def finished(polly: Any, task_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = polly.get_speech_synthesis_task(TaskId=task_id)["SynthesisTask"]
        if task["TaskStatus"] in ("completed", "failed"):
            return task
        time.sleep(0.25)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


def key_of(uri: str, bucket: str) -> str:
    return uri.split(f"/{bucket}/", 1)[1]


def test_a_long_text_becomes_an_object_in_the_lake(polly: Any, s3: Any, bucket: str) -> None:
    text = PARAGRAPH * 40  # about 3,500 characters, past SynthesizeSpeech's billed limit
    started = polly.start_speech_synthesis_task(
        Text=text, VoiceId="Joe", OutputFormat="mp3", OutputS3BucketName=bucket, OutputS3KeyPrefix="talks/"
    )["SynthesisTask"]
    assert started["TaskStatus"] in ("scheduled", "inProgress") and started["RequestCharacters"] == len(text)
    assert started["Engine"] == "neural" and started["SampleRate"] == "24000"
    task = finished(polly, started["TaskId"])
    assert task["TaskStatus"] == "completed", task
    key = key_of(task["OutputUri"], bucket)
    assert key == f"talks/{started['TaskId']}.mp3"
    body = s3.get_object(Bucket=bucket, Key=key)
    assert body["ContentType"] == "audio/mpeg"
    samples = decode(body["Body"].read(), "mp3", 24000)
    assert 150 < samples.size / 24000 < 400 and is_speech_like(samples, 24000)


def test_marks_tasks_write_json_lines(polly: Any, s3: Any, bucket: str) -> None:
    started = polly.start_speech_synthesis_task(
        Text=PARAGRAPH,
        VoiceId="Slt",
        OutputFormat="json",
        SpeechMarkTypes=["word", "sentence"],
        OutputS3BucketName=bucket,
    )["SynthesisTask"]
    task = finished(polly, started["TaskId"])
    key = key_of(task["OutputUri"], bucket)
    assert key.endswith(".marks")
    lines = [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]
    assert [m["value"] for m in lines if m["type"] == "sentence"] == [
        "The birch canoe slid on the smooth planks.",
        "Glue the sheet to the dark blue background.",
    ]
    assert task["SpeechMarkTypes"] == ["word", "sentence"]


def test_tasks_are_listed_newest_first_and_by_status(polly: Any, bucket: str) -> None:
    ids = [
        polly.start_speech_synthesis_task(
            Text=f"Task {n}.", VoiceId="Joe", OutputFormat="pcm", OutputS3BucketName=bucket
        )["SynthesisTask"]["TaskId"]
        for n in range(3)
    ]
    for task_id in ids:
        finished(polly, task_id)
    listed = polly.list_speech_synthesis_tasks(MaxResults=2)
    assert len(listed["SynthesisTasks"]) == 2 and listed["NextToken"]
    everything = [
        t["TaskId"]
        for t in polly.get_paginator("list_speech_synthesis_tasks").paginate().build_full_result()["SynthesisTasks"]
    ]
    assert everything.index(ids[2]) < everything.index(ids[1]) < everything.index(ids[0])
    completed = polly.list_speech_synthesis_tasks(Status="completed")["SynthesisTasks"]
    assert {t["TaskStatus"] for t in completed} == {"completed"} and set(ids) <= {t["TaskId"] for t in completed}


def test_bad_tasks_are_refused(polly: Any, bucket: str) -> None:
    def start(**changes: Any) -> Any:
        request = {"Text": "Hi.", "VoiceId": "Joe", "OutputFormat": "mp3", "OutputS3BucketName": bucket, **changes}
        return lambda: polly.start_speech_synthesis_task(**request)

    fails(start(OutputS3BucketName="no-such-bucket-here"), "InvalidS3BucketException", 400)
    fails(start(Text="x" * 200_001), "TextLengthExceededException", 400)
    fails(start(SampleRate="12345"), "InvalidSampleRateException", 400)
    fails(start(OutputS3KeyPrefix="../../etc/"), "InvalidS3KeyException", 400)
    fails(start(SnsTopicArn="arn:aws:sns:us-east-1:000000000000:t"), "ValidationException", 400)
    fails(lambda: polly.get_speech_synthesis_task(TaskId="no-such-task"), "SynthesisTaskNotFoundException", 400)
    fails(lambda: polly.get_speech_synthesis_task(TaskId="bad id!"), "InvalidTaskIdException", 400)
    fails(lambda: polly.list_speech_synthesis_tasks(NextToken="garbage"), "InvalidNextTokenException", 400)


def test_a_task_cut_short_by_a_crash_runs_again_after_the_restart(tmp_path: Path) -> None:
    # Jobs held by a killed server are taken over when their lease runs out: 2 s here.
    env = {"ALTO_JOB_LEASE_SECONDS": "2"}
    with live_server(tmp_path / "data", env=env) as server:
        server.client("s3").create_bucket(Bucket="kept")
        task_id = server.client("polly").start_speech_synthesis_task(
            Text=PARAGRAPH * 30, VoiceId="Joe", OutputFormat="ogg_vorbis", OutputS3BucketName="kept"
        )["SynthesisTask"]["TaskId"]
        server.kill()
        server.start()
        polly = server.client("polly")
        assert polly.get_speech_synthesis_task(TaskId=task_id)["SynthesisTask"]["TaskStatus"] != "completed"
        task = finished(polly, task_id)
        assert task["TaskStatus"] == "completed"
        data = server.client("s3").get_object(Bucket="kept", Key=key_of(task["OutputUri"], "kept"))["Body"].read()
        assert data[:4] == b"OggS" and len(data) > 100_000


@pytest.mark.parametrize("role", ["read-only", "function"])
def test_keys_that_may_not_write_cannot_start_tasks_or_change_lexicons(
    server: LiveServer, bucket: str, role: str
) -> None:
    from click.testing import CliRunner

    from altostratus.cli.main import cli

    done = CliRunner().invoke(cli, ["keys", "create", "--role", role, "--json", "--data-dir", str(server.data_dir)])
    assert done.exit_code == 0, done.output
    key = json.loads(done.stdout)
    polly = server.client("polly", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    start = {"Text": "Hi.", "VoiceId": "Joe", "OutputFormat": "mp3", "OutputS3BucketName": bucket}
    fails(lambda: polly.start_speech_synthesis_task(**start), "AccessDenied", 403)
    fails(lambda: polly.put_lexicon(Name="sneaky", Content="<lexicon/>"), "AccessDenied", 403)
    speak = lambda: polly.synthesize_speech(Text="Hi.", VoiceId="Joe", OutputFormat="mp3")  # noqa: E731
    if role == "read-only":
        assert len(speak()["AudioStream"].read()) > 0  # speaking writes nothing
    else:
        fails(speak, "AccessDenied", 403)  # a function's key reaches the lake only
