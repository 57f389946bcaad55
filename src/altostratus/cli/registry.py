"""`alto registry`: model package groups and versions, promotion through the gate, rollback and history.

What SageMaker has an operation for goes through boto3's `sagemaker` client to a server (local or remote):
groups, registering, listing, describing, promoting (UpdateModelPackage Approved), rejecting, and the gate's
policy (the group's resource policy: Put/Get/DeleteModelPackageGroupPolicy), so the server checks the caller's
key and records who changed what. What it has none for works directly on a data directory, like `alto keys`:
rollback and the history.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from altostratus.cli.options import (
    data_dir_option,
    json_option,
    load_settings,
    open_platform,
    read_credentials_file,
    service_client,
    with_clients,
)
from altostratus.cli.output import CommandFailed, format_time, print_json, print_table
from altostratus.core.waiting import wait_for
from altostratus.deploy.registry import Registry
from altostratus.deploy.registry_names import version_arn
from altostratus.deploy.stages import STAGE_OF_STATUS, Stage

Client = Any  # boto3 clients are built at run time and carry no static types
POLL_SECONDS = 0.5
STAGES = [stage.value for stage in Stage]


def make_client(endpoint_url: str | None, data_dir: Path | None) -> tuple[Client, str]:
    """A boto3 `sagemaker` client for the server at endpoint_url, and the region it signs for."""
    region = load_settings(data_dir=data_dir).region
    return service_client("sagemaker", endpoint_url, data_dir, retries=3), region


with_client = with_clients(lambda endpoint_url, data_dir: make_client(endpoint_url, data_dir))


@contextmanager
def open_registry(data_dir: Path | None) -> Iterator[tuple[Registry, str]]:
    """The data directory's registry (built as the server builds it, nothing started), and who is acting."""
    with open_platform(data_dir) as platform:
        yield platform.registry, local_actor(platform.settings.data_dir)


def local_actor(data_dir: Path) -> str:
    """Who acts on the data directory: the access key the user signs with, else the login name."""
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        return os.environ["AWS_ACCESS_KEY_ID"]
    credentials = read_credentials_file(data_dir / "credentials")
    return credentials.access_key_id if credentials else f"local:{getpass.getuser()}"


@click.group()
def registry() -> None:
    """The model registry: groups, versions, promotion through the gate, rollback and history."""


# ---- groups -------------------------------------------------------------------------------------------


@registry.command("groups")
@with_client
@json_option
def list_groups(client: Client, region: str, as_json: bool) -> None:
    """List model package groups, oldest first."""
    groups = _all(client.list_model_package_groups, "ModelPackageGroupSummaryList")
    if as_json:
        print_json({"ModelPackageGroups": groups})
        return
    if not groups:
        click.echo("No model package groups; create one with `alto registry create-group NAME`.")
        return
    rows = [
        (g["ModelPackageGroupName"], format_time(g["CreationTime"]), g.get("ModelPackageGroupDescription", ""))
        for g in groups
    ]
    print_table(rows, headers=("Group", "Created", "Description"))


@registry.command("create-group")
@click.argument("name")
@click.option("--description", default="", help="What the group's models are for.")
@with_client
@json_option
def create_group(client: Client, region: str, name: str, description: str, as_json: bool) -> None:
    """Create a model package group."""
    made = client.create_model_package_group(ModelPackageGroupName=name, ModelPackageGroupDescription=description)
    _done(as_json, {"ModelPackageGroupArn": made["ModelPackageGroupArn"]}, f"Created {made['ModelPackageGroupArn']}")


@registry.command("delete-group")
@click.argument("name")
@with_client
def delete_group(client: Client, region: str, name: str) -> None:
    """Delete an empty model package group (its history stays)."""
    client.delete_model_package_group(ModelPackageGroupName=name)
    click.echo(f"Deleted model package group {name}.")


# ---- versions -----------------------------------------------------------------------------------------


@registry.command("register")
@click.argument("group")
@click.argument("source_uri")
@click.option("--description", default="", help="What is new in this version.")
@click.option("--metadata", "pairs", multiple=True, metavar="KEY=VALUE", help="A customer metadata property.")
@click.option("--metrics-uri", default=None, help="s3:// URL of a JSON metrics document in the lake.")
@with_client
@json_option
def register(
    client: Client,
    region: str,
    group: str,
    source_uri: str,
    description: str,
    pairs: tuple[str, ...],
    metrics_uri: str | None,
    as_json: bool,
) -> None:
    """Register SOURCE_URI (ml-model:<MLModelId> or s3://bucket/key) as GROUP's next version, in test."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "SourceUri": source_uri,
        "ModelPackageDescription": description,
    }
    if pairs:
        request["CustomerMetadataProperties"] = _pairs(pairs)
    if metrics_uri:
        statistics = {"ContentType": "application/json", "S3Uri": metrics_uri}
        request["ModelMetrics"] = {"ModelQuality": {"Statistics": statistics}}
    arn = client.create_model_package(**request)["ModelPackageArn"]
    _done(as_json, {"ModelPackageArn": arn}, f"Registered {arn} (stage test: PendingManualApproval)")


@registry.command("versions")
@click.argument("group")
@click.option("--stage", type=click.Choice(STAGES), default=None, help="Only versions in this stage.")
@with_client
@json_option
def list_versions(client: Client, region: str, group: str, stage: str | None, as_json: bool) -> None:
    """List GROUP's versions, oldest first."""
    query: dict[str, Any] = {"ModelPackageGroupName": group}
    if stage:
        query["ModelApprovalStatus"] = Stage(stage).approval_status
    versions = _all(client.list_model_packages, "ModelPackageSummaryList", **query)
    if as_json:
        print_json({"ModelPackages": versions})
        return
    if not versions:
        click.echo(f"No versions in {group}; register one with `alto registry register {group} SOURCE_URI`.")
        return
    rows = [
        (
            v["ModelPackageVersion"],
            _stage(v["ModelApprovalStatus"]),
            format_time(v["CreationTime"]),
            v.get("ModelPackageDescription", ""),
        )
        for v in versions
    ]
    print_table(rows, headers=("Version", "Stage", "Created", "Description"))


