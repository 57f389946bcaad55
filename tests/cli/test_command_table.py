"""The `alto` command table: every entry loads, and listing commands imports none of them."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from altostratus.cli.main import COMMANDS, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_in_the_table_loads(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command)
    assert command.name == name


def test_help_imports_no_service() -> None:
    probe = (
        "import sys; from click.testing import CliRunner; from altostratus.cli.main import cli; "
        "result = CliRunner().invoke(cli, ['--help']); assert result.exit_code == 0, result.output; "
        "loaded = sorted(m for m in sys.modules if m.startswith(('sklearn', 'altostratus.predict', "
        "'altostratus.deploy', 'altostratus.functions', 'sqlalchemy'))); print(loaded)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
