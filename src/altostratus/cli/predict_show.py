"""How `alto predict` shows datasources (with their statistics), models, evaluations and predictions to people."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from altostratus.cli.output import print_table

TOP_SHOWN = 3


def show_datasource(source: Mapping[str, Any], log: Mapping[str, Any] | None) -> None:
    """A datasource's status and location, then one line per attribute: type, counts, distribution, correlation."""
    size = source.get("DataSizeInBytes")
    files = source.get("NumberOfFiles")
    where = f" ({files} file{'s' if files != 1 else ''}, {_bytes(size)})" if size is not None else ""
    click.echo(f"datasource {source['DataSourceId']}: {source['Status']}  {source['DataLocationS3']}{where}")
    if source.get("Message"):
        click.echo(f"message: {source['Message']}")
    statistics = (log or {}).get("Statistics")
    if not statistics:
        schema = json.loads(source["DataSourceSchema"]) if source.get("DataSourceSchema") else None
        if schema:
            print_table([(a["attributeName"], a["attributeType"]) for a in schema["attributes"]], ("attribute", "type"))
        return
    click.echo(
        f"rows: {statistics['rows']} kept of {statistics['rows_read']} read; target: {statistics['target'] or '(none)'}"
    )
    rows = [
        (
            attribute["name"],
            attribute["type"],
            attribute["present"],
            attribute["missing"],
            attribute["invalid"],
            _distribution(attribute),
            _correlation(attribute.get("target_correlation")),
        )
        for attribute in statistics["attributes"]
    ]
    print_table(rows, ("attribute", "type", "present", "missing", "invalid", "distribution", "target correlation"))
    for attribute in statistics["attributes"]:
        for example in attribute["invalid_examples"]:
            click.echo(f"invalid {attribute['name']}: {example}")


def show_model(model: Mapping[str, Any], log: Mapping[str, Any] | None) -> None:
    """A model's status, type, training parameters, threshold and endpoint."""
    click.echo(
        f"model {model['MLModelId']}: {model['Status']} {model['MLModelType']} on {model['TrainingDataSourceId']}"
    )
    rows: list[tuple[str, str | int]] = []
    if model.get("Message"):
        rows.append(("message", model["Message"]))
    if model.get("SizeInBytes") is not None:
        rows.append(("size", _bytes(model["SizeInBytes"])))
    if model.get("ComputeTime") is not None:
        rows.append(("training time", f"{model['ComputeTime'] / 1000:.1f} s"))
    if "ScoreThreshold" in model:
        rows.append(("score threshold", f"{model['ScoreThreshold']:g}"))
    endpoint = model.get("EndpointInfo", {})
    rows.append(("endpoint", f"{endpoint.get('EndpointStatus', 'NONE')} {endpoint.get('EndpointUrl', '')}".strip()))
    rows += [(f"parameter {key}", value) for key, value in sorted(model.get("TrainingParameters", {}).items())]
    print_table(rows)


def show_evaluation(evaluation: Mapping[str, Any], log: Mapping[str, Any] | None) -> None:
    """The evaluation's metric beside its baseline, then the plain-number details."""
    properties = evaluation.get("PerformanceMetrics", {}).get("Properties", {})
    click.echo(f"evaluation {evaluation['EvaluationId']}: {evaluation['Status']} model {evaluation['MLModelId']}")
    metric = next((name for name in ("BinaryAUC", "MulticlassAvgFScore", "RegressionRMSE") if name in properties), None)
    if metric is None:
        return
    click.echo(f"{metric}: {float(properties[metric]):.4f} (baseline {float(properties['Baseline']):.4f})")
    rows = [(name, _number(value)) for name, value in properties.items() if name != metric and _is_number(value)]
    print_table(rows)
    if metric == "BinaryAUC" and "ConfusionMatrix" in properties:
        matrix = json.loads(properties["ConfusionMatrix"])
        print_table(
            [
                ("actual 1", matrix["true_positive"], matrix["false_negative"]),
                ("actual 0", matrix["false_positive"], matrix["true_negative"]),
            ],
            ("", "predicted 1", "predicted 0"),
        )


def show_prediction(prediction: Mapping[str, Any]) -> None:
    """The predicted label and scores, or the predicted value."""
    if "predictedValue" in prediction:
        click.echo(f"predictedValue: {prediction['predictedValue']:g}")
        return
    click.echo(f"predictedLabel: {prediction['predictedLabel']}")
    scores = prediction.get("predictedScores", {})
    if prediction.get("details", {}).get("PredictiveModelType") == "BINARY":
        click.echo(f"score: {next(iter(scores.values())):.4f} (the probability of 1)")
        return
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    print_table([(label, f"{score:.4f}") for label, score in ranked], ("label", "score"))


def _distribution(attribute: Mapping[str, Any]) -> str:
    if attribute.get("numeric"):
        n = attribute["numeric"]
        return f"{n['minimum']:g} to {n['maximum']:g}, mean {n['mean']:.4g}, median {n['median']:g}"
    if attribute.get("categorical"):
        c = attribute["categorical"]
        top = ", ".join(f"{v['value']} {v['count']}" for v in c["top"][:TOP_SHOWN])
        return f"{c['distinct']} values: {top}"
    if attribute.get("text"):
        t = attribute["text"]
        return f"{t['mean_words']:.1f} words avg; " + ", ".join(w["value"] for w in t["top_words"][:TOP_SHOWN])
    return ""


def _correlation(correlation: Mapping[str, Any] | None) -> str:
    if not correlation:
        return ""
    signed = correlation.get("signed")
    value = f"{signed:+.3f}" if signed is not None else f"{correlation['value']:.3f}"
    return f"{value} {correlation['method']}"


def _bytes(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(text: str) -> str | int:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else f"{value:.4f}"
