"""`alto predict`: datasources, models, evaluations, endpoints and predictions, over the Amazon ML API with boto3.

Like `alto lake`, every command talks to a server (local or remote) through boto3, here its
`machinelearning` client. Long work (computing a datasource, training, evaluating, batch predicting)
is a job on the server; the commands that start it wait for it with a progress bar (on a terminal) or
one line per change (otherwise), unless given --no-wait.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from altostratus.cli.lake import is_lake_url
from altostratus.cli.options import json_option, with_service_client
from altostratus.cli.output import CommandFailed, print_json, print_table
from altostratus.cli.predict_show import show_datasource, show_evaluation, show_model, show_prediction
from altostratus.core import waiting

Client = Any  # boto3 clients are built at run time and carry no static types
POLL_SECONDS = 0.5
DONE = ("COMPLETED", "FAILED", "DELETED")
MODEL_TYPES = {"binary": "BINARY", "multiclass": "MULTICLASS", "regression": "REGRESSION"}
# What each noun is called in the API: (Get operation, Describe paginator, id field, delete operation).
KINDS = {
    "datasource": ("get_data_source", "describe_data_sources", "DataSourceId", "delete_data_source"),
    "model": ("get_ml_model", "describe_ml_models", "MLModelId", "delete_ml_model"),
    "evaluation": ("get_evaluation", "describe_evaluations", "EvaluationId", "delete_evaluation"),
    "batch": ("get_batch_prediction", "describe_batch_predictions", "BatchPredictionId", "delete_batch_prediction"),
}


with_client = with_service_client("machinelearning")


no_wait_option = click.option("--no-wait", is_flag=True, help="Return once the job is queued; do not wait for it.")


def wait_for(
    ml: Client, kind: str, entity_id: str, *, quiet: bool = False, timeout: float = 24 * 3600
) -> dict[str, Any]:
    """Poll the entity until COMPLETED, FAILED or DELETED, showing its progress; its last description.

    On a terminal a progress bar follows the percentage the server reports in Message; otherwise each
    change of status or message is one line on stderr. FAILED is an error naming the server's reason.
    """
    get, _, id_field, _ = KINDS[kind]
    bar = tqdm(total=100, desc=f"{kind} {entity_id}", unit="%", file=sys.stderr) if _terminal(quiet) else None
    seen = ""

    def describe() -> dict[str, Any]:
        nonlocal seen
        entity: dict[str, Any] = getattr(ml, get)(**{id_field: entity_id})
        status, message = entity["Status"], entity.get("Message", "")
        line = f"{status} {message}".strip()
        if bar is not None:
            _advance(bar, status, message)
        elif line != seen and not quiet:
            click.echo(f"{kind} {entity_id}: {line}", err=True)
        seen = line
        return entity

    try:
        entity = waiting.wait_for(
            describe,
            lambda entity: entity["Status"] in DONE,
            timeout=timeout,
            interval=POLL_SECONDS,
            on_timeout=lambda entity: CommandFailed(
                f"{kind} {entity_id} is still {entity['Status']} after {timeout:g} s"
            ),
        )
    finally:
        if bar is not None:
            bar.close()
    if entity["Status"] != "COMPLETED":
        raise CommandFailed(f"{kind} {entity_id} is {entity['Status']}: {entity.get('Message', '')}")
    return entity


def _terminal(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


def _advance(bar: tqdm, status: str, message: str) -> None:
    found = re.match(r"(\d+)%: (.*)", message)
    percent = 100 if status == "COMPLETED" else int(found.group(1)) if found else bar.n
    bar.set_postfix_str(found.group(2) if found else status, refresh=False)
    bar.update(max(0, percent - bar.n))


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """{K: V} from K=V arguments (a value may itself hold '=')."""
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}; expected KEY=VALUE", param_hint=option)
        found[key] = value
    return found


def read_document(value: str) -> str:
    """A JSON document given as text (it starts with '{'), or the path of a file holding one (FILE or @FILE)."""
    if value.lstrip().startswith("{"):
        return value
    return Path(value.removeprefix("@")).read_text()


def _split(split: str | None, complement: bool, seed: str | None) -> str | None:
    if split is None:
        if complement or seed is not None:
            raise click.UsageError("--complement and --seed refine a --split BEGIN:END")
        return None
    found = re.fullmatch(r"(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)", split)
    if not found:
        raise click.BadParameter(f"{split!r}; expected BEGIN:END in percent, as 0:70", param_hint="--split")
    splitting: dict[str, Any] = {
        "percentBegin": float(found.group(1)),
        "percentEnd": float(found.group(2)),
        "complement": complement,
        "strategy": "sequential" if seed is None else "random",
    }
    if seed is not None:
        splitting["strategyParams"] = {"randomSeed": seed}
    return json.dumps({"splitting": splitting})


@click.group()
def predict() -> None:
    """Numbers and classes from history data: datasources, models, evaluations, predictions (Amazon ML API)."""


@predict.group("datasource")
def datasource() -> None:
    """Create a datasource from CSV in the lake."""


@datasource.command("create")
@click.argument("datasource_id")
@click.argument("location", metavar="s3://BUCKET/KEY-OR-PREFIX/")
@click.option("--schema", help="An Amazon ML DataSchema: JSON text, a file, or s3://... [default: inferred].")
@click.option("--target", help="The attribute to predict (when the schema is inferred).")
@click.option("--row-id", help="An attribute that identifies rows, copied to batch predictions (inferred schema).")
@click.option("--header/--no-header", default=None, help="Whether the first line names the columns [default: detect].")
@click.option("--split", help="Keep this percent range of the rows, BEGIN:END, as 0:70.")
@click.option("--complement", is_flag=True, help="Keep the rows outside --split instead.")
@click.option("--seed", help="Split at random by this seed (same seed, same split) instead of in file order.")
@click.option("--name", default="", help="A name to show in lists.")
@click.option("--no-statistics", is_flag=True, help="Skip computing the statistics.")
@no_wait_option
@json_option
@with_client
def create_datasource(
    ml: Client,
    datasource_id: str,
    location: str,
    schema: str | None,
    target: str | None,
    row_id: str | None,
    header: bool | None,
    split: str | None,
    complement: bool,
    seed: str | None,
    name: str,
    no_statistics: bool,
    no_wait: bool,
    as_json: bool,
) -> None:
    """Create a datasource from the CSV object (or every object under the prefix) at LOCATION."""
    spec: dict[str, Any] = {"DataLocationS3": location}
    if schema is not None:
        if target or row_id or header is not None:
            raise click.UsageError("--target, --row-id and --header come from the --schema when one is given")
        spec["DataSchemaLocationS3" if is_lake_url(schema) else "DataSchema"] = (
            schema if is_lake_url(schema) else read_document(schema)
        )
    else:
        hints = {"targetAttributeName": target, "rowId": row_id, "dataFileContainsHeader": header}
        spec["DataSchema"] = json.dumps({key: value for key, value in hints.items() if value is not None})
    rearrangement = _split(split, complement, seed)
    if rearrangement is not None:
        spec["DataRearrangement"] = rearrangement
    ml.create_data_source_from_s3(
        DataSourceId=datasource_id, DataSourceName=name, DataSpec=spec, ComputeStatistics=not no_statistics
    )
    _finish(ml, "datasource", datasource_id, no_wait, as_json, show_datasource)


@predict.command("describe")
@click.argument("datasource_id")
@json_option
@with_client
def describe(ml: Client, datasource_id: str, as_json: bool) -> None:
    """Show a datasource: its schema and statistics (counts, missing values, distributions, target correlation)."""
    source = ml.get_data_source(DataSourceId=datasource_id, Verbose=True)
    log = fetch_log(source)
    if as_json:
        print_json({"DataSource": _plain(source), "Log": log})
    else:
        show_datasource(source, log)


def fetch_log(entity: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON document LogUri links (statistics, training report), or None when there is none yet."""
    uri = entity.get("LogUri")
    if not uri:
        return None
    with urllib.request.urlopen(uri, timeout=60) as answer:
        document: dict[str, Any] = json.loads(answer.read())
    return document


