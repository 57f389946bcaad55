"""The Amazon ML API (boto3's `machinelearning` client, json) over the PredictService: handlers parse, call, wrap.

Beyond Amazon ML, and inside its shapes:
- DataSchema may leave out `attributes`: the attribute types are then inferred from the data, with the
  target, row id and header the partial schema names (Amazon ML always wants the whole schema);
- CreateMLModel takes the training parameter `algorithm` (`sgd`, the default, or `auto`) beside `sgd.*`;
- GetEvaluation's PerformanceMetrics.Properties hold, beside BinaryAUC / MulticlassAvgFScore /
  RegressionRMSE, the baseline and the details (ROC curve, thresholds, confusion matrix...), as JSON text;
- LogUri links a JSON document with a datasource's statistics or a model's training report
  (altostratus.predict.log_files).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import anyio.to_thread

from altostratus.api.context import Call
from altostratus.api.model_adapters import Handler, JsonAdapter, operation_handlers
from altostratus.api.predict.listing import FILTERS, TOKENS, list_query
from altostratus.api.predict.log_links import LogLinks
from altostratus.core import json_input
from altostratus.predict import (
    BatchPrediction,
    DataLocations,
    DataSource,
    Endpoint,
    Evaluation,
    InvalidInput,
    Model,
    Page,
    PredictService,
    Status,
)
from altostratus.predict.documents import read_document
from altostratus.predict.lake_locations import parse_location
from altostratus.predict.log_files import LOG_BUCKET, LogFiles

TERMINAL = (Status.COMPLETED, Status.FAILED)
SCHEMA_HINTS = {"targetAttributeName": "target", "rowId": "row_id", "dataFileContainsHeader": "contains_header"}


class MachineLearningApi:
    """The Amazon ML operations (boto3's `machinelearning`), over the PredictService."""

    def __init__(
        self, predict: PredictService, locations: DataLocations, logs: LogFiles, links: LogLinks, endpoint_url: str
    ) -> None:
        self._predict = predict
        self._locations = locations
        self._logs = logs
        self._links = links
        self._endpoint_url = endpoint_url.rstrip("/")

    def adapter(self) -> JsonAdapter:
        """The json adapter serving these operations; bad parameters are InvalidInputException, as in Amazon ML."""
        return JsonAdapter("machinelearning", self.handlers(), validation_error=InvalidInput)

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler."""
        return operation_handlers(self, "machinelearning")

    # ---- datasources ------------------------------------------------------------------------------

    def create_data_source_from_s3(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateDataSourceFromS3: a DataSchema (or its DataSchemaLocationS3), or a partial one to infer from."""
        spec = params["DataSpec"]
        location = spec["DataLocationS3"]
        parse_location(location)
        schema = self._document(spec, "DataSchema", "DataSchemaLocationS3")
        source = self._predict.create_datasource(
            params["DataSourceId"],
            location,
            name=params.get("DataSourceName", ""),
            rearrangement=spec.get("DataRearrangement") or None,
            compute_statistics=params.get("ComputeStatistics", True),
            **_schema_arguments(schema),
        )
        return {"DataSourceId": source.datasource_id}

    def get_data_source(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """GetDataSource; Verbose adds DataSourceSchema; LogUri links the statistics."""
        source = self._predict.get_datasource(params["DataSourceId"])
        shown = _datasource(source)
        if params.get("Verbose"):
            shown["DataSourceSchema"] = source.data_schema
        if source.status in TERMINAL:
            shown["LogUri"] = self._links.link(LOG_BUCKET, self._logs.datasource_log(source), call.key)
        return shown

    def describe_data_sources(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeDataSources."""
        page = self._predict.list_datasources(list_query(params, FILTERS["DataSource"]))
        return _results(page, _datasource)

    def update_data_source(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateDataSource: its name."""
        source = self._predict.rename_datasource(params["DataSourceId"], params["DataSourceName"])
        return {"DataSourceId": source.datasource_id}

    def delete_data_source(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteDataSource: marked DELETED."""
        return {"DataSourceId": self._predict.delete_datasource(params["DataSourceId"]).datasource_id}

    # ---- models -----------------------------------------------------------------------------------

    def create_ml_model(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateMLModel: Parameters take sgd.* and `algorithm`; a Recipe or its RecipeUri."""
        model = self._predict.create_model(
            params["MLModelId"],
            params["TrainingDataSourceId"],
            params["MLModelType"],
            name=params.get("MLModelName", ""),
            parameters=params.get("Parameters"),
            recipe=self._document(params, "Recipe", "RecipeUri"),
        )
        return {"MLModelId": model.model_id}

    def get_ml_model(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """GetMLModel; Verbose adds Recipe and Schema; LogUri links the training report."""
        model = self._predict.get_model(params["MLModelId"])
        source = self._predict.get_datasource(model.training_datasource_id)
        shown = _model(model, source)
        if params.get("Verbose"):
            shown["Recipe"] = model.recipe_used or model.recipe
            shown["Schema"] = source.data_schema
        if model.status in TERMINAL:
            shown["LogUri"] = self._links.link(LOG_BUCKET, self._logs.model_log(model), call.key)
        return shown

    def describe_ml_models(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeMLModels."""
        page = self._predict.list_models(list_query(params, FILTERS["MLModel"]))
        sources = _lookup(self._predict.get_datasource)
        return _results(page, lambda model: _model(model, sources(model.training_datasource_id), listed=True))

    def update_ml_model(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateMLModel: its name and/or the score threshold Predict applies."""
        model = self._predict.update_model(
            params["MLModelId"], name=params.get("MLModelName"), score_threshold=params.get("ScoreThreshold")
        )
        return {"MLModelId": model.model_id}

    def delete_ml_model(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteMLModel: marked DELETED, its endpoint and artifact removed."""
        return {"MLModelId": self._predict.delete_model(params["MLModelId"]).model_id}

    # ---- evaluations ------------------------------------------------------------------------------

    def create_evaluation(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateEvaluation."""
        evaluation = self._predict.create_evaluation(
            params["EvaluationId"],
            params["MLModelId"],
            params["EvaluationDataSourceId"],
            name=params.get("EvaluationName", ""),
        )
        return {"EvaluationId": evaluation.evaluation_id}

    def get_evaluation(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """GetEvaluation: PerformanceMetrics.Properties with the metric, its baseline and the details."""
        evaluation = self._predict.get_evaluation(params["EvaluationId"])
        return _evaluation(evaluation, self._predict.get_datasource(evaluation.datasource_id))

    def describe_evaluations(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeEvaluations."""
        page = self._predict.list_evaluations(list_query(params, FILTERS["Evaluation"]))
        sources = _lookup(self._predict.get_datasource)
        return _results(page, lambda evaluation: _evaluation(evaluation, sources(evaluation.datasource_id)))

    def update_evaluation(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateEvaluation: its name."""
        evaluation = self._predict.rename_evaluation(params["EvaluationId"], params["EvaluationName"])
        return {"EvaluationId": evaluation.evaluation_id}

    def delete_evaluation(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteEvaluation: marked DELETED."""
        return {"EvaluationId": self._predict.delete_evaluation(params["EvaluationId"]).evaluation_id}

    # ---- realtime endpoints and predictions -------------------------------------------------------

    def create_realtime_endpoint(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateRealtimeEndpoint: READY at once, at this server's own URL (boto3 sends Predict there)."""
        endpoint = self._predict.create_endpoint(params["MLModelId"], self._endpoint_url)
        return {"MLModelId": endpoint.model_id, "RealtimeEndpointInfo": _endpoint(endpoint)}

    def delete_realtime_endpoint(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteRealtimeEndpoint: the endpoint, now NONE."""
        endpoint = self._predict.delete_endpoint(params["MLModelId"])
        return {"MLModelId": endpoint.model_id, "RealtimeEndpointInfo": _endpoint(endpoint)}

    async def predict(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """Predict: one record through the model's realtime endpoint.

        A mounted model answers in well under a millisecond of numpy, inline: cheaper than the hop to a
        worker thread, which cost 0.2 ms here. Mounting reads the metadata store (and, after a
        restart, the model's artifact), so that happens on a worker thread.
        """
        if self._predict.is_mounted(params["MLModelId"]):
            return self._prediction(params)
        return await anyio.to_thread.run_sync(self._prediction, params)

    def _prediction(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Prediction": self._predict.predict(params["MLModelId"], params["Record"])}

    # ---- batch predictions ------------------------------------------------------------------------

    def create_batch_prediction(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateBatchPrediction: gzip CSV under OutputUri/batch-prediction/result/, with a manifest."""
        parse_location(params["OutputUri"])
        batch = self._predict.create_batch_prediction(
            params["BatchPredictionId"],
            params["MLModelId"],
            params["BatchPredictionDataSourceId"],
            params["OutputUri"],
            name=params.get("BatchPredictionName", ""),
        )
        return {"BatchPredictionId": batch.batch_prediction_id}

    def get_batch_prediction(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """GetBatchPrediction."""
        batch = self._predict.get_batch_prediction(params["BatchPredictionId"])
        return _batch(batch, self._predict.get_datasource(batch.datasource_id))

    def describe_batch_predictions(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeBatchPredictions."""
        page = self._predict.list_batch_predictions(list_query(params, FILTERS["BatchPrediction"]))
        sources = _lookup(self._predict.get_datasource)
        return _results(page, lambda batch: _batch(batch, sources(batch.datasource_id)))

    def update_batch_prediction(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """UpdateBatchPrediction: its name."""
        batch = self._predict.rename_batch_prediction(params["BatchPredictionId"], params["BatchPredictionName"])
        return {"BatchPredictionId": batch.batch_prediction_id}

    def delete_batch_prediction(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteBatchPrediction: marked DELETED."""
        return {
            "BatchPredictionId": self._predict.delete_batch_prediction(params["BatchPredictionId"]).batch_prediction_id
        }

    # ---- shared -----------------------------------------------------------------------------------

    def _document(self, params: Mapping[str, Any], inline: str, uri: str) -> str | None:
        """A JSON document given inline or as an s3:// location of one object (not both)."""
        if params.get(inline) and params.get(uri):
            raise InvalidInput(f"{inline} and {uri} are both given; expected one of them")
        if not params.get(uri):
            return params.get(inline) or None
        return read_document(self._locations, params[uri], parameter=uri, document=inline)


def _schema_arguments(text: str | None) -> dict[str, Any]:
    """create_datasource's schema arguments: the DataSchema, or (without `attributes`) hints to infer one."""
    if text is None:
        return {}
    try:
        document = json_input.loads(text)
    except ValueError:
        return {"schema": text}  # the domain names the JSON error
    if not isinstance(document, dict) or "attributes" in document:
        return {"schema": text}
    unknown = sorted(set(document) - {*SCHEMA_HINTS, "version", "dataFormat"})
    if unknown:
        raise InvalidInput(f"DataSchema without attributes may name only {sorted(SCHEMA_HINTS)}; it has {unknown}")
    hints = {SCHEMA_HINTS[key]: value for key, value in document.items() if key in SCHEMA_HINTS}
    header = hints.get("contains_header")
    if isinstance(header, str):
        hints["contains_header"] = {"true": True, "false": False}.get(header.lower(), header)
    if "contains_header" in hints and not isinstance(hints["contains_header"], bool):
        raise InvalidInput(f"DataSchema dataFileContainsHeader={header!r}; expected true or false")
    return hints


def _results(page: Page[Any], show: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return {"Results": [show(item) for item in page.items], **TOKENS.next_page(page.next_offset)}


def _lookup(get: Callable[[str], DataSource]) -> Callable[[str], DataSource]:
    """`get`, remembering answers for the length of one request."""
    seen: dict[str, DataSource] = {}

    def cached(datasource_id: str) -> DataSource:
        if datasource_id not in seen:
            seen[datasource_id] = get(datasource_id)
        return seen[datasource_id]

    return cached


def _lifecycle(entity: Any) -> dict[str, Any]:
    return {
        "Name": entity.name or None,
        "Status": entity.status.value,
        "Message": entity.message or None,
        "CreatedAt": entity.created_at,
        "LastUpdatedAt": entity.updated_at,
        "StartedAt": entity.started_at,
        "FinishedAt": entity.finished_at,
        "ComputeTime": entity.compute_time_ms,
    }


def _datasource(source: DataSource) -> dict[str, Any]:
    return {
        "DataSourceId": source.datasource_id,
        "DataLocationS3": source.data_location,
        "DataRearrangement": source.data_rearrangement,
        "DataSizeInBytes": source.data_size_bytes,
        "NumberOfFiles": source.number_of_files,
        "ComputeStatistics": source.compute_statistics,
        **_lifecycle(source),
    }


def _model(model: Model, source: DataSource, *, listed: bool = False) -> dict[str, Any]:
    shown = {
        "MLModelId": model.model_id,
        "TrainingDataSourceId": model.training_datasource_id,
        "MLModelType": model.model_type,
        "SizeInBytes": model.size_bytes,
        "EndpointInfo": _endpoint(model.endpoint),
        "TrainingParameters": dict(model.parameters),
        "InputDataLocationS3": source.data_location,
        **_lifecycle(model),
    }
    if model.model_type == "BINARY":
        shown.update(ScoreThreshold=model.score_threshold, ScoreThresholdLastUpdatedAt=model.score_threshold_updated_at)
    if listed:
        shown["Algorithm"] = model.parameters.get("algorithm", "sgd")
    if model.status is Status.COMPLETED and not model.message:
        shown["Message"] = _chosen(model)
    return shown


def _chosen(model: Model) -> str | None:
    """What algorithm=auto chose and why, from the training report."""
    report = model.training_report or {}
    candidates = report.get("candidates")
    if not candidates:
        return None
    scores = ", ".join(f"{name} {score:.4f}" for name, score in candidates.items() if score is not None)
    return f"algorithm=auto chose {model.learner} by validation {report.get('validation_metric')} ({scores})"


def _endpoint(endpoint: Endpoint | None) -> dict[str, Any]:
    if endpoint is None or endpoint.status == "NONE":
        return {"PeakRequestsPerSecond": 0, "EndpointStatus": "NONE"}
    return {
        "PeakRequestsPerSecond": endpoint.peak_requests_per_second,
        "CreatedAt": endpoint.created_at,
        "EndpointUrl": endpoint.url,
        "EndpointStatus": endpoint.status,
    }


def _evaluation(evaluation: Evaluation, source: DataSource) -> dict[str, Any]:
    shown = {
        "EvaluationId": evaluation.evaluation_id,
        "MLModelId": evaluation.model_id,
        "EvaluationDataSourceId": evaluation.datasource_id,
        "InputDataLocationS3": source.data_location,
        **_lifecycle(evaluation),
    }
    if evaluation.metrics is not None:
        shown["PerformanceMetrics"] = {"Properties": performance_properties(evaluation.metrics)}
    return shown


def performance_properties(metrics: Mapping[str, Any]) -> dict[str, str]:
    """Amazon ML's metric as it names it (a string), then the baseline and every detail (numbers, or JSON text)."""
    properties = {
        metrics["metric"]: repr(float(metrics["value"])),
        "Baseline": repr(float(metrics["baseline"])),
        "RecordCount": str(metrics["records"]),
        "RecordsWithoutTarget": str(metrics["records_without_target"]),
    }
    for name, value in metrics["details"].items():
        key = "".join(part.title() for part in name.split("_"))
        properties[key] = repr(value) if isinstance(value, int | float) else json.dumps(value)
    return properties


def _batch(batch: BatchPrediction, source: DataSource) -> dict[str, Any]:
    return {
        "BatchPredictionId": batch.batch_prediction_id,
        "MLModelId": batch.model_id,
        "BatchPredictionDataSourceId": batch.datasource_id,
        "InputDataLocationS3": source.data_location,
        "OutputUri": batch.output_uri,
        "TotalRecordCount": batch.total_records,
        "InvalidRecordCount": batch.invalid_records,
        **_lifecycle(batch),
    }
