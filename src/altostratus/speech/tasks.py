"""Speech synthesis tasks: long texts spoken by a job that writes the audio (or marks) into the lake.

The task's row keeps its request and where its output goes; its state is its job's (the same id), so a task
scheduled or running when the server stops is run again when it starts. The output is the object
`<OutputS3KeyPrefix><TaskId>.<ext>`, written whole or not at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from typing import Any, Protocol

from sqlalchemy import select

from altostratus.core.clock import Clock
from altostratus.jobs.job import JobNotFound, JobState
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import JobContext, PermanentJobError
from altostratus.speech.errors import InvalidParameter, InvalidS3Key, InvalidTaskId, SynthesisTaskNotFound
from altostratus.speech.service import SpeechService, SynthesisRequest
from altostratus.speech.tables import synthesis_tasks
from altostratus.storage.metadata import MetadataStore

SYNTHESIS_JOB = "speech.synthesis"
TASK_ID = re.compile(r"^[a-zA-Z0-9_-]{1,100}$")
EXTENSIONS = {
    "mp3": "mp3",
    "ogg_vorbis": "ogg",
    "ogg_opus": "ogg",
    "pcm": "pcm",
    "mulaw": "mulaw",
    "alaw": "alaw",
    "json": "marks",
}
STATUSES = {
    JobState.PENDING: "scheduled",
    JobState.INPROGRESS: "inProgress",
    JobState.COMPLETED: "completed",
    JobState.FAILED: "failed",
}
MAX_KEY_PREFIX = 800


class AudioSink(Protocol):
    """Where task output goes: the lake, as one object written whole."""

    def check_bucket(self, bucket: str) -> None:
        """InvalidS3Bucket when the bucket does not exist."""
        ...

    def write(self, bucket: str, key: str, chunks: Any, content_type: str) -> None:
        """Store the chunks as bucket/key."""
        ...

    def uri(self, bucket: str, key: str) -> str:
        """The object's URL, as OutputUri gives it."""
        ...


@dataclasses.dataclass(frozen=True)
class SynthesisTask:
    """A task as GetSpeechSynthesisTask shows it."""

    task_id: str
    status: str
    reason: str
    output_uri: str
    created_at: dt.datetime
    request_characters: int
    request: dict[str, Any]


class SynthesisTasks:
    """Starts, runs and reports synthesis tasks."""

    def __init__(
        self, store: MetadataStore, queue: JobQueue, speech: SpeechService, sink: AudioSink, clock: Clock
    ) -> None:
        self._store = store
        self._queue = queue
        self._speech = speech
        self._sink = sink
        self._clock = clock

    def start(self, request: SynthesisRequest, bucket: str, key_prefix: str) -> SynthesisTask:
        """Check the request as SynthesizeSpeech would (with the task limits), then schedule it."""
        synthesis = self._speech.synthesize(request, task=True)
        synthesis.chunks.close()
        self._sink.check_bucket(bucket)
        if len(key_prefix) > MAX_KEY_PREFIX or any(ord(c) < 32 for c in key_prefix):
            raise InvalidS3Key(f"OutputS3KeyPrefix={key_prefix[:40]!r}; at most {MAX_KEY_PREFIX} printable characters")
        if {".", ".."} & set(key_prefix.split("/")):
            # The object could be stored under such a key, but OutputUri would name another one to any client
            # that resolves dot segments.
            raise InvalidS3Key(f"OutputS3KeyPrefix={key_prefix[:40]!r}; a prefix may not hold . or .. segments")
        task_id = str(uuid.uuid4())
        key = f"{key_prefix}{task_id}.{EXTENSIONS[request.output_format]}"
        row = {
            "task_id": task_id,
            "request": {
                **dataclasses.asdict(request),
                "bucket": bucket,
                "key": key,
                "engine": synthesis.engine.value,
                "sample_rate": str(synthesis.sample_rate),
            },
            "output_uri": self._sink.uri(bucket, key),
            "request_characters": synthesis.characters,
            "created_at": self._clock.now(),
        }
        with self._store.begin() as db:
            db.execute(synthesis_tasks.insert().values(row))
        self._queue.submit(SYNTHESIS_JOB, {"task_id": task_id}, job_id=task_id, max_attempts=2)
        return self.get(task_id)

    def get(self, task_id: str) -> SynthesisTask:
        """The task; SynthesisTaskNotFound when there is none, InvalidTaskId when the id is malformed."""
        if not TASK_ID.match(task_id):
            raise InvalidTaskId(f"TaskId={task_id!r}; expected 1 to 100 of [a-zA-Z0-9_-]")
        with self._store.begin() as db:
            row = db.execute(select(synthesis_tasks).where(synthesis_tasks.c.task_id == task_id)).first()
        if row is None:
            raise SynthesisTaskNotFound(f"Synthesis task not found: {task_id!r}")
        return self._with_states([row._mapping])[0]

    def page(self, offset: int, limit: int, status: str | None) -> tuple[list[SynthesisTask], int | None]:
        """Tasks, newest first, from `offset`; only those in `status` (Polly's names) when given.

        The state lives in the jobs, so a filtered list reads every task's row (ids and times only) first.
        """
        if status is not None and status not in STATUSES.values():
            raise InvalidParameter(f"Status={status!r}; expected one of {list(STATUSES.values())}")
        query = select(synthesis_tasks).order_by(synthesis_tasks.c.created_at.desc(), synthesis_tasks.c.task_id)
        if status is None:
            query = query.offset(offset).limit(limit + 1)
        with self._store.begin() as db:
            rows = [row._mapping for row in db.execute(query)]
        found = self._with_states(rows)
        if status is not None:
            found = [task for task in found if task.status == status][offset : offset + limit + 1]
        return found[:limit], (offset + limit if len(found) > limit else None)

    def _with_states(self, rows: list[Any]) -> list[SynthesisTask]:
        states = self._queue.states([row["task_id"] for row in rows])
        return [_task(row, *states.get(row["task_id"], (JobState.FAILED, "the task's job is gone"))) for row in rows]

    def run(self, context: JobContext) -> dict[str, Any]:
        """The job: speak the task's text and store it; the object appears whole, or the task fails."""
        try:
            task = self.get(str(context.payload["task_id"]))
        except SynthesisTaskNotFound as error:
            raise PermanentJobError(str(error)) from None
        fields = {k: v for k, v in task.request.items() if k in {f.name for f in dataclasses.fields(SynthesisRequest)}}
        synthesis = self._speech.synthesize(SynthesisRequest(**fields), task=True)
        self._sink.write(task.request["bucket"], task.request["key"], synthesis.chunks, synthesis.content_type)
        return {"output_uri": task.output_uri}


def _task(row: Any, state: JobState, message: str) -> SynthesisTask:
    return SynthesisTask(
        task_id=row["task_id"],
        status=STATUSES[state],
        reason=message if state is JobState.FAILED else "",
        output_uri=row["output_uri"],
        created_at=row["created_at"],
        request_characters=row["request_characters"],
        request=dict(row["request"]),
    )


__all__ = ["SYNTHESIS_JOB", "AudioSink", "JobNotFound", "SynthesisTask", "SynthesisTasks"]