@predict.command("train")
@click.argument("model_id")
@click.option("--datasource", "datasource_id", required=True, help="The training datasource.")
@click.option("--type", "model_type", type=click.Choice(sorted(MODEL_TYPES)), required=True, help="What to predict.")
@click.option(
    "--algorithm",
    type=click.Choice(["sgd", "auto"]),
    default=None,
    help="sgd: a linear model, as Amazon ML trains; auto: also gradient-boosted trees, the better kept [sgd].",
)
@click.option("--param", "params", multiple=True, help="A training parameter KEY=VALUE (sgd.maxPasses=20); repeatable.")
@click.option("--recipe", help="An Amazon ML recipe: JSON text, a file, or s3://... [default: suggested].")
@click.option("--name", default="", help="A name to show in lists.")
@no_wait_option
@json_option
@with_client
def train(
    ml: Client,
    model_id: str,
    datasource_id: str,
    model_type: str,
    algorithm: str | None,
    params: tuple[str, ...],
    recipe: str | None,
    name: str,
    no_wait: bool,
    as_json: bool,
) -> None:
    """Train a model on a datasource, with a progress bar while the server trains it."""
    parameters = parse_pairs(params, "--param")
    if algorithm is not None:
        parameters["algorithm"] = algorithm
    request: dict[str, Any] = {
        "MLModelId": model_id,
        "MLModelName": name,
        "MLModelType": MODEL_TYPES[model_type],
        "TrainingDataSourceId": datasource_id,
        "Parameters": parameters,
    }
    if recipe is not None:
        request["RecipeUri" if is_lake_url(recipe) else "Recipe"] = (
            recipe if is_lake_url(recipe) else read_document(recipe)
        )
    ml.create_ml_model(**request)
    _finish(ml, "model", model_id, no_wait, as_json, show_model)


