"""The `alto` command group, and the one place that turns errors into `alto: ...` messages."""

from __future__ import annotations

import importlib
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from altostratus.cli.output import CommandFailed
from altostratus.core.errors import AltoError

# Each command's module, attribute and one-line help. A command's module is imported only when that command
# runs, so `alto lake ls` does not load scikit-learn, and `alto --help` loads nothing at all.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("altostratus.cli.serve:serve", "Run the platform: the AWS-compatible gateway and the workers."),
    "keys": ("altostratus.cli.keys:keys", "Create, list and delete access keys."),
    "users": ("altostratus.cli.users:users", "Create, list and delete users, who own buckets and keys."),
    "lake": ("altostratus.cli.lake:lake", "Buckets and objects, on the server at --endpoint-url."),
    "functions": ("altostratus.cli.functions:functions", "Functions: Python handlers run on the server."),
    "routes": ("altostratus.cli.routes:routes", "Route HTTP requests under /api/ to functions."),
    "predict": ("altostratus.cli.predict:predict", "Numbers and classes from history data (Amazon ML)."),
    "registry": ("altostratus.cli.registry:registry", "The model registry: versions, the gate, rollback."),
    "endpoints": ("altostratus.cli.endpoints:endpoints", "SageMaker endpoints: variants, statistics, canary."),
    "pipelines": ("altostratus.cli.pipelines:pipelines", "Pipelines: lake data to an A/B-tested endpoint."),
    "vision": ("altostratus.cli.vision:vision", "Faces, comparisons, labels, text, face collections (Rekognition)."),
    "speak": ("altostratus.cli.speech:speak", "Text to speech: audio or speech marks (Polly)."),
    "voices": ("altostratus.cli.speech:voices", "The voices text to speech speaks with (Polly)."),
    "bots": ("altostratus.cli.bots:bots", "Bots: intents, slots, dialog and fulfilment (Lex V2)."),
    "dl": ("altostratus.cli.dl:dl", "Image classifiers trained, compared, exported and run (deep learning)."),
    "demo": ("altostratus.cli.demo:demo", "The whole story on Adult: lake, clean, train, gate, A/B, promote."),
}


class AltoGroup(click.Group):
    """A command group that loads its commands on demand and reports expected failures as one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name."""
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """The command, its module imported now."""
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        module, _, attribute = COMMANDS[name][0].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `alto --help`, from the table (no module is imported)."""
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; errors from the platform or the server become CommandFailed."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except AltoError as exc:
            raise CommandFailed(f"{exc.code}: {exc.message}") from exc
        except ClientError as exc:
            raise CommandFailed(describe_client_error(exc)) from exc
        except EndpointConnectionError as exc:
            raise CommandFailed(f"cannot reach {exc.kwargs.get('endpoint_url')}: is `alto serve` running?") from None
        except NoCredentialsError as exc:
            raise CommandFailed(f"{exc}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from exc
        except BotoCoreError as exc:
            raise CommandFailed(str(exc)) from exc
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise CommandFailed(f"{exc.strerror or exc}{where}") from exc
        except Exception as exc:
            # boto3's transfer manager wraps the server's answer (S3UploadFailedError); show that answer.
            cause = _client_error_behind(exc)
            if cause is None:
                raise
            raise CommandFailed(describe_client_error(cause)) from exc


def describe_client_error(exc: ClientError) -> str:
    """`<Code>: <Message>` from an error the server sent."""
    error = exc.response.get("Error", {})
    code = error.get("Code") or "Error"
    message = error.get("Message") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    return f"{code}: {message}"


def _client_error_behind(exc: BaseException) -> ClientError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ClientError):
            return seen
        seen = seen.__cause__ if seen.__cause__ or seen.__suppress_context__ else seen.__context__
    return None


@click.group(cls=AltoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="altostratus", prog_name="alto")
def cli() -> None:
    """Altostratus: AI services that speak the AWS APIs, running on this machine.

    Commands that print data take --json to print machine-readable JSON instead of a table.
    """


def main() -> None:
    """Entry point of the `alto` script."""
    cli(prog_name="alto")
