"""`alto functions`: deploy, list, inspect, invoke and delete functions, and read their logs, over the Lambda API.

Like `alto lake`, every command talks to a server (local or remote) through boto3: the `lambda` client for
functions and the `logs` client (CloudWatch Logs, log group /aws/lambda/NAME) for invocation logs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from altostratus.cli.function_access import access
from altostratus.cli.options import json_option, service_client
from altostratus.cli.options import with_clients as with_clients_of
from altostratus.cli.output import CommandFailed, format_time, print_json, print_table
from altostratus.core.waiting import wait_for
from altostratus.functions.definitions import DEFAULT_MEMORY, DEFAULT_TIMEOUT, RUNTIME
from altostratus.functions.names import parse_ref
from altostratus.functions.packaging import zip_folder

Client = Any  # boto3 clients are built at run time and carry no static types
DEFAULT_ROLE = "arn:aws:iam::000000000000:role/alto-function"
POLL_SECONDS = 0.5
# A function may run for 900 s; the read timeout leaves room for that and the answer.
READ_TIMEOUT = 960


def make_clients(endpoint_url: str | None, data_dir: Path | None) -> tuple[Client, Client]:
    """boto3 `lambda` and `logs` clients for the server at endpoint_url (default: the one settings describe)."""
    # One attempt: retrying an Invoke would run the function twice.
    return (
        service_client("lambda", endpoint_url, data_dir, retries=1, read_timeout=READ_TIMEOUT),
        service_client("logs", endpoint_url, data_dir, retries=1, read_timeout=READ_TIMEOUT),
    )


with_clients = with_clients_of(lambda endpoint_url, data_dir: make_clients(endpoint_url, data_dir))


def parse_environment(pairs: tuple[str, ...]) -> dict[str, str]:
    """{K: V} from K=V arguments."""
    variables = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}; expected NAME=VALUE", param_hint="--env")
        variables[name] = value
    return variables


def read_code(path: Path) -> bytes:
    """A zip's bytes: the file itself, or the folder zipped."""
    if path.is_dir():
        return zip_folder(path)
    if path.suffix.lower() != ".zip":
        raise click.BadParameter(f"{str(path)!r} is neither a folder nor a .zip file", param_hint="PATH")
    return path.read_bytes()


@click.group()
def functions() -> None:
    """Functions: Python handlers run on the server at --endpoint-url."""


@functions.command("deploy")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--handler", required=True, help="MODULE.FUNCTION, such as app.handler.")
@click.option("--runtime", default=RUNTIME, show_default=True, help="The Python runtime name.")
@click.option("--timeout", type=int, default=None, help=f"Seconds, 1 to 900 [default on create: {DEFAULT_TIMEOUT}].")
@click.option("--memory", type=int, default=None, help=f"MB, 128 to 10240 [default on create: {DEFAULT_MEMORY}].")
@click.option("--env", "env", multiple=True, metavar="NAME=VALUE", help="An environment variable (repeatable).")
@click.option("--role", default=None, help=f"The role ARN (recorded, not enforced) [default: {DEFAULT_ROLE}].")
@click.option("--description", default=None, help="What the function does.")
@click.option("--publish", is_flag=True, help="Also publish the deployed code and settings as a new version.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait while requirements install.")
@json_option
@with_clients
def deploy(
    lam: Client,
    logs: Client,
    name: str,
    path: Path,
    handler: str,
    runtime: str,
    timeout: int | None,
    memory: int | None,
    env: tuple[str, ...],
    role: str | None,
    description: str | None,
    publish: bool,
    wait: bool,
    as_json: bool,
) -> None:
    """Create the function NAME from PATH (a folder or a .zip), or update its code and settings."""
    code = read_code(path)
    settings = {
        "Handler": handler,
        "Runtime": runtime,
        "Timeout": timeout,
        "MemorySize": memory,
        "Role": role,
        "Description": description,
        "Environment": {"Variables": parse_environment(env)} if env else None,
    }
    given = {k: v for k, v in settings.items() if v is not None}
    if _exists(lam, name):
        config = lam.update_function_code(FunctionName=name, ZipFile=code)
        config = lam.update_function_configuration(FunctionName=name, **given)
        action = "updated"
    else:
        config = lam.create_function(FunctionName=name, Code={"ZipFile": code}, **{"Role": DEFAULT_ROLE, **given})
        action = "created"
    if wait:
        config = wait_while_pending(lam, name)
    if publish:
        config = lam.publish_version(FunctionName=name)
    config.pop("ResponseMetadata", None)
    if as_json:
        print_json(config)
    else:
        click.echo(f"{action}: {config['FunctionArn']} ({config['State']}, {config['CodeSize']} bytes)")
    if config["State"] == "Failed":
        raise CommandFailed(f"{name} is Failed: {config.get('StateReason', '')}")