@predict.command("evaluate")
@click.argument("evaluation_id")
@click.option("--model", "model_id", required=True, help="The model to evaluate.")
@click.option("--datasource", "datasource_id", required=True, help="Held-out data with the target.")
@click.option("--name", default="", help="A name to show in lists.")
@no_wait_option
@json_option
@with_client
def evaluate(
    ml: Client, evaluation_id: str, model_id: str, datasource_id: str, name: str, no_wait: bool, as_json: bool
) -> None:
    """Score a model on held-out data: AUC, macro F1 or RMSE beside a naive baseline."""
    ml.create_evaluation(
        EvaluationId=evaluation_id, EvaluationName=name, MLModelId=model_id, EvaluationDataSourceId=datasource_id
    )
    _finish(ml, "evaluation", evaluation_id, no_wait, as_json, show_evaluation)


@predict.command("batch")
@click.argument("batch_id")
@click.option("--model", "model_id", required=True, help="The model that predicts.")
@click.option("--datasource", "datasource_id", required=True, help="The rows to predict.")
@click.option("--output", "output_uri", required=True, help="Where results go: s3://BUCKET/PREFIX/.")
@click.option("--name", default="", help="A name to show in lists.")
@no_wait_option
@json_option
@with_client
def batch(
    ml: Client,
    batch_id: str,
    model_id: str,
    datasource_id: str,
    output_uri: str,
    name: str,
    no_wait: bool,
    as_json: bool,
) -> None:
    """Predict every row of a datasource into gzip CSV under OUTPUT/batch-prediction/result/."""
    ml.create_batch_prediction(
        BatchPredictionId=batch_id,
        BatchPredictionName=name,
        MLModelId=model_id,
        BatchPredictionDataSourceId=datasource_id,
        OutputUri=output_uri,
    )

    def show(entity: Mapping[str, Any], log: Mapping[str, Any] | None) -> None:
        results = f"{entity['OutputUri'].rstrip('/')}/batch-prediction/result/"
        click.echo(f"batch {batch_id}: {entity['TotalRecordCount']} records ({entity['InvalidRecordCount']} invalid)")
        click.echo(f"results: {results}")

    _finish(ml, "batch", batch_id, no_wait, as_json, show)


@predict.command("predict")
@click.argument("model_id")
@click.option("--record", "pairs", multiple=True, help="An attribute's value, NAME=VALUE; repeatable.")
@click.option("--json-record", help="The whole record as a JSON object (or @FILE).")
@json_option
@with_client
def predict_one(ml: Client, model_id: str, pairs: tuple[str, ...], json_record: str | None, as_json: bool) -> None:
    """Predict one record through the model's realtime endpoint (`alto predict endpoint create` first)."""
    record = parse_pairs(pairs, "--record")
    if json_record is not None:
        given = json.loads(read_document(json_record))
        if not isinstance(given, dict):
            raise click.BadParameter("expected a JSON object of NAME: VALUE", param_hint="--json-record")
        record |= {str(key): str(value) for key, value in given.items()}
    endpoint = ml.get_ml_model(MLModelId=model_id)["EndpointInfo"]
    if endpoint.get("EndpointStatus") != "READY":
        raise CommandFailed(f"model {model_id} has no realtime endpoint: run `alto predict endpoint create {model_id}`")
    prediction = ml.predict(MLModelId=model_id, Record=record, PredictEndpoint=endpoint["EndpointUrl"])["Prediction"]
    if as_json:
        print_json(prediction)
    else:
        show_prediction(prediction)


