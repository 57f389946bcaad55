"""How commands speak: tables for people, JSON for scripts, progress bars for long transfers, errors."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import click
from tqdm import tqdm

# Smaller transfers finish before a bar would tell anyone anything.
PROGRESS_MIN_BYTES = 8 * 1024**2

Cell = str | int


class CommandFailed(click.ClickException):
    """A command could not do its work; shown as `alto: <message>` with exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the message to stderr, without click's usage hint."""
        click.echo(f"alto: {self.format_message()}", err=True, file=file)


def print_json(data: object) -> None:
    """Print data as indented JSON; datetimes as ISO 8601."""
    click.echo(json.dumps(data, indent=2, default=_json_default))


def print_table(rows: Sequence[Sequence[Cell]], headers: Sequence[str] | None = None) -> None:
    """Print rows in aligned columns; whole numbers align right."""
    lines: list[Sequence[Cell]] = [*([headers] if headers else []), *rows]
    if not lines:
        return
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        cells = [
            str(cell).rjust(width) if isinstance(cell, int) else str(cell).ljust(width)
            for cell, width in zip(line, widths, strict=True)
        ]
        click.echo("  ".join(cells).rstrip())


def format_time(moment: dt.datetime) -> str:
    """A timestamp for tables: UTC, to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@contextmanager
def progress(total_bytes: int, label: str) -> Iterator[Callable[[int], object] | None]:
    """A byte-count callback driving a progress bar on stderr, or None when no bar is worth showing."""
    if total_bytes <= PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    with tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr) as bar:
        yield bar.update


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")
