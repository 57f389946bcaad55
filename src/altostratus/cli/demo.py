"""`alto demo`: the platform's whole story on Adult, run in this process, leaving its data dir to browse."""

from __future__ import annotations

import threading
from pathlib import Path

import click
import uvicorn

from altostratus.cli.options import credentials_path, load_settings, private_data_dir, read_credentials_file
from altostratus.cli.output import CommandFailed, print_json
from altostratus.cli.serve import gateway_server, gateway_sockets, listen
from altostratus.storage.serving_lock import take_serving_lock

ROOT = Path(__file__).resolve().parents[3]
ADULT = ROOT.parent / "shared" / "data" / "tabular" / "adult" / "adult-train.csv"
CLEANER = ROOT / "examples" / "csv_cleaner"


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo keeps everything [default: a `demo` folder in the usual data dir].",
)
@click.option(
    "--data",
    "data_path",
    type=click.Path(path_type=Path),
    default=ADULT,
    show_default=True,
    help="Adult's training CSV (adult-test.csv beside it gives the traffic); generated rows if absent.",
)
@click.option("--rows", type=click.IntRange(min=100), default=None, help="Train on only the first N rows.")
@click.option(
    "--traffic",
    type=click.IntRange(min=20),
    default=4000,
    show_default=True,
    help="Requests to simulate against the A/B endpoint.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of the report.")
def demo(data_dir: Path | None, data_path: Path, rows: int | None, traffic: int, as_json: bool) -> None:
    """Raw CSV to lake, cleaned, two models trained, gated, A/B-served, the winner promoted: a report."""
    from altostratus.app import build_platform, create_asgi_app
    from altostratus.demo import DemoOptions, format_report, result_dict, run_story

    base = load_settings()
    listener = listen("127.0.0.1", 0)
    port = int(listener.getsockname()[1])
    settings = load_settings(data_dir=data_dir or base.data_dir / "demo", host="127.0.0.1", port=port)
    private_data_dir(settings)
    lock = take_serving_lock(settings.data_dir)  # the demo serves its data directory as `alto serve` would
    platform = build_platform(settings)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        platform.keys.ensure_initial_key(credentials_path(settings))
        credentials = read_credentials_file(credentials_path(settings))
        if credentials is None:
            raise CommandFailed(f"no key in {credentials_path(settings)}; remove the file or pick another --data-dir")
        platform.start()
        server = gateway_server(settings, create_asgi_app(platform))
        sockets = gateway_sockets(platform, listener)
        thread = threading.Thread(target=server.run, args=(sockets,), name="alto-demo-server", daemon=True)
        thread.start()
        while not server.started and thread.is_alive():
            threading.Event().wait(0.05)
        if not as_json:
            click.echo(f"alto demo: platform on {settings.endpoint_url}, data dir {settings.data_dir} ...")
        options = DemoOptions(data=data_path, cleaner=CLEANER, rows=rows, traffic=traffic)
        result = run_story(
            platform, settings.endpoint_url, credentials.access_key_id, credentials.secret_access_key, options
        )
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        platform.close()
        listener.close()
        lock.release()
    if as_json:
        print_json(result_dict(result, settings.data_dir))
    else:
        click.echo(format_report(result, settings.data_dir))
    if not result.completed:
        raise CommandFailed(f"the pipeline run is {result.run.get('state')}: {result.run.get('message')}")