def _exists(lam: Client, name: str) -> bool:
    try:
        lam.get_function_configuration(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        return False
    return True


def wait_while_pending(lam: Client, name: str, *, timeout: float = 1800) -> dict[str, Any]:
    """Poll the function until it is no longer Pending (its requirements.txt is installing); its configuration."""
    started = time.monotonic()
    config: dict[str, Any] = lam.get_function_configuration(FunctionName=name)
    if config["State"] == "Pending":
        click.echo(f"waiting: {name} is Pending while its requirements.txt installs...", err=True)
        config = wait_for(
            lambda: lam.get_function_configuration(FunctionName=name),
            lambda c: c["State"] != "Pending",
            timeout=timeout,
            interval=POLL_SECONDS,
            on_timeout=lambda _: CommandFailed(f"{name} is still Pending after {timeout:g} s"),
        )
    if time.monotonic() - started > POLL_SECONDS:
        click.echo(f"{name} is {config['State']} after {time.monotonic() - started:.1f} s", err=True)
    return config


@functions.command("list")
@json_option
@with_clients
def list_functions(lam: Client, logs: Client, as_json: bool) -> None:
    """List the functions."""
    found = [f for page in lam.get_paginator("list_functions").paginate() for f in page.get("Functions", [])]
    if as_json:
        print_json({"Functions": found})
        return
    rows = [
        (f["FunctionName"], f["Runtime"], f["Handler"], f["MemorySize"], f["Timeout"], f["State"], f["LastModified"])
        for f in found
    ]
    print_table(rows, headers=("Name", "Runtime", "Handler", "MemoryMB", "TimeoutS", "State", "LastModified"))


@functions.command("get")
@click.argument("name")
@json_option
@with_clients
def get_function(lam: Client, logs: Client, name: str, as_json: bool) -> None:
    """Show a function's configuration (NAME may be NAME:QUALIFIER or an ARN)."""
    config = lam.get_function(FunctionName=name)["Configuration"]
    if as_json:
        print_json(config)
        return
    shown = ("FunctionArn", "Runtime", "Handler", "CodeSize", "CodeSha256", "Timeout", "MemorySize", "Version")
    rows: list[tuple[str, str | int]] = [(key, config[key]) for key in shown]
    rows += [("State", config["State"] + (f" ({config['StateReason']})" if config.get("StateReason") else ""))]
    rows += [("LastModified", config["LastModified"])]
    rows += [(f"env {k}", v) for k, v in sorted(config.get("Environment", {}).get("Variables", {}).items())]
    print_table(rows)


@functions.command("delete")
@click.argument("name")
@json_option
@with_clients
def delete_function(lam: Client, logs: Client, name: str, as_json: bool) -> None:
    """Delete a function (NAME:VERSION deletes one version)."""
    ref = parse_ref(name)
    lam.delete_function(FunctionName=ref.name, **({"Qualifier": ref.qualifier} if ref.qualifier else {}))
    if as_json:
        print_json({"Deleted": name})
    else:
        click.echo(f"delete: {name}")


@functions.command("invoke")
@click.argument("name")
@click.option("--payload", default="{}", show_default=True, help="The event as JSON, or @FILE to read it from a file.")
@click.option("--log", "show_log", is_flag=True, help="Print the end of the invocation's log to stderr.")
@json_option
@with_clients
def invoke(lam: Client, logs: Client, name: str, payload: str, show_log: bool, as_json: bool) -> None:
    """Run a function on an event and print what it returned (NAME may be NAME:QUALIFIER)."""
    body = Path(payload[1:]).read_bytes() if payload.startswith("@") else payload.encode()
    answer = lam.invoke(FunctionName=name, Payload=body, LogType="Tail")
    returned = answer["Payload"].read()
    log_text = base64.b64decode(answer.get("LogResult", "")).decode("utf-8", "replace")
    error = answer.get("FunctionError")
    if as_json:
        print_json(
            {
                "StatusCode": answer["StatusCode"],
                "ExecutedVersion": answer.get("ExecutedVersion"),
                "FunctionError": error,
                "Payload": _as_json(returned),
                "LogResult": log_text,
            }
        )
    else:
        click.echo(returned.decode("utf-8", "replace"))
    if show_log:
        click.echo(log_text, err=True, nl=False)
    if error:
        document = _as_json(returned)
        if isinstance(document, dict):
            document = f"{document.get('errorType')}: {document.get('errorMessage')}"
        raise CommandFailed(f"{error} error: {document}")


def _as_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return data.decode("utf-8", "replace")


@functions.command("logs")
@click.argument("name")
@click.option("--limit", type=click.IntRange(1, 50), default=10, show_default=True, help="How many invocations.")
@json_option
@with_clients
def show_logs(lam: Client, logs: Client, name: str, limit: int, as_json: bool) -> None:
    """Show the logs of a function's latest invocations, newest first."""
    group = f"/aws/lambda/{name}"
    streams = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True, limit=limit)[
        "logStreams"
    ]
    lines: dict[str, list[str]] = {s["logStreamName"]: [] for s in streams}
    if streams:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, logStreamNames=list(lines))
        for page in pages:
            for event in page["events"]:
                lines[event["logStreamName"]].append(event["message"])
    invocations = [invocation_summary(s, lines[s["logStreamName"]]) for s in streams]
    if as_json:
        print_json({"Invocations": invocations})
        return
    for item in invocations:
        report = item["Report"]
        status = f"  Status: {report['Status']}" if "Status" in report else ""
        duration = report.get("Duration", "?")
        click.echo(f"=== {item['Started']}  {item['Version']}  {item['RequestId']}  {duration}{status}")
        click.echo("".join(item["Log"]), nl=False)


def invocation_summary(stream: Mapping[str, Any], messages: list[str]) -> dict[str, Any]:
    """One invocation from its log stream: request id, version, start, REPORT fields, and log lines."""
    name = stream["logStreamName"]
    version = name[name.index("[") + 1 : name.rindex("]")]
    report_line = next((m for m in messages if m.startswith("REPORT RequestId:")), "")
    report = dict(field.split(": ", 1) for field in report_line.strip().split("\t") if ": " in field)
    report.pop("REPORT RequestId", None)
    started = format_time(_from_millis(stream["firstEventTimestamp"]))
    return {
        "RequestId": name.rsplit("]", 1)[-1],
        "Version": version,
        "Started": started,
        "ColdStart": "Init Duration" in report,
        "Report": report,
        "Log": messages,
    }


def _from_millis(millis: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC)


functions.add_command(access)
