"""`alto endpoints`: SageMaker endpoints, their variants' weights, experiment statistics, outcomes, canaries.

`list`, `describe` and `weights` talk to a server through boto3's `sagemaker` client, as any SageMaker
client would. SageMaker has no API for experiment statistics, outcomes or canary rules, so like `alto
routes` those commands act on the data directory's metadata store directly; a running server picks up
outcomes at once, and weight changes and canaries within a second. Outcomes can also be dropped into the
lake as CSV objects under s3://alto-outcomes/ENDPOINT/, from any S3 client.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from altostratus.cli.options import (
    data_dir_option,
    json_option,
    open_platform,
    with_service_client,
)
from altostratus.cli.output import CommandFailed, format_time, print_json, print_table
from altostratus.core.clock import SystemClock
from altostratus.deploy.canary import Canary, CanaryController, CanaryRules, CanaryState
from altostratus.deploy.endpoints import EndpointService
from altostratus.deploy.experiment_records import ExperimentStore
from altostratus.deploy.experiments import ExperimentReports
from altostratus.deploy.outcomes import parse_outcomes

Client = Any  # boto3 clients are built at run time and carry no static types
ACTOR = "alto-cli"


with_client = with_service_client("sagemaker")


@dataclasses.dataclass(frozen=True)
class Local:
    """The endpoint services over the data directory's metadata store (no model is ever loaded here)."""

    endpoints: EndpointService
    store: ExperimentStore
    reports: ExperimentReports
    canaries: CanaryController


@contextmanager
def open_local(data_dir: Path | None) -> Iterator[Local]:
    """The endpoint services of the data directory (built as the server builds them; no model is loaded)."""
    with open_platform(data_dir) as platform:
        hosting = platform.hosting
        yield Local(hosting.endpoints, hosting.store, hosting.reports, hosting.canaries)


@click.group()
def endpoints() -> None:
    """SageMaker endpoints: variants and weights, experiment statistics, outcomes and canary rules."""


@endpoints.command("list")
@with_client
@json_option
def list_endpoints(sagemaker: Client, as_json: bool) -> None:
    """List the endpoints."""
    found = [e for page in sagemaker.get_paginator("list_endpoints").paginate() for e in page["Endpoints"]]
    if as_json:
        print_json({"Endpoints": found})
        return
    rows = [[e["EndpointName"], e["EndpointStatus"], format_time(e["CreationTime"])] for e in found]
    print_table(rows, ["Name", "Status", "Created"])


@endpoints.command("describe")
@click.argument("name")
@with_client
@json_option
def describe_endpoint(sagemaker: Client, name: str, as_json: bool) -> None:
    """Show an endpoint: its status, config and variants with their weights."""
    described = sagemaker.describe_endpoint(EndpointName=name)
    described.pop("ResponseMetadata", None)
    if as_json:
        print_json(described)
        return
    click.echo(f"{described['EndpointName']}  {described['EndpointStatus']}  config {described['EndpointConfigName']}")
    if described.get("FailureReason"):
        click.echo(f"  {described['FailureReason']}")
    _print_variants(described)


@endpoints.command("weights")
@click.argument("name")
@click.argument("weights", nargs=-1, required=True, metavar="VARIANT=WEIGHT...")
@with_client
@json_option
def set_weights(sagemaker: Client, name: str, weights: tuple[str, ...], as_json: bool) -> None:
    """Give variants new weights at once, e.g. `alto endpoints weights churn A=80 B=20`."""
    desired = [{"VariantName": v, "DesiredWeight": w} for v, w in _parse_weights(weights).items()]
    sagemaker.update_endpoint_weights_and_capacities(EndpointName=name, DesiredWeightsAndCapacities=desired)
    described = sagemaker.describe_endpoint(EndpointName=name)
    described.pop("ResponseMetadata", None)
    if as_json:
        print_json(described)
    else:
        _print_variants(described)


