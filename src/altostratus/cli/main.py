"""The `alto` command group, and the one place that turns errors into `alto: ...` messages."""

from __future__ import annotations

from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from altostratus.cli.endpoints import endpoints
from altostratus.cli.functions import functions
from altostratus.cli.keys import keys
from altostratus.cli.lake import lake
from altostratus.cli.output import CommandFailed
from altostratus.cli.predict import predict
from altostratus.cli.registry import registry
from altostratus.cli.routes import routes
from altostratus.cli.serve import serve
from altostratus.core.errors import AltoError


class AltoGroup(click.Group):
    """A command group that reports expected failures as one line, with no traceback."""

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


cli.add_command(serve)
cli.add_command(keys)
cli.add_command(lake)
cli.add_command(functions)
cli.add_command(routes)
cli.add_command(registry)
cli.add_command(endpoints)
cli.add_command(predict)


def main() -> None:
    """Entry point of the `alto` script."""
    cli(prog_name="alto")
