"""The Amazon ML API (boto3's `machinelearning` client, json) over the PredictService: handlers parse, call, wrap.

Beyond Amazon ML, and inside its shapes:
- DataSchema may leave out `attributes`: the attribute types are then inferred from the data, with the
  target, row id and header the partial schema names (Amazon ML always wants the whole schema);
- CreateMLModel takes the training parameter `algorithm` (`sgd`, the default, or `auto`) beside `sgd.*`;
- GetEvaluation's PerformanceMetrics.Properties hold, beside BinaryAUC / MulticlassAvgFScore /
  RegressionRMSE, the baseline and the details (ROC curve, thresholds, confusion matrix...), as JSON text;
- LogUri links a JSON document with a datasource's statistics or a model's training report (ml_logs.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from altostratus.api.context import Call
from altostratus.api.ml_logs import LogFiles
from altostratus.api.model_adapters import Handler, JsonAdapter
from altostratus.core import json_input
from altostratus.predict import (
    BatchPrediction,
    DataLocations,
    DataSource,
    Endpoint,
    Evaluation,
    InvalidInput,
    ListQuery,
    Model,
    Page,
    PredictService,
    Status,
)
from altostratus.predict.lake_locations import parse_location

MAX_DOCUMENT_BYTES = 131_071  # Amazon ML's limit on a DataSchema or a Recipe
COMMON_FILTERS = {"CreatedAt": "created_at", "LastUpdatedAt": "updated_at", "Status": "status", "Name": "name"}
FILTERS = {
    "DataSource": {**COMMON_FILTERS, "DataLocationS3": "data_location"},
    "MLModel": {**COMMON_FILTERS, "TrainingDataSourceId": "training_datasource_id", "MLModelType": "model_type"},
    "Evaluation": {**COMMON_FILTERS, "MLModelId": "model_id", "DataSourceId": "datasource_id"},
    "BatchPrediction": {**COMMON_FILTERS, "MLModelId": "model_id", "DataSourceId": "datasource_id"},
}
COMPARATORS = {"EQ": "eq", "NE": "ne", "GT": "gt", "GE": "ge", "LT": "lt", "LE": "le", "Prefix": "prefix"}
TERMINAL = (Status.COMPLETED, Status.FAILED)
SCHEMA_HINTS = {"targetAttributeName": "target", "rowId": "row_id", "dataFileContainsHeader": "contains_header"}


class MachineLearningApi:
    """The Amazon ML operations, as a JsonAdapter handler table."""

    def __init__(self, predict: PredictService, locations: DataLocations, logs: LogFiles, endpoint_url: str) -> None:
        self._predict = predict
        self._locations = locations
        self._logs = logs
        self._endpoint_url = endpoint_url.rstrip("/")

    def adapter(self) -> JsonAdapter:
        """The json adapter serving these operations; bad parameters are InvalidInputException, as in Amazon ML."""
        return JsonAdapter("machinelearning", self.handlers(), validation_error=InvalidInput)

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler."""
        return {
            "CreateDataSourceFromS3": self.create_data_source_from_s3,
            "GetDataSource": self.get_data_source,
            "DescribeDataSources": self.describe_data_sources,
            "UpdateDataSource": self.update_data_source,
            "DeleteDataSource": self.delete_data_source,
            "CreateMLModel": self.create_ml_model,
            "GetMLModel": self.get_ml_model,
            "DescribeMLModels": self.describe_ml_models,
            "UpdateMLModel": self.update_ml_model,
            "DeleteMLModel": self.delete_ml_model,
            "CreateEvaluation": self.create_evaluation,
            "GetEvaluation": self.get_evaluation,
            "DescribeEvaluations": self.describe_evaluations,
            "UpdateEvaluation": self.update_evaluation,
            "DeleteEvaluation": self.delete_evaluation,
            "CreateRealtimeEndpoint": self.create_realtime_endpoint,
            "DeleteRealtimeEndpoint": self.delete_realtime_endpoint,
            "Predict": self.predict,
            "CreateBatchPrediction": self.create_batch_prediction,
            "GetBatchPrediction": self.get_batch_prediction,
            "DescribeBatchPredictions": self.describe_batch_predictions,
            "UpdateBatchPrediction": self.update_batch_prediction,
            "DeleteBatchPrediction": self.delete_batch_prediction,
        }

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
            document = {
                "DataSourceId": source.datasource_id,
                "Status": source.status.value,
                "Message": source.message,
                "DataSchema": json.loads(source.data_schema) if source.data_schema else None,
                "Statistics": source.statistics,
            }
            shown["LogUri"] = self._log("datasources", source.datasource_id, source.updated_at, document, call)
        return shown

    def describe_data_sources(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeDataSources."""
        page = self._predict.list_datasources(_query(params, FILTERS["DataSource"]))
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
            document = {
                "MLModelId": model.model_id,
                "Status": model.status.value,
                "Message": model.message,
                "Learner": model.learner,
                "TrainingParameters": dict(model.parameters),
                "TrainingReport": model.training_report,
            }
            shown["LogUri"] = self._log("models", model.model_id, model.updated_at, document, call)
        return shown

    def describe_ml_models(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeMLModels."""
        page = self._predict.list_models(_query(params, FILTERS["MLModel"]))
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
        page = self._predict.list_evaluations(_query(params, FILTERS["Evaluation"]))
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
        return await run_in_threadpool(self._prediction, params)

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
        page = self._predict.list_batch_predictions(_query(params, FILTERS["BatchPrediction"]))
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
        sources = self._locations.sources(params[uri])
        if len(sources) != 1:
            raise InvalidInput(f"{uri}={params[uri]!r} holds {len(sources)} objects; expected one {inline} document")
        data = bytearray()
        for chunk in sources[0].open():
            data.extend(chunk.encode() if isinstance(chunk, str) else chunk)
            if len(data) > MAX_DOCUMENT_BYTES:
                raise InvalidInput(f"{uri}={params[uri]!r} is over {MAX_DOCUMENT_BYTES} bytes; expected a {inline}")
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise InvalidInput(f"{uri}={params[uri]!r} is not UTF-8 text; expected a {inline} JSON document") from None

    def _log(self, kind: str, entity_id: str, version: dt.datetime, document: Mapping[str, Any], call: Call) -> str:
        key = f"{kind}/{entity_id}/{int(version.timestamp() * 1000)}.json"
        return self._logs.link(key, document, call.key)


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


def _query(params: Mapping[str, Any], fields: Mapping[str, str]) -> ListQuery:
    """A ListQuery from Describe*'s FilterVariable, comparators, SortOrder, NextToken and Limit."""
    variable = params.get("FilterVariable")
    given = {COMPARATORS[name]: params[name] for name in COMPARATORS if params.get(name) is not None}
    if variable is None and given:
        raise InvalidInput(f"{sorted(given)} need a FilterVariable; expected one of {sorted(fields)}")
    if variable is not None and variable not in fields:
        raise InvalidInput(
            f"FilterVariable={variable!r} is not supported by this server; expected one of {sorted(fields)}"
        )
    field = fields[variable] if variable else None
    if field in ("created_at", "updated_at"):
        given = {name: value if name == "prefix" else _time(variable or "", value) for name, value in given.items()}
    token = params.get("NextToken")
    if token is not None and not re.fullmatch(r"\d{1,9}", token):
        raise InvalidInput(f"NextToken={token!r} is not a token this server handed out")
    return ListQuery(
        field=field,
        descending=params.get("SortOrder") == "dsc",
        limit=params.get("Limit", 100),
        offset=int(token or 0),
        **given,
    )


def _time(variable: str, value: str) -> dt.datetime:
    """A comparator value for CreatedAt or LastUpdatedAt: epoch seconds or ISO 8601."""
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{variable} comparator {value!r}; expected epoch seconds or an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _results(page: Page[Any], show: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    token = str(page.next_offset) if page.next_offset is not None else None
    return {"Results": [show(item) for item in page.items], "NextToken": token}


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
