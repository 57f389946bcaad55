"""PredictService: datasources, models, evaluations, batch predictions, realtime endpoints and predictions.

Creating a datasource, a model, an evaluation or a batch prediction records it PENDING and queues a
job (work.py); `handlers()` gives the worker pool the handlers for those jobs. Ids are chosen by the
caller, as in Amazon ML: creating again with the same id and the same parameters returns the existing
entity, with other parameters it is IdempotentParameterMismatch. Deleting marks an entity DELETED
(it stays visible, as in Amazon ML) and cancels its job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from altostratus.core.clock import Clock
from altostratus.core.ids import short_id
from altostratus.jobs import JobContext, JobQueue
from altostratus.jobs.job import JobNotFound, JobState
from altostratus.predict.artifacts import load_model
from altostratus.predict.entities import BatchPrediction, DataSource, Endpoint, Evaluation, Model, Status
from altostratus.predict.errors import IdempotentParameterMismatch, InvalidInput, PredictorNotMounted
from altostratus.predict.fitted import FittedModel
from altostratus.predict.locations import DataLocations
from altostratus.predict.models import ModelType, TrainingParameters
from altostratus.predict.predictor import Predictor
from altostratus.predict.recipes import Recipe
from altostratus.predict.records import BATCH_PREDICTIONS, DATASOURCES, EVALUATIONS, MODELS, Kind, Records
from altostratus.predict.schema import Schema, check_name
from altostratus.predict.splits import Rearrangement
from altostratus.predict.values import ReadOptions
from altostratus.predict.work import JOB_BATCH, JOB_DATASOURCE, JOB_EVALUATE, JOB_TRAIN, PredictWork
from altostratus.storage.blobs import BlobStore
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.paging import ListQuery, Page

ID_PATTERN = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
ENDPOINT_PEAK_RPS = 200
MOUNT_SECONDS = 1.0
ACTIVE = (Status.PENDING, Status.INPROGRESS)


class PredictService:
    """Amazon ML's nouns, served from the metadata store, the blob store and the job queue."""

    def __init__(
        self,
        metadata: MetadataStore,
        blobs: BlobStore,
        jobs: JobQueue,
        clock: Clock,
        locations: DataLocations,
        *,
        read_options: ReadOptions | None = None,
    ) -> None:
        self._records = Records(metadata)
        self._blobs = blobs
        self._jobs = jobs
        self._clock = clock
        self._read_options = read_options or ReadOptions()
        self._work = PredictWork(self._records, blobs, jobs, clock, locations, self._read_options, self._fitted)
        self._models: dict[str, tuple[str, FittedModel]] = {}
        self._mounted: dict[str, tuple[float, Predictor]] = {}
        self._lock = threading.Lock()

    def handlers(self) -> dict[str, Callable[[JobContext], Any]]:
        """The job handlers by job kind (predict.datasource, predict.train, predict.evaluate, predict.batch)."""
        return self._work.handlers()

    # ---- datasources ------------------------------------------------------------------------------

    def create_datasource(
        self,
        datasource_id: str,
        data_location: str,
        *,
        name: str = "",
        schema: str | None = None,
        rearrangement: str | None = None,
        compute_statistics: bool = True,
        contains_header: bool | None = None,
        target: str | None = None,
        row_id: str | None = None,
        missing_markers: Sequence[str] | None = None,
    ) -> DataSource:
        """Register CSV data at a location; its schema (a DataSchema, or inferred) and statistics follow in a job.

        Without a schema, `contains_header` (None: detect), `target` and `row_id` guide the inference.
        """
        _check_id("DataSourceId", datasource_id)
        if schema is not None:
            schema = Schema.from_json(schema).to_json()  # stored as the job writes it back, for idempotency
            if target is not None or row_id is not None or contains_header is not None:
                raise InvalidInput("target, row_id and contains_header come from the DataSchema when one is given")
        Rearrangement.from_json(rearrangement)
        for field, value in (("target", target), ("row_id", row_id)):
            if value is not None:
                check_name(field, value)
        if missing_markers is not None:
            ReadOptions(missing_markers=missing_markers)
        hints = {"contains_header": contains_header, "target": target, "row_id": row_id}
        values = {
            "data_location": data_location,
            "data_rearrangement": rearrangement,
            "data_schema": schema,
            "schema_given": schema is not None,
            "read_options": {
                **hints,
                "missing_markers": list(missing_markers) if missing_markers is not None else None,
            },
            "compute_statistics": compute_statistics,
        }
        # Without a DataSchema the job writes the inferred one: a later identical request must still match.
        ignore = () if schema is not None else ("data_schema",)
        return self._create(DATASOURCES, datasource_id, name, values, JOB_DATASOURCE, ignore)  # type: ignore[no-any-return]

    def get_datasource(self, datasource_id: str) -> DataSource:
        """The datasource; ResourceNotFound when there is none."""
        return self._get(DATASOURCES, datasource_id)  # type: ignore[no-any-return]

    def list_datasources(self, query: ListQuery | None = None) -> Page[DataSource]:
        """Datasources matching the query."""
        return self._records.list(DATASOURCES, query or ListQuery())

    def rename_datasource(self, datasource_id: str, name: str) -> DataSource:
        """Change the datasource's name."""
        return self._rename(DATASOURCES, datasource_id, name)  # type: ignore[no-any-return]

    def delete_datasource(self, datasource_id: str) -> DataSource:
        """Mark the datasource DELETED."""
        return self._delete(DATASOURCES, datasource_id)  # type: ignore[no-any-return]

    # ---- models -----------------------------------------------------------------------------------

    def create_model(
        self,
        model_id: str,
        datasource_id: str,
        model_type: str,
        *,
        name: str = "",
        parameters: Mapping[str, str] | None = None,
        recipe: str | None = None,
    ) -> Model:
        """Queue training of a BINARY, MULTICLASS or REGRESSION model on a datasource."""
        _check_id("MLModelId", model_id)
        if model_type not in ModelType.__members__:
            raise InvalidInput(f"MLModelType={model_type!r}; expected one of {[t.value for t in ModelType]}")
        training = TrainingParameters.from_mapping(parameters)
        if recipe is not None:
            Recipe.from_json(recipe)
        self._usable(DATASOURCES, datasource_id)
        values = {
            "model_type": model_type,
            "training_datasource_id": datasource_id,
            "parameters": training.to_mapping(),
            "recipe": recipe,
            "score_threshold": 0.5,
        }
        return self._create(MODELS, model_id, name, values, JOB_TRAIN)  # type: ignore[no-any-return]

    def get_model(self, model_id: str) -> Model:
        """The model, with its endpoint; ResourceNotFound when there is none."""
        model: Model = self._get(MODELS, model_id)
        return dataclasses.replace(model, endpoint=self._records.endpoint(model_id))

    def list_models(self, query: ListQuery | None = None) -> Page[Model]:
        """Models matching the query (each with its endpoint)."""
        page = self._records.list(MODELS, query or ListQuery())
        items = [dataclasses.replace(model, endpoint=self._records.endpoint(model.model_id)) for model in page.items]
        return Page(items, page.next_offset)

    def update_model(self, model_id: str, *, name: str | None = None, score_threshold: float | None = None) -> Model:
        """Change the model's name and/or the score threshold that binary predictions use."""
        self._usable(MODELS, model_id)
        values: dict[str, Any] = {"updated_at": self._clock.now()}
        if name is not None:
            values["name"] = name
        if score_threshold is not None:
            if not 0.0 <= score_threshold <= 1.0:
                raise InvalidInput(f"ScoreThreshold={score_threshold!r}; expected a number from 0 to 1")
            values.update(score_threshold=float(score_threshold), score_threshold_updated_at=values["updated_at"])
        self._records.update(MODELS, model_id, values)
        self._unmount(model_id)
        return self.get_model(model_id)

    def delete_model(self, model_id: str) -> Model:
        """Mark the model DELETED, remove its endpoint and artifact."""
        model = self._delete(MODELS, model_id)
        self._records.delete_endpoint(model_id)
        if model.artifact_key:
            self._blobs.delete(model.artifact_key)
        self._unmount(model_id)
        with self._lock:
            self._models.pop(model_id, None)
        return self.get_model(model_id)

    # ---- evaluations and batch predictions --------------------------------------------------------

    def create_evaluation(self, evaluation_id: str, model_id: str, datasource_id: str, *, name: str = "") -> Evaluation:
        """Queue scoring a model on a datasource that holds the target."""
        _check_id("EvaluationId", evaluation_id)
        self._usable(MODELS, model_id)
        self._usable(DATASOURCES, datasource_id)
        values = {"model_id": model_id, "datasource_id": datasource_id}
        return self._create(EVALUATIONS, evaluation_id, name, values, JOB_EVALUATE)  # type: ignore[no-any-return]

    def get_evaluation(self, evaluation_id: str) -> Evaluation:
        """The evaluation; ResourceNotFound when there is none."""
        return self._get(EVALUATIONS, evaluation_id)  # type: ignore[no-any-return]

    def list_evaluations(self, query: ListQuery | None = None) -> Page[Evaluation]:
        """Evaluations matching the query."""
        return self._records.list(EVALUATIONS, query or ListQuery())

    def rename_evaluation(self, evaluation_id: str, name: str) -> Evaluation:
        """Change the evaluation's name."""
        return self._rename(EVALUATIONS, evaluation_id, name)  # type: ignore[no-any-return]

    def delete_evaluation(self, evaluation_id: str) -> Evaluation:
        """Mark the evaluation DELETED."""
        return self._delete(EVALUATIONS, evaluation_id)  # type: ignore[no-any-return]

    def create_batch_prediction(
        self, batch_prediction_id: str, model_id: str, datasource_id: str, output_uri: str, *, name: str = ""
    ) -> BatchPrediction:
        """Queue predicting every row of a datasource; the CSV goes under `output_uri`/batch-prediction/result/."""
        _check_id("BatchPredictionId", batch_prediction_id)
        self._usable(MODELS, model_id)
        self._usable(DATASOURCES, datasource_id)
        values = {"model_id": model_id, "datasource_id": datasource_id, "output_uri": output_uri}
        return self._create(BATCH_PREDICTIONS, batch_prediction_id, name, values, JOB_BATCH)  # type: ignore[no-any-return]

    def get_batch_prediction(self, batch_prediction_id: str) -> BatchPrediction:
        """The batch prediction; ResourceNotFound when there is none."""
        return self._get(BATCH_PREDICTIONS, batch_prediction_id)  # type: ignore[no-any-return]

    def list_batch_predictions(self, query: ListQuery | None = None) -> Page[BatchPrediction]:
        """Batch predictions matching the query."""
        return self._records.list(BATCH_PREDICTIONS, query or ListQuery())

    def rename_batch_prediction(self, batch_prediction_id: str, name: str) -> BatchPrediction:
        """Change the batch prediction's name."""
        return self._rename(BATCH_PREDICTIONS, batch_prediction_id, name)  # type: ignore[no-any-return]

    def delete_batch_prediction(self, batch_prediction_id: str) -> BatchPrediction:
        """Mark the batch prediction DELETED."""
        return self._delete(BATCH_PREDICTIONS, batch_prediction_id)  # type: ignore[no-any-return]

    # ---- realtime endpoints and predictions -------------------------------------------------------

    def create_endpoint(
        self, model_id: str, url: str, *, peak_requests_per_second: int = ENDPOINT_PEAK_RPS
    ) -> Endpoint:
        """Make the COMPLETED model answer predictions at `url` (this server's own address); READY at once."""
        model = self._completed(model_id)
        self._fitted(model)  # load it now, so the first prediction is fast
        now = self._clock.now()
        existing = self._records.endpoint(model_id)
        endpoint = Endpoint(
            model_id, url, "READY", peak_requests_per_second, existing.created_at if existing else now, now
        )
        self._records.put_endpoint(endpoint)
        self._unmount(model_id)
        return endpoint

    def delete_endpoint(self, model_id: str) -> Endpoint:
        """Remove the model's endpoint; the endpoint as it is now (status NONE)."""
        self._get(MODELS, model_id)
        existing = self._records.endpoint(model_id)
        self._records.delete_endpoint(model_id)
        self._unmount(model_id)
        now = self._clock.now()
        return Endpoint(
            model_id, existing.url if existing else "", "NONE", 0, existing.created_at if existing else now, now
        )

    def predictor(self, model_id: str) -> Predictor:
        """A Predictor for the COMPLETED model with its current score threshold (the model is loaded once)."""
        model = self._completed(model_id)
        return Predictor(self._fitted(model), score_threshold=model.score_threshold)

    def is_mounted(self, model_id: str) -> bool:
        """Whether `predict` for this model answers from memory now, without reading any storage."""
        with self._lock:
            mounted = self._mounted.get(model_id)
        return mounted is not None and mounted[0] >= self._clock.monotonic()

    def predict(self, model_id: str, record: Mapping[str, str]) -> dict[str, Any]:
        """One prediction from the model's realtime endpoint; PredictorNotMounted without one.

        The endpoint and the model's score threshold are read from the metadata store at most once a
        second per model (`MOUNT_SECONDS`); changes made through this service apply at once, changes
        made by another server process within that second.
        """
        now = self._clock.monotonic()
        with self._lock:
            mounted = self._mounted.get(model_id)
        if mounted is None or mounted[0] < now:
            endpoint = self._records.endpoint(model_id)
            if endpoint is None or endpoint.status != "READY":
                self._get(MODELS, model_id)
                raise PredictorNotMounted(f"MLModel {model_id!r} has no realtime endpoint; create one first")
            mounted = (now + MOUNT_SECONDS, self.predictor(model_id))
            with self._lock:
                self._mounted[model_id] = mounted
        return mounted[1].predict(record)

    # ---- shared -----------------------------------------------------------------------------------

    def _create(
        self,
        kind: Kind,
        entity_id: str,
        name: str,
        values: Mapping[str, Any],
        job_kind: str,
        ignore: Sequence[str] = (),
    ) -> Any:
        existing = self._records.find(kind, entity_id)
        if existing is not None:
            differing = sorted(
                field for field, value in values.items() if field not in ignore and getattr(existing, field) != value
            )
            if differing or (name and existing.name != name):
                raise IdempotentParameterMismatch(
                    f"{kind.noun} {entity_id!r} exists with other {', '.join(differing) or 'name'}"
                )
            return existing
        now = self._clock.now()
        # The record goes in before its job is queued: a worker may claim the job at once, and must find it.
        job_id = short_id(20)
        self._records.insert(
            kind,
            {
                kind.id_column: entity_id,
                **values,
                "name": name,
                "status": Status.PENDING,
                "message": "",
                "job_id": job_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        self._work.submit(job_kind, entity_id, job_id=job_id)
        return self._records.get(kind, entity_id)

    def _get(self, kind: Kind, entity_id: str) -> Any:
        record = self._records.get(kind, entity_id)
        if record.status in ACTIVE and record.job_id is not None:
            record = self._reconcile(kind, record)
        return record

    def _reconcile(self, kind: Kind, record: Any) -> Any:
        """An entity whose job ended FAILED without the handler saying so (its worker died): FAILED too.

        While the job runs, an entity without a message of its own shows the job's progress as its message
        ("40%: SGD pass 4 of 10").
        """
        try:
            job = self._jobs.get(record.job_id)
        except JobNotFound:
            return record
        if (
            record.status is Status.INPROGRESS
            and job.state is JobState.INPROGRESS
            and job.message
            and not record.message
        ):
            return dataclasses.replace(record, message=f"{job.progress:.0%}: {job.message}")
        if job.state is not JobState.FAILED:
            return record
        now = self._clock.now()
        values = {"status": Status.FAILED, "message": job.message, "finished_at": now, "updated_at": now}
        self._records.update(kind, getattr(record, kind.id_column), values, only_if=ACTIVE)
        return self._records.get(kind, getattr(record, kind.id_column))

    def _rename(self, kind: Kind, entity_id: str, name: str) -> Any:
        self._usable(kind, entity_id)
        self._records.update(kind, entity_id, {"name": name, "updated_at": self._clock.now()})
        return self._get(kind, entity_id)

    def _delete(self, kind: Kind, entity_id: str) -> Any:
        record = self._records.get(kind, entity_id)
        if record.status is not Status.DELETED:
            self._records.update(kind, entity_id, {"status": Status.DELETED, "updated_at": self._clock.now()})
            if record.status in ACTIVE and record.job_id is not None:
                with contextlib.suppress(JobNotFound):
                    self._jobs.request_cancel(record.job_id)
        return self._records.get(kind, entity_id)

    def _usable(self, kind: Kind, entity_id: str) -> Any:
        record = self._get(kind, entity_id)
        if record.status in (Status.DELETED, Status.FAILED):
            raise InvalidInput(f"{kind.noun} {entity_id!r} is {record.status}")
        return record

    def _completed(self, model_id: str) -> Model:
        model: Model = self._get(MODELS, model_id)
        if model.status is not Status.COMPLETED:
            raise InvalidInput(f"MLModel {model_id!r} is {model.status}; it must be COMPLETED")
        return model

    def _unmount(self, model_id: str) -> None:
        with self._lock:
            self._mounted.pop(model_id, None)

    def _fitted(self, model: Model) -> FittedModel:
        with self._lock:
            cached = self._models.get(model.model_id)
        if cached is not None and cached[0] == model.artifact_sha256:
            return cached[1]
        fitted = self._load(model)
        with self._lock:
            self._models[model.model_id] = (model.artifact_sha256 or "", fitted)
        return fitted

    def _load(self, model: Model) -> FittedModel:
        assert model.artifact_key is not None
        return load_model(b"".join(self._blobs.read(model.artifact_key)), model.artifact_sha256)


def _check_id(field: str, value: str) -> None:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise InvalidInput(f"{field}={value!r}; expected 1 to 64 letters, digits, '_', '.' or '-'")
