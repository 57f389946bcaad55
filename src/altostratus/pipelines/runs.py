"""Pipeline runs in the metadata store: the run, its steps (state, attempts, lineage) and its log.

Starting a run records it with every step PENDING and queues a job for the first step; each step's job
queues the next one when it finishes (see runner.py), so the queue always holds the run's next move.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from altostratus.core.clock import Clock
from altostratus.core.errors import NotFound
from altostratus.core.ids import short_id
from altostratus.core.waiting import wait_for
from altostratus.functions.names import parse_ref
from altostratus.jobs import JobQueue
from altostratus.pipelines.spec import PipelineSpec, from_mapping
from altostratus.pipelines.tables import pipeline_logs, pipeline_runs, pipeline_steps, pipelines
from altostratus.storage.metadata import MetadataStore

STEP_JOB = "pipelines.step"
# Asked at every object the lake stores, so built once (building a select costs more than running it).
_WATCHING = select(pipelines.c.prefix, pipelines.c.document).where(
    pipelines.c.on_new_data.is_(True), pipelines.c.bucket == bindparam("bucket")
)


class State(enum.StrEnum):
    """Where a run or one of its steps is."""

    PENDING = "PENDING"
    INPROGRESS = "INPROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"

    @property
    def is_final(self) -> bool:
        """Whether it will not change again."""
        return self in (State.COMPLETED, State.FAILED, State.SKIPPED)


class RunNotFound(NotFound):
    """No pipeline run has this id."""

    code = "ResourceNotFoundException"


@dataclasses.dataclass(frozen=True)
class StepRecord:
    """One step of a run as stored."""

    step: str
    state: State
    attempts: int
    lineage: Mapping[str, Any]
    message: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "step": self.step,
            "state": self.state.value,
            "attempts": self.attempts,
            "lineage": dict(self.lineage),
            "message": self.message,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


@dataclasses.dataclass(frozen=True)
class Run:
    """A pipeline run: the file it ran, its state, what started it, its steps and log."""

    run_id: str
    pipeline: str
    document: Mapping[str, Any]
    state: State
    trigger: str
    message: str
    created_at: dt.datetime
    updated_at: dt.datetime
    steps: tuple[StepRecord, ...]
    log: tuple[tuple[dt.datetime, str, str], ...]

    @property
    def spec(self) -> PipelineSpec:
        """The pipeline file this run follows."""
        return from_mapping(self.document)

    def step(self, name: str) -> StepRecord:
        """The step called name."""
        return next(s for s in self.steps if s.step == name)

    def to_dict(self, *, with_log: bool = True) -> dict[str, Any]:
        """JSON-ready."""
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "state": self.state.value,
            "trigger": self.trigger,
            "message": self.message,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "steps": [s.to_dict() for s in self.steps],
        }
        if with_log:
            data["log"] = [{"at": at.isoformat(), "step": step, "message": text} for at, step, text in self.log]
        return data


class PipelineRuns:
    """Records pipelines and their runs, and queues the steps' jobs."""

    def __init__(self, store: MetadataStore, jobs: JobQueue, clock: Clock) -> None:
        self._store = store
        self._jobs = jobs
        self._clock = clock

    def start(self, spec: PipelineSpec, *, trigger: str = "manual", run_id: str | None = None) -> Run:
        """Save the pipeline file and start a run of it (an existing `run_id` is returned as it is)."""
        run_id = run_id or f"{spec.name}-{short_id(10).lower()}"
        now = self._clock.now()
        document = dict(spec.document)
        with self._store.begin() as db:
            if db.execute(select(pipeline_runs.c.run_id).where(pipeline_runs.c.run_id == run_id)).first():
                return self.get(run_id)
            saved: dict[str, Any] = {"document": document, "bucket": spec.source.bucket, "prefix": spec.source.prefix}
            saved |= {"on_new_data": spec.on_new_data, "updated_at": now}
            if db.execute(select(pipelines.c.name).where(pipelines.c.name == spec.name)).first():
                db.execute(update(pipelines).where(pipelines.c.name == spec.name).values(**saved))
            else:
                db.execute(insert(pipelines).values(name=spec.name, **saved))
            db.execute(
                insert(pipeline_runs).values(
                    run_id=run_id,
                    pipeline=spec.name,
                    document=document,
                    state=State.PENDING,
                    trigger=trigger,
                    message="",
                    created_at=now,
                    updated_at=now,
                )
            )
            for position, step in enumerate(spec.steps):
                db.execute(
                    insert(pipeline_steps).values(
                        run_id=run_id, step=step, position=position, state=State.PENDING, attempts=0, lineage={}
                    )
                )
        self.log(run_id, "run", f"started ({trigger}); steps {', '.join(spec.steps)}")
        self.queue(run_id, spec.steps[0])
        return self.get(run_id)

    def start_for_new_data(self, bucket: str, key: str, etag: str) -> list[Run]:
        """Start a run of every on_new_data pipeline whose source holds this new object (once per ETag)."""
        with self._store.read() as db:
            rows = db.execute(_WATCHING, {"bucket": bucket})
            documents = [r.document for r in rows if key.startswith(r.prefix)]
        started = []
        for document in documents:
            spec = from_mapping(document)
            digest = hashlib.sha256(f"{key}\n{etag}".encode()).hexdigest()[:12]
            started.append(self.start(spec, trigger=f"new data s3://{bucket}/{key}", run_id=f"{spec.name}-{digest}"))
        return started

    def preprocessed_buckets(self, function_name: str) -> list[str]:
        """The source buckets of the saved pipelines whose preprocess step runs this function."""
        with self._store.read() as db:
            rows = db.execute(select(pipelines.c.bucket, pipelines.c.document)).all()
        found = []
        for row in rows:
            preprocess = from_mapping(row.document).preprocess
            if preprocess is not None and parse_ref(preprocess.function).name == function_name:
                found.append(str(row.bucket))
        return found

    def deliver(self, topic: str, change: Mapping[str, Any]) -> None:
        """Event bus handler for the lake's object changes: new data starts the pipelines that watch it."""
        if str(change.get("event", "")).startswith("ObjectCreated") and not str(change["key"]).endswith("/"):
            self.start_for_new_data(str(change["bucket"]), str(change["key"]), str(change.get("etag", "")))

    def queue(self, run_id: str, step: str) -> None:
        """Queue the job that runs one step (the same id each time: a repeat is harmless)."""
        job_id = hashlib.sha256(f"{run_id}/{step}".encode()).hexdigest()[:40]
        self._jobs.submit(STEP_JOB, {"run_id": run_id, "step": step}, job_id=job_id, max_attempts=5)

    def get(self, run_id: str) -> Run:
        """The run with its steps and log; RunNotFound when there is none."""
        with self._store.read() as db:
            row = db.execute(select(pipeline_runs).where(pipeline_runs.c.run_id == run_id)).first()
            if row is None:
                raise RunNotFound(f"RunId={run_id!r} does not exist")
            steps = db.execute(
                select(pipeline_steps).where(pipeline_steps.c.run_id == run_id).order_by(pipeline_steps.c.position)
            ).all()
            logs = db.execute(
                select(pipeline_logs).where(pipeline_logs.c.run_id == run_id).order_by(pipeline_logs.c.id)
            ).all()
        return Run(
            run_id=row.run_id,
            pipeline=row.pipeline,
            document=row.document,
            state=State(row.state),
            trigger=row.trigger,
            message=row.message,
            created_at=row.created_at,
            updated_at=row.updated_at,
            steps=tuple(
                StepRecord(s.step, State(s.state), s.attempts, s.lineage, s.message, s.started_at, s.finished_at)
                for s in steps
            ),
            log=tuple((entry.at, entry.step, entry.message) for entry in logs),
        )

    def list(self, *, pipeline: str | None = None, limit: int = 100) -> list[Run]:
        """Runs, newest first."""
        query = select(pipeline_runs.c.run_id).order_by(pipeline_runs.c.created_at.desc()).limit(limit)
        if pipeline is not None:
            query = query.where(pipeline_runs.c.pipeline == pipeline)
        with self._store.read() as db:
            ids = list(db.execute(query).scalars())
        return [self.get(run_id) for run_id in ids]

    def wait(self, run_id: str, timeout: float, *, poll: float = 0.2) -> Run:
        """The run once it is COMPLETED or FAILED, or as it is after `timeout` seconds."""
        return wait_for(lambda: self.get(run_id), lambda run: run.state.is_final, timeout=timeout, interval=poll)

    def log(self, run_id: str, step: str, message: str) -> None:
        """Append a line to the run's log."""
        with self._store.begin() as db:
            db.execute(insert(pipeline_logs).values(run_id=run_id, step=step, at=self._clock.now(), message=message))

    def begin_step(self, run_id: str, step: str) -> StepRecord:
        """Mark the step INPROGRESS (one more attempt) and the run INPROGRESS; the step as it is now."""
        now = self._clock.now()
        with self._store.begin() as db:
            where = (pipeline_steps.c.run_id == run_id) & (pipeline_steps.c.step == step)
            row = db.execute(select(pipeline_steps).where(where)).one()
            db.execute(
                update(pipeline_steps)
                .where(where)
                .values(state=State.INPROGRESS, attempts=row.attempts + 1, started_at=row.started_at or now)
            )
            db.execute(
                update(pipeline_runs)
                .where(pipeline_runs.c.run_id == run_id)
                .values(state=State.INPROGRESS, updated_at=now)
            )
        return self.get(run_id).step(step)

    def save_lineage(self, run_id: str, step: str, lineage: Mapping[str, Any]) -> None:
        """Record what the step has used and made so far (a step resumed after a crash reads it back)."""
        where = (pipeline_steps.c.run_id == run_id) & (pipeline_steps.c.step == step)
        with self._store.begin() as db:
            db.execute(update(pipeline_steps).where(where).values(lineage=dict(lineage)))

    def finish_step(self, run_id: str, step: str, state: State, message: str = "") -> None:
        """Settle one step."""
        where = (pipeline_steps.c.run_id == run_id) & (pipeline_steps.c.step == step)
        with self._store.begin() as db:
            db.execute(
                update(pipeline_steps).where(where).values(state=state, message=message, finished_at=self._clock.now())
            )
        self.log(run_id, step, f"{state.value.lower()}{': ' + message if message else ''}")

    def finish_run(self, run_id: str, state: State, message: str) -> None:
        """Settle the run; steps still PENDING are SKIPPED."""
        now = self._clock.now()
        with self._store.begin() as db:
            db.execute(
                update(pipeline_steps)
                .where(pipeline_steps.c.run_id == run_id, pipeline_steps.c.state == State.PENDING)
                .values(state=State.SKIPPED, finished_at=now)
            )
            db.execute(
                update(pipeline_runs)
                .where(pipeline_runs.c.run_id == run_id)
                .values(state=state, message=message, updated_at=now)
            )
        self.log(run_id, "run", f"{state.value.lower()}: {message}")
