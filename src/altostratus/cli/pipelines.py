"""`alto pipelines`: start pipeline runs from a YAML file and look at runs, working on the data directory.

A run's steps execute on the workers of `alto serve` for the same data directory (a run started while no
server runs waits for one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from altostratus.cli.options import data_dir_option, json_option, open_platform
from altostratus.cli.output import CommandFailed, format_time, print_json, print_table
from altostratus.pipelines import PipelineRuns, Run, parse


@click.group()
def pipelines() -> None:
    """Run pipeline files and inspect their runs (steps, lineage, logs)."""


@contextmanager
def open_runs(data_dir: Path | None) -> Iterator[PipelineRuns]:
    """The runs of the data directory (the platform built as the server builds it, nothing started)."""
    with open_platform(data_dir) as platform:
        yield platform.pipelines


@pipelines.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--wait", is_flag=True, help="Wait for the run to finish; exit 1 if it failed.")
@click.option("--timeout", type=float, default=3600, show_default=True, help="Seconds --wait waits at most.")
@data_dir_option
@json_option
def run_pipeline(file: Path, wait: bool, timeout: float, data_dir: Path | None, as_json: bool) -> None:
    """Start a run of the pipeline in FILE."""
    spec = parse(file.read_text())
    with open_runs(data_dir) as runs:
        run = runs.start(spec)
        if wait:
            run = runs.wait(run.run_id, timeout)
    show_run(run, as_json)
    if wait and run.state.value != "COMPLETED":
        raise CommandFailed(f"run {run.run_id} is {run.state.value}: {run.message}")


@pipelines.command("list")
@click.option("--pipeline", default=None, help="Only this pipeline's runs.")
@data_dir_option
@json_option
def list_runs(pipeline: str | None, data_dir: Path | None, as_json: bool) -> None:
    """Runs, newest first."""
    with open_runs(data_dir) as runs:
        found = runs.list(pipeline=pipeline)
    if as_json:
        print_json([run.to_dict(with_log=False) for run in found])
        return
    rows = [
        (
            r.run_id,
            r.pipeline,
            r.state.value,
            " ".join(f"{s.step}:{s.state.value}" for s in r.steps),
            format_time(r.created_at),
        )
        for r in found
    ]
    print_table(rows, ["RUN", "PIPELINE", "STATE", "STEPS", "STARTED"])


@pipelines.command("show")
@click.argument("run_id")
@data_dir_option
@json_option
def show(run_id: str, data_dir: Path | None, as_json: bool) -> None:
    """One run: its steps, their lineage, and its log."""
    with open_runs(data_dir) as runs:
        show_run(runs.get(run_id), as_json)


def show_run(run: Run, as_json: bool) -> None:
    """Print a run."""
    if as_json:
        print_json(run.to_dict())
        return
    click.echo(f"run {run.run_id} of pipeline {run.pipeline}: {run.state.value} {run.message}".rstrip())
    click.echo(f"  trigger: {run.trigger}")
    print_table(
        [(s.step, s.state.value, s.attempts, s.message) for s in run.steps], ["STEP", "STATE", "ATTEMPTS", "MESSAGE"]
    )
    for at, step, text in run.log:
        click.echo(f"  {format_time(at)} [{step}] {text}")