@endpoints.command("stats")
@click.argument("name")
@data_dir_option
@json_option
def stats(name: str, data_dir: Path | None, as_json: bool) -> None:
    """Per-variant requests, errors, latency, predictions and online accuracy against outcomes."""
    with open_local(data_dir) as local:
        endpoint = local.endpoints.get_endpoint(name)
        canary = local.canaries.get(name)
        champion = canary.rules.champion if canary is not None and canary.state is CanaryState.RUNNING else None
        report = local.reports.report(endpoint, champion=champion)
        trail = local.endpoints.audit_trail(name)
    if as_json:
        print_json(
            {
                **report.to_dict(),
                "canary": canary.to_dict() if canary else None,
                "changes": [entry.to_dict() for entry in trail],
            }
        )
        return
    data = report.to_dict()
    click.echo(f"Endpoint {name}: champion {data['champion']}")
    rows = [_stats_row(variant) for variant in data["variants"]]
    print_table(rows, ["Variant", "Weight", "Requests", "Errors", "p50 ms", "p99 ms", "Online", "Versus champion"])
    for variant in data["variants"]:
        click.echo(f"  {variant['variant']}: {_predictions(variant['predictions'])}")
    if canary is not None:
        click.echo(f"Canary: {_canary_line(canary)}")
    if trail:
        click.echo("Recent changes:")
        for entry in trail[-10:]:
            click.echo(f"  {format_time(entry.at)}  {entry.actor}  {entry.action}  {entry.reason}")


@endpoints.group("outcomes")
def outcomes() -> None:
    """Feed back ground truth (InferenceId,label) to score each variant's predictions."""


@outcomes.command("put")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=str))
@data_dir_option
@json_option
def put_outcomes(name: str, file: str, data_dir: Path | None, as_json: bool) -> None:
    """Record outcomes from a CSV file of InferenceId,label lines (`-` reads stdin).

    Outcome files dropped into the lake under s3://alto-outcomes/NAME/ are read by the server too.
    """
    if file == "-":
        text, shown = sys.stdin.read(), "<stdin>"
    else:
        text, shown = Path(file).read_text(encoding="utf-8-sig"), file
    pairs = parse_outcomes(text, shown)
    with open_local(data_dir) as local:
        count = local.store.put_outcomes(name, pairs, f"file:{shown}", SystemClock().now())
    if as_json:
        print_json({"Endpoint": name, "Outcomes": count})
    else:
        click.echo(f"Recorded {count} outcomes for endpoint {name}.")


@endpoints.group("canary")
def canary() -> None:
    """Shift weight to a challenger step by step, rolling back on errors or a significant loss."""


@canary.command("start")
@click.argument("name")
@click.option("--champion", help="The variant that has the weight now.")
@click.option("--challenger", help="The variant that gains weight step by step.")
@click.option("--step", type=float, default=10.0, show_default=True, help="Points of 100 gained per step.")
@click.option("--every-requests", type=int, default=None, help="A step lasts this many challenger requests...")
@click.option("--every-seconds", type=float, default=None, help="...or this many seconds, whichever comes first.")
@click.option("--max-error-rate", type=float, default=0.05, show_default=True, help="Roll back above this.")
@click.option(
    "--significant-loss/--no-significant-loss",
    default=True,
    show_default=True,
    help="Roll back when outcomes show the challenger significantly worse.",
)
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level of that test.")
@click.option("--min-requests", type=int, default=20, show_default=True, help="Requests before the error rule.")
@click.option("--rules", "rules_file", type=click.File("r"), default=None, help="The rules as a JSON file instead.")
@data_dir_option
@json_option
def start_canary(
    name: str,
    champion: str | None,
    challenger: str | None,
    step: float,
    every_requests: int | None,
    every_seconds: float | None,
    max_error_rate: float,
    significant_loss: bool,
    alpha: float,
    min_requests: int,
    rules_file: Any,
    data_dir: Path | None,
    as_json: bool,
) -> None:
    """Start a canary on endpoint NAME (the challenger gets its first step of weight at once)."""
    if rules_file is not None:
        rules = CanaryRules.from_mapping(json.load(rules_file))
    elif champion is None or challenger is None:
        raise click.UsageError("give --champion and --challenger (or --rules FILE)")
    else:
        rules = CanaryRules(
            champion,
            challenger,
            step=step,
            every_requests=every_requests,
            every_seconds=every_seconds,
            error_rate_above=max_error_rate,
            significant_loss=significant_loss,
            alpha=alpha,
            min_requests=min_requests,
        )
    with open_local(data_dir) as local:
        started = local.canaries.start(name, rules, actor=ACTOR)
    _show_canary(started, as_json)