@registry.command("describe")
@click.argument("group")
@click.argument("version", type=click.IntRange(min=1))
@with_client
@json_option
def describe(client: Client, region: str, group: str, version: int, as_json: bool) -> None:
    """Show one version: stage, gate verdict, artifact and checksum, training data, metrics."""
    package = _describe(client, region, group, version)
    if as_json:
        print_json(package)
        return
    _print_package(package)


@registry.command("promote")
@click.argument("group")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--reason", default="", help="Why (kept in the history).")
@click.option("--no-wait", is_flag=True, help="Return once the gate has started.")
@click.option("--timeout", type=float, default=900.0, show_default=True, help="Seconds to wait for the gate.")
@with_client
@json_option
def promote(
    client: Client, region: str, group: str, version: int, reason: str, no_wait: bool, timeout: float, as_json: bool
) -> None:
    """Ask the gate to promote a version to production; print its verdict (exit 1 if it refuses)."""
    arn = version_arn(region, group, version)
    request = {"ModelPackageArn": arn, "ModelApprovalStatus": "Approved"}
    client.update_model_package(**request, **({"ApprovalDescription": reason} if reason else {}))
    package = _describe(client, region, group, version)
    if not no_wait and _gate(package)["Status"] == "InProgress":
        if sys.stderr.isatty():
            click.echo(f"Waiting for the promotion gate of {group} version {version}...", err=True)
        package = wait_for(
            lambda: _describe(client, region, group, version),
            lambda p: _gate(p)["Status"] != "InProgress",
            timeout=timeout,
            interval=POLL_SECONDS,
        )
    if as_json:
        print_json(package)
    else:
        click.echo(f"{group} version {version}: {_stage(package['ModelApprovalStatus'])}")
        click.echo(package.get("ApprovalDescription", ""))
    gate = _gate(package)
    if gate["Status"] == "Failed" and package["ModelApprovalStatus"] != "Approved":
        raise CommandFailed(f"the gate refused {group} version {version}: {gate.get('FailureReason', '')}")
    if gate["Status"] == "InProgress" and not no_wait:
        raise CommandFailed(f"the gate of {group} version {version} is still running after {timeout:g} s")


@registry.command("reject")
@click.argument("group")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--reason", default="", help="Why (kept in the history).")
@with_client
def reject(client: Client, region: str, group: str, version: int, reason: str) -> None:
    """Archive a version (Rejected); a production version leaves production, which stays empty."""
    request = {"ModelPackageArn": version_arn(region, group, version), "ModelApprovalStatus": "Rejected"}
    client.update_model_package(**request, **({"ApprovalDescription": reason} if reason else {}))
    click.echo(f"{group} version {version}: archived (Rejected).")


# ---- on the data directory ----------------------------------------------------------------------------


@registry.command("rollback")
@click.argument("group")
@click.option("--reason", default="", help="Why (kept in the history).")
@data_dir_option
@json_option
def rollback(group: str, reason: str, data_dir: Path | None, as_json: bool) -> None:
    """Put GROUP's previous production version back into production (the current one is archived)."""
    with open_registry(data_dir) as (found, actor):
        previous = found.get_group(group).prod_version
        restored = found.rollback(group, actor=actor, reason=reason)
    message = f"{group}: version {restored.version} is in production again (version {previous} archived)."
    _done(as_json, {"Group": group, "Restored": restored.version, "Archived": previous, "Actor": actor}, message)