@predict.group("endpoint")
def endpoint() -> None:
    """Realtime endpoints: what Predict needs."""


@endpoint.command("create")
@click.argument("model_id")
@json_option
@with_client
def create_endpoint(ml: Client, model_id: str, as_json: bool) -> None:
    """Give a COMPLETED model a realtime endpoint (READY at once)."""
    info = ml.create_realtime_endpoint(MLModelId=model_id)["RealtimeEndpointInfo"]
    if as_json:
        print_json(info)
    else:
        click.echo(f"endpoint {model_id}: {info['EndpointStatus']} at {info['EndpointUrl']}")


@endpoint.command("delete")
@click.argument("model_id")
@json_option
@with_client
def delete_endpoint(ml: Client, model_id: str, as_json: bool) -> None:
    """Remove a model's realtime endpoint."""
    info = ml.delete_realtime_endpoint(MLModelId=model_id)["RealtimeEndpointInfo"]
    if as_json:
        print_json(info)
    else:
        click.echo(f"endpoint {model_id}: {info['EndpointStatus']}")


@predict.command("threshold")
@click.argument("model_id")
@click.argument("value", type=click.FloatRange(0, 1))
@with_client
def threshold(ml: Client, model_id: str, value: float) -> None:
    """Set a binary model's score threshold: a score at or above it predicts 1."""
    ml.update_ml_model(MLModelId=model_id, ScoreThreshold=value)
    click.echo(f"model {model_id}: score threshold {value:g}")


@predict.command("delete")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("entity_id")
@with_client
def delete(ml: Client, kind: str, entity_id: str) -> None:
    """Delete a datasource, model, evaluation or batch prediction (it stays listed as DELETED)."""
    _, _, id_field, operation = KINDS[kind]
    getattr(ml, operation)(**{id_field: entity_id})
    click.echo(f"delete: {kind} {entity_id}")


def _lister(kind: str, columns: tuple[str, ...], doc: str) -> None:
    @predict.command(f"{kind}s" if kind != "batch" else "batches", help=doc)
    @click.option("--status", help="Only those in this status (COMPLETED, FAILED, ...).")
    @json_option
    @with_client
    def listing(ml: Client, status: str | None, as_json: bool) -> None:
        query = {"FilterVariable": "Status", "EQ": status} if status else {}
        found = [item for page in ml.get_paginator(KINDS[kind][1]).paginate(**query) for item in page["Results"]]
        if as_json:
            print_json({"Results": [_plain(item) for item in found]})
            return
        print_table([[str(item.get(column, "")) for column in columns] for item in found], headers=columns)


_lister("datasource", ("DataSourceId", "Status", "DataLocationS3", "DataSizeInBytes", "Name"), "List datasources.")
_lister("model", ("MLModelId", "Status", "MLModelType", "Algorithm", "TrainingDataSourceId", "Name"), "List models.")
_lister("evaluation", ("EvaluationId", "Status", "MLModelId", "EvaluationDataSourceId", "Name"), "List evaluations.")
_lister(
    "batch", ("BatchPredictionId", "Status", "MLModelId", "TotalRecordCount", "OutputUri"), "List batch predictions."
)


def _finish(
    ml: Client,
    kind: str,
    entity_id: str,
    no_wait: bool,
    as_json: bool,
    show: Callable[[Mapping[str, Any], Mapping[str, Any] | None], None],
) -> None:
    if no_wait:
        if as_json:
            print_json({KINDS[kind][2]: entity_id})
        else:
            click.echo(f"{kind} {entity_id}: queued")
        return
    entity = wait_for(ml, kind, entity_id, quiet=as_json)
    if kind in ("datasource", "model"):
        entity = getattr(ml, KINDS[kind][0])(**{KINDS[kind][2]: entity_id, "Verbose": True})
    if as_json:
        print_json(_plain(entity))
    else:
        show(entity, fetch_log(entity) if kind == "datasource" else None)


def _plain(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The entity without boto3's ResponseMetadata."""
    return {key: value for key, value in entity.items() if key != "ResponseMetadata"}
