"""`alto bots`: import and export bots as YAML, build their locales, and chat with them.

`import`, `export`, `list`, `status` and `missed` work on the data directory with the server's own wiring (a build
is a job the running server's workers pick up); `chat` talks to the server with boto3's `lexv2-runtime`.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import click

from altostratus.cli.options import data_dir_option, json_option, open_platform, with_service_client
from altostratus.cli.output import CommandFailed, print_json, print_table

Client = Any  # boto3 clients are built at run time and carry no static types
SETTLED = {"Built", "Failed"}


@click.group("bots")
def bots() -> None:
    """Conversational bots: intents, slots, dialog and fulfilment (Lex V2)."""


@bots.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--build/--no-build", default=True, show_default=True, help="Build every locale after importing.")
@click.option("--wait", is_flag=True, help="Wait until the running server has built every locale.")
@data_dir_option
def import_bot(file: Path, build: bool, wait: bool, data_dir: Path | None) -> None:
    """Store the bot FILE defines (replacing one of the same name) and build its locales."""
    from altostratus.bots.yaml_format import load_bot

    definition = load_bot(file.read_text(encoding="utf-8"))
    with open_platform(data_dir) as platform:
        wiring = platform.bots_wiring
        stored = wiring.store.put(definition)
        click.echo(f"{stored.definition.name}: bot id {stored.bot_id}")
        if not build:
            return
        for locale in definition.locales:
            status = wiring.builds.start(stored.bot_id, locale.locale_id)
            while wait and status.status not in SETTLED:
                time.sleep(0.5)
                status = wiring.builds.status(stored.bot_id, locale.locale_id)
            _show_status(locale.locale_id, status)


@bots.command("export")
@click.argument("bot")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not stdout.")
@data_dir_option
def export_bot(bot: str, output: Path | None, data_dir: Path | None) -> None:
    """The YAML of BOT (a name or id), which `alto bots import` reads back."""
    from altostratus.bots.yaml_format import dump_bot

    with open_platform(data_dir) as platform:
        text = dump_bot(platform.bots_wiring.store.find(bot).definition)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@bots.command("list")
@json_option
@data_dir_option
def list_bots(as_json: bool, data_dir: Path | None) -> None:
    """Every bot with its locales and their build status."""
    with open_platform(data_dir) as platform:
        wiring = platform.bots_wiring
        rows = [
            (
                stored.definition.name,
                stored.bot_id,
                locale.locale_id,
                wiring.builds.status(stored.bot_id, locale.locale_id),
            )
            for stored in wiring.store.list()
            for locale in stored.definition.locales
        ]
    if as_json:
        print_json([{"name": n, "botId": b, "localeId": loc, "status": s.status} for n, b, loc, s in rows])
    else:
        print_table([(n, b, loc, s.status) for n, b, loc, s in rows], ["BOT", "ID", "LOCALE", "STATUS"])


@bots.command("status")
@click.argument("bot")
@data_dir_option
def status(bot: str, data_dir: Path | None) -> None:
    """The build status of BOT's locales, with failure reasons and warnings."""
    with open_platform(data_dir) as platform:
        wiring = platform.bots_wiring
        stored = wiring.store.find(bot)
        for locale in stored.definition.locales:
            _show_status(locale.locale_id, wiring.builds.status(stored.bot_id, locale.locale_id))


@bots.command("missed")
@click.argument("bot")
@click.option("--day", help="Only this day's turns (YYYY-MM-DD, UTC); every day when not given.")
@json_option
@data_dir_option
def missed(bot: str, day: str | None, as_json: bool, data_dir: Path | None) -> None:
    """The utterances BOT's fallback intent answered (logged within the last 2 s may not be written yet)."""
    with open_platform(data_dir) as platform:
        wiring = platform.bots_wiring
        turns = wiring.log.missed(wiring.store.find(bot).bot_id, day)
    if as_json:
        print_json(turns)
        return
    rows = []
    for turn in turns:
        readings = turn.get("interpretations") or []
        best = next((r for r in readings if r["intent"] != turn["intent"]), None)
        guess = "" if best is None else f"{best['intent']} {best['confidence']:.2f}"
        rows.append((turn["timestamp"][:19], turn["sessionId"], turn["input"], guess))
    print_table(rows, ["TIME", "SESSION", "SAID", "NEAREST INTENT"])


@bots.command("chat")
@click.argument("bot_id")
@click.option("--alias", "alias_id", default="TSTALIASID", show_default=True, help="The bot alias.")
@click.option("--locale", "locale_id", default="en_US", show_default=True, help="The locale.")
@click.option("--session", "session_id", help="The session id (default: a new one).")
@click.option("--time-zone", help="The IANA time zone relative dates are read in (default UTC).")
@with_service_client("lexv2-runtime")
def chat(
    lex: Client, bot_id: str, alias_id: str, locale_id: str, session_id: str | None, time_zone: str | None
) -> None:
    """Talk to BOT_ID in the terminal; each turn shows how the bot read what you said. End with Ctrl-D."""
    session = session_id or uuid.uuid4().hex
    attributes = {"x-amz-lex:time-zone": time_zone} if time_zone else {}
    while True:
        try:
            text = click.prompt("you", prompt_suffix="> ")
        except (EOFError, click.Abort):
            click.echo()
            return
        answer = lex.recognize_text(
            botId=bot_id,
            botAliasId=alias_id,
            localeId=locale_id,
            sessionId=session,
            text=text,
            requestAttributes=attributes,
        )
        _show_turn(answer)


def _show_turn(answer: dict[str, Any]) -> None:
    for found in answer.get("interpretations", []):
        intent = found["intent"]
        score = found.get("nluConfidence", {}).get("score")
        slots = {k: v["value"]["interpretedValue"] for k, v in (intent.get("slots") or {}).items() if v}
        shown = "" if score is None else f" {score:.2f}"
        click.secho(f"  {intent['name']}{shown} {slots if slots else ''}".rstrip(), dim=True)
    state = answer.get("sessionState", {})
    action = state.get("dialogAction", {})
    intent = state.get("intent", {})
    click.secho(f"  [{action.get('type', '')} {action.get('slotToElicit', '')} {intent.get('state', '')}]", dim=True)
    for message in answer.get("messages", []):
        click.echo(f"bot> {message['content']}")


def _show_status(locale_id: str, status: Any) -> None:
    click.echo(f"  {locale_id}: {status.status}")
    for reason in status.failure_reasons:
        click.echo(f"    fault: {reason}")
    for warning in status.warnings:
        click.echo(f"    warning: {warning}")
    if status.status == "Failed":
        raise CommandFailed(f"the build of {locale_id} failed")