@canary.command("status")
@click.argument("name")
@data_dir_option
@json_option
def canary_status(name: str, data_dir: Path | None, as_json: bool) -> None:
    """Show the endpoint's canary."""
    with open_local(data_dir) as local:
        found = local.canaries.get(name)
    if found is None:
        raise CommandFailed(f"endpoint {name!r} has no canary")
    _show_canary(found, as_json)


@canary.command("stop")
@click.argument("name")
@data_dir_option
@json_option
def stop_canary(name: str, data_dir: Path | None, as_json: bool) -> None:
    """Stop the canary where it stands (the weights stay as they are)."""
    with open_local(data_dir) as local:
        stopped = local.canaries.stop(name, actor=ACTOR)
    _show_canary(stopped, as_json)


def _parse_weights(pairs: tuple[str, ...]) -> dict[str, float]:
    weights = {}
    for pair in pairs:
        variant, sep, weight = pair.partition("=")
        try:
            weights[variant] = float(weight)
        except ValueError:
            raise click.BadParameter(f"{pair!r}; expected VARIANT=WEIGHT", param_hint="WEIGHTS") from None
        if not sep or not variant:
            raise click.BadParameter(f"{pair!r}; expected VARIANT=WEIGHT", param_hint="WEIGHTS")
    return weights


def _print_variants(described: dict[str, Any]) -> None:
    rows: list[list[str | int]] = [
        [v["VariantName"], f"{v.get('CurrentWeight', 0):g}", f"{v.get('DesiredWeight', 0):g}", "production"]
        for v in described.get("ProductionVariants", [])
    ]
    rows += [[v["VariantName"], "-", "-", "shadow"] for v in described.get("ShadowProductionVariants", [])]
    print_table(rows, ["Variant", "Weight", "Desired", "Kind"])


def _stats_row(variant: dict[str, Any]) -> list[str | int]:
    name = variant["variant"] + (" (shadow)" if variant["shadow"] else "")
    weight = "-" if variant["weight"] is None else f"{variant['weight']:g}"
    latency = variant["latency_ms"]
    return [
        name,
        weight,
        variant["requests"],
        variant["errors"],
        _number(latency["p50"]),
        _number(latency["p99"]),
        _online(variant["online"]),
        _versus(variant["versus_champion"]),
    ]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _online(online: dict[str, Any] | None) -> str:
    if online is None:
        return "-"
    metric = "acc" if online["metric"] == "accuracy" else "MAE"
    low, high = online["interval"]
    return f"{metric} {online['value']:.3f} [{low:.3f}, {high:.3f}] n={online['outcomes']}"


def _versus(versus: dict[str, Any] | None) -> str:
    if versus is None:
        return "-"
    low, high = versus["interval"]
    verdict = "worse" if versus["worse"] else ("significant" if versus["significant"] else "not significant")
    return f"{versus['difference']:+.3f} [{low:+.3f}, {high:+.3f}] p={versus['p_value']:.3g} {verdict}"


def _predictions(predictions: dict[str, Any]) -> str:
    if "labels" in predictions:
        total = sum(predictions["labels"].values()) or 1
        return ", ".join(f"{label}: {count / total:.0%}" for label, count in predictions["labels"].items())
    if "values" in predictions:
        values = predictions["values"]
        return f"values mean {values['mean']:.4g}, std {values['std']:.4g}, {values['min']:.4g} to {values['max']:.4g}"
    return "no predictions yet"


def _canary_line(found: Canary) -> str:
    rules = found.rules
    return (
        f"{found.state.value}, challenger {rules.challenger} at {found.share:g} points after {found.steps} "
        f"step(s) (champion {rules.champion}); {found.message}"
    )


def _show_canary(found: Canary, as_json: bool) -> None:
    if as_json:
        print_json(found.to_dict())
    else:
        click.echo(f"Canary on {found.endpoint}: {_canary_line(found)}")
