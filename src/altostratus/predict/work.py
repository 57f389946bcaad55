"""The predict service's jobs: computing a datasource, training, evaluating, batch predicting.

Each job carries only an entity id. Its handler moves the entity PENDING -> INPROGRESS, does the
work, and records COMPLETED with the results, or FAILED with the reason: a client error (bad data,
a target with one class, an unknown recipe function) at once; any other error after its last
attempt, so a crash midway is retried and leaves nothing half-written (artifacts and outputs are
written atomically, and the entity changes only at the end). A job whose inputs are not ready yet
(a model trained on a datasource still being computed) submits itself again a little later instead
of holding a worker.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from altostratus.core.clock import Clock
from altostratus.core.errors import AltoError
from altostratus.jobs import JobContext, JobQueue
from altostratus.predict.artifacts import dump_model
from altostratus.predict.batch import batch_schema, write_batch
from altostratus.predict.entities import DataSource, Model, Status
from altostratus.predict.errors import Cancelled, InvalidInput
from altostratus.predict.evaluation import evaluate
from altostratus.predict.fitted import FittedModel
from altostratus.predict.inference import infer_schema
from altostratus.predict.locations import DataLocations
from altostratus.predict.models import ModelType, TrainingParameters
from altostratus.predict.predictor import Predictor
from altostratus.predict.records import BATCH_PREDICTIONS, DATASOURCES, EVALUATIONS, MODELS, Kind, Records
from altostratus.predict.schema import Schema
from altostratus.predict.splits import Rearrangement
from altostratus.predict.stats import compute_statistics
from altostratus.predict.table import Table, load_table
from altostratus.predict.training import train
from altostratus.predict.values import ReadOptions
from altostratus.storage.blobs import BlobStore, put_chunks

JOB_DATASOURCE = "predict.datasource"
JOB_TRAIN = "predict.train"
JOB_EVALUATE = "predict.evaluate"
JOB_BATCH = "predict.batch"
MAX_ATTEMPTS = 2
DEFER_SECONDS = 1.0
TERMINAL = (Status.COMPLETED, Status.FAILED, Status.DELETED)


class NotReady(Exception):
    """An input entity is still PENDING or INPROGRESS: the job runs again later."""


@dataclasses.dataclass
class PredictWork:
    """The job handlers, with what they need: records, blobs, the job queue, the clock and the data locations."""

    records: Records
    blobs: BlobStore
    jobs: JobQueue
    clock: Clock
    locations: DataLocations
    read_options: ReadOptions
    load_model: Callable[[Model], FittedModel]

    def handlers(self) -> dict[str, Callable[[JobContext], Any]]:
        """The job handlers by job kind, for the worker pool."""
        return {
            JOB_DATASOURCE: lambda context: self._run(DATASOURCES, JOB_DATASOURCE, context, self._datasource),
            JOB_TRAIN: lambda context: self._run(MODELS, JOB_TRAIN, context, self._train),
            JOB_EVALUATE: lambda context: self._run(EVALUATIONS, JOB_EVALUATE, context, self._evaluate),
            JOB_BATCH: lambda context: self._run(BATCH_PREDICTIONS, JOB_BATCH, context, self._batch),
        }

    def submit(self, job_kind: str, entity_id: str, delay_seconds: float = 0.0, *, job_id: str | None = None) -> str:
        """Queue a job for the entity (with this id, if given); its job id."""
        return self.jobs.submit(
            job_kind, {"id": entity_id}, max_attempts=MAX_ATTEMPTS, delay_seconds=delay_seconds, job_id=job_id
        ).job_id

    def _run(
        self, kind: Kind, job_kind: str, context: JobContext, body: Callable[[Any, JobContext], Mapping[str, Any]]
    ) -> dict[str, Any]:
        entity_id = str(context.payload["id"])
        record = self.records.find(kind, entity_id)
        if record is None or record.status in TERMINAL or record.job_id != context.job_id:
            return {"skipped": "the entity is gone, finished, or handled by another job"}
        now = self.clock.now()
        self.records.update(
            kind, entity_id, {"status": Status.INPROGRESS, "started_at": record.started_at or now, "updated_at": now}
        )
        started = time.monotonic()
        try:
            values = dict(body(record, context))
        except NotReady as waiting:
            job_id = self.submit(job_kind, entity_id, DEFER_SECONDS)
            self.records.update(
                kind, entity_id, {"job_id": job_id, "message": str(waiting), "updated_at": self.clock.now()}
            )
            return {"deferred": job_id}
        except Exception as error:
            self._failed(kind, entity_id, context, error)
            raise
        now = self.clock.now()
        values.update(
            status=Status.COMPLETED,
            message="",
            finished_at=now,
            updated_at=now,
            compute_time_ms=int((time.monotonic() - started) * 1000),
        )
        self.records.update(kind, entity_id, values, only_if=Status.INPROGRESS)
        return {"status": Status.COMPLETED.value}

    def _failed(self, kind: Kind, entity_id: str, context: JobContext, error: Exception) -> None:
        client_error = isinstance(error, AltoError) and 400 <= error.status < 500
        text = error.message if isinstance(error, AltoError) else f"{type(error).__name__}: {error}"
        now = self.clock.now()
        if client_error or context.attempt >= MAX_ATTEMPTS:
            values = {"status": Status.FAILED, "message": text, "finished_at": now, "updated_at": now}
        else:
            values = {
                "message": f"attempt {context.attempt} of {MAX_ATTEMPTS} failed: {text}; retrying",
                "updated_at": now,
            }
        self.records.update(kind, entity_id, values, only_if=(Status.PENDING, Status.INPROGRESS))

    def _datasource(self, source: DataSource, context: JobContext) -> Mapping[str, Any]:
        context.report_progress(0.05, "reading the data")
        sources = self.locations.sources(source.data_location)
        options = self._options(source)
        if source.data_schema is not None:
            schema = Schema.from_json(source.data_schema)
        else:
            hints = source.read_options
            schema = infer_schema(
                sources,
                options,
                contains_header=hints.get("contains_header"),
                target=hints.get("target"),
                row_id=hints.get("row_id"),
            )
        _check_cancel(context)
        data = load_table(sources, schema, options, Rearrangement.from_json(source.data_rearrangement))
        context.report_progress(0.8, "computing statistics")
        statistics = compute_statistics(data).to_dict() if source.compute_statistics else None
        return {
            "data_schema": schema.to_json(),
            "statistics": _json_safe(statistics),
            "data_size_bytes": data.bytes_read,
            "number_of_files": data.files,
            "rows_read": data.rows_read,
            "row_count": data.table.rows,
        }

    def _train(self, model: Model, context: JobContext) -> Mapping[str, Any]:
        table = self.table(self._ready(DATASOURCES, model.training_datasource_id), context)
        parameters = TrainingParameters.from_mapping(model.parameters)
        fitted = train(
            table,
            ModelType(model.model_type),
            parameters,
            model.recipe,
            progress=lambda fraction, message: context.report_progress(0.1 + 0.8 * fraction, message),
            cancelled=context.is_cancel_requested,
        )
        artifact, digest = dump_model(fitted)
        if len(artifact) > parameters.max_model_size:
            raise InvalidInput(
                f"the trained model is {len(artifact)} bytes, over sgd.maxMLModelSizeInBytes="
                f"{parameters.max_model_size}: raise it, or use a recipe with fewer features"
            )
        key = f"predict/models/{model.model_id}/{digest}.model"
        put_chunks(self.blobs, key, [artifact])
        return {
            "artifact_key": key,
            "artifact_sha256": digest,
            "size_bytes": len(artifact),
            "learner": fitted.learner.value,
            "recipe_used": fitted.recipe or None,
            "training_report": _json_safe(fitted.report),
        }

    def _evaluate(self, evaluation: Any, context: JobContext) -> Mapping[str, Any]:
        model = self._ready(MODELS, evaluation.model_id)
        table = self.table(self._ready(DATASOURCES, evaluation.datasource_id), context)
        fitted = self.load_model(model)
        target = table.schema.target
        if target != fitted.schema.target:
            raise InvalidInput(
                f"the evaluation datasource's target is {target!r}; "
                f"model {model.model_id!r} predicts {fitted.schema.target!r}"
            )
        context.report_progress(0.5, "scoring")
        model_table = _retyped(table, fitted.schema)
        return {"metrics": _json_safe(evaluate(fitted, model_table, model.score_threshold).to_dict())}

    def _batch(self, batch: Any, context: JobContext) -> Mapping[str, Any]:
        model = self._ready(MODELS, batch.model_id)
        source = self._ready(DATASOURCES, batch.datasource_id)
        assert source.data_schema is not None and source.rows_read is not None
        predictor = Predictor(self.load_model(model), score_threshold=model.score_threshold)
        schema = batch_schema(Schema.from_json(source.data_schema), predictor.model.schema)
        base = source.data_location.rstrip("/").rsplit("/", 1)[-1] or "data"
        prefix = batch.output_uri.rstrip("/")
        output = f"{prefix}/batch-prediction/result/{batch.batch_prediction_id}-{base}.gz"
        total_rows = source.rows_read
        with self.locations.writer(output) as writer:
            result = write_batch(
                predictor,
                self.locations.sources(source.data_location),
                schema,
                self._options(source),
                Rearrangement.from_json(source.data_rearrangement),
                total_rows,
                writer,
                progress=lambda rows: context.report_progress(min(0.99, rows / max(total_rows, 1)), f"{rows} rows"),
                cancelled=context.is_cancel_requested,
            )
            writer.commit()
        manifest = json.dumps({source.data_location: output}).encode()
        put_manifest = self.locations.writer(f"{prefix}/batch-prediction/{batch.batch_prediction_id}.manifest")
        with put_manifest as writer:
            writer.write(manifest)
            writer.commit()
        return {
            "output_location": output,
            "total_records": result.total_records,
            "invalid_records": result.invalid_records,
        }

    def table(self, source: DataSource, context: JobContext | None = None) -> Table:
        """The rows of a COMPLETED datasource, read by its schema and split."""
        assert source.data_schema is not None
        if context is not None:
            context.report_progress(0.05, f"reading datasource {source.datasource_id}")
        sources = self.locations.sources(source.data_location)
        schema = Schema.from_json(source.data_schema)
        options = self._options(source)
        return load_table(sources, schema, options, Rearrangement.from_json(source.data_rearrangement)).table

    def _ready(self, kind: Kind, entity_id: str) -> Any:
        record = self.records.get(kind, entity_id)
        if record.status in (Status.PENDING, Status.INPROGRESS):
            raise NotReady(f"waiting for {kind.noun} {entity_id!r} ({record.status})")
        if record.status is not Status.COMPLETED:
            detail = f": {record.message}" if record.message else ""
            raise InvalidInput(f"{kind.noun} {entity_id!r} is {record.status}{detail}")
        return record

    def _options(self, source: DataSource) -> ReadOptions:
        markers = source.read_options.get("missing_markers")
        if markers is None:
            return self.read_options
        return dataclasses.replace(self.read_options, missing_markers=tuple(markers))


def _retyped(table: Table, schema: Schema) -> Table:
    """The table under the model's schema: the model's attributes must be there, with the model's types."""
    absent = sorted({a.name for a in schema.inputs} - set(table.columns))
    if absent:
        raise InvalidInput(f"the datasource lacks the model's attributes {absent}")
    for attribute in schema.inputs:
        if table.schema.type_of(attribute.name) != attribute.type:
            raise InvalidInput(
                f"attribute {attribute.name!r} is {table.schema.type_of(attribute.name)} in the datasource "
                f"but {attribute.type} in the model's schema"
            )
    return dataclasses.replace(table, schema=schema)


def _check_cancel(context: JobContext) -> None:
    if context.is_cancel_requested():
        raise Cancelled("the job was cancelled")


def _json_safe(value: Any) -> Any:
    """The value with NaN and infinite floats as None, which JSON cannot hold."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value