@registry.command("history")
@click.argument("group")
@click.option("--at", "moment", default=None, metavar="TIME", help="Say which version was in production at TIME.")
@data_dir_option
@json_option
def history(group: str, moment: str | None, data_dir: Path | None, as_json: bool) -> None:
    """Everything that happened to GROUP: registrations, gate verdicts, promotions, rollbacks."""
    when = _moment(moment) if moment else None
    with open_registry(data_dir) as (found, _):
        events = found.history(group)
        timeline = found.timeline(group)
        prod = found.prod_at(group, when) if when else None
    if as_json:
        shown: dict[str, Any] = {
            "Events": [event.to_dict() for event in events],
            "Production": [{"Version": i.version, "Since": i.since, "Until": i.until} for i in timeline],
        }
        if when:
            shown["ProductionAt"] = {"Time": when, "Version": prod}
        print_json(shown)
        return
    if when:
        said = f"version {prod}" if prod else "no version"
        click.echo(f"{group}: {said} was in production at {format_time(when)} UTC.")
        return
    rows = [
        (
            format_time(e.at),
            e.version if e.version is not None else "",
            e.event.value,
            f"{e.from_stage or '-'} -> {e.to_stage or '-'}" if e.to_stage or e.from_stage else "",
            e.actor,
            e.reason,
        )
        for e in events
    ]
    print_table(rows, headers=("At (UTC)", "Version", "Event", "Stage", "Actor", "Reason"))


@registry.group("policy")
def policy() -> None:
    """The promotion gate's policy of a group (the group's resource policy, over the API)."""


@policy.command("set")
@click.argument("group")
@click.argument("document", required=False)
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), help="Read the policy from a file.")
@click.option("--clear", is_flag=True, help="Remove the policy: the default gate judges promotions again.")
@with_client
@json_option
def set_policy(
    client: Client, region: str, group: str, document: str | None, path: Path | None, clear: bool, as_json: bool
) -> None:
    """Set GROUP's gate policy from JSON, e.g. '{"metric": "auc", "min": 0.85, "max_drop_from_champion": 0.002}'."""
    if [document is not None, path is not None, clear].count(True) != 1:
        raise click.UsageError("give the policy as DOCUMENT or --file, or --clear")
    if clear:
        client.delete_model_package_group_policy(ModelPackageGroupName=group)
    else:
        text = path.read_text() if path else document
        client.put_model_package_group_policy(ModelPackageGroupName=group, ResourcePolicy=text)
    _show_policy(client, group, as_json)


@policy.command("get")
@click.argument("group")
@with_client
@json_option
def get_policy(client: Client, region: str, group: str, as_json: bool) -> None:
    """Show GROUP's gate policy."""
    _show_policy(client, group, as_json)


policy.add_command(get_policy, "show")


def _show_policy(client: Client, group: str, as_json: bool) -> None:
    shown = json.loads(client.get_model_package_group_policy(ModelPackageGroupName=group)["ResourcePolicy"])
    default = "the default gate (no candidate worse than the production version on the group's metric)"
    text = f"{group}: {json.dumps(shown)}" if shown else f"{group}: no policy set: {default}"
    _done(as_json, {"Group": group, "Policy": shown}, text)


# ---- helpers ------------------------------------------------------------------------------------------


def _all(operation: Callable[..., Any], key: str, **query: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = operation(**query)
        found.extend(page[key])
        if not page.get("NextToken"):
            return found
        query["NextToken"] = page["NextToken"]


def _describe(client: Client, region: str, group: str, version: int) -> dict[str, Any]:
    package: dict[str, Any] = client.describe_model_package(ModelPackageName=version_arn(region, group, version))
    package.pop("ResponseMetadata", None)
    return package


def _gate(package: dict[str, Any]) -> dict[str, Any]:
    statuses = package.get("ModelPackageStatusDetails", {}).get("ValidationStatuses") or [{}]
    return {"Status": "NotStarted", **statuses[0]}


def _stage(status: str) -> str:
    return f"{STAGE_OF_STATUS[status].value} ({status})"


def _print_package(package: dict[str, Any]) -> None:
    card = json.loads(package.get("ModelCard", {}).get("ModelCardContent") or "{}")
    details = card.get("additional_information", {}).get("custom_details", {})
    training = json.loads(details.get("training_data") or "[]")
    metrics = []
    for evaluation in card.get("evaluation_details", []):
        data = [m for group in evaluation.get("metric_groups", []) for m in group["metric_data"]]
        metrics.append(f"{evaluation['name']}: " + ", ".join(f"{m['name']}={m['value']:.4g}" for m in data))
    gate = _gate(package)
    rows: list[tuple[str, str]] = [
        ("Arn", package["ModelPackageArn"]),
        ("Stage", _stage(package["ModelApprovalStatus"])),
        ("Gate", gate["Status"]),
        ("ApprovalDescription", package.get("ApprovalDescription", "")),
        ("Source", package.get("SourceUri", "")),
        ("Artifact", package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]),
        ("SHA-256", details.get("artifact_sha256", "")),
        ("TrainingDataSource", details.get("training_datasource", "")),
        *[("TrainingData", f"s3://{o['bucket']}/{o['key']} {o['etag']}") for o in training],
        *[("Metrics", line) for line in metrics],
        ("CreatedBy", package.get("CreatedBy", {}).get("IamIdentity", {}).get("PrincipalId", "")),
        ("Created", format_time(package["CreationTime"])),
    ]
    print_table(rows)


def _pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}; expected KEY=VALUE", param_hint="--metadata")
        found[key] = value
    return found


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r}; expected an ISO 8601 time, e.g. 2026-01-31T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _done(as_json: bool, data: dict[str, Any], message: str) -> None:
    if as_json:
        print_json(data)
    else:
        click.echo(message)
