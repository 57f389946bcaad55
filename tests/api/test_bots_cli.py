"""`alto bots` by hand: import, list, status, export and a chat in the terminal, against a live server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from altostratus.bots.yaml_format import load_bot
from tests.api.function_tools import eventually
from tests.api.lex_bots import EXAMPLES, import_bot
from tests.live_server import ALTO, LiveServer

pytestmark = pytest.mark.slow


def alto(server: LiveServer, *args: str, stdin: str | None = None, endpoint: bool = False) -> str:
    where = ["--data-dir", str(server.data_dir)] + (["--endpoint-url", server.endpoint] if endpoint else [])
    done = subprocess.run([ALTO, *args, *where], capture_output=True, text=True, input=stdin, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def bookflight(server: LiveServer) -> str:
    return import_bot(server, EXAMPLES / "bookflight.yaml")


def test_an_imported_bot_is_listed_as_built_and_exports_the_same_definition(
    server: LiveServer, bookflight: str, tmp_path: Path
) -> None:
    listed = json.loads(alto(server, "bots", "list", "--json"))
    assert {"name": "BookFlight", "botId": bookflight, "localeId": "en_US", "status": "Built"} in listed
    assert "en_US: Built" in alto(server, "bots", "status", "BookFlight")
    exported = tmp_path / "again.yaml"
    alto(server, "bots", "export", bookflight, "-o", str(exported))
    original = load_bot((EXAMPLES / "bookflight.yaml").read_text())
    assert load_bot(exported.read_text()) == original


def test_chat_holds_a_conversation_and_shows_each_turn_s_interpretations(server: LiveServer, bookflight: str) -> None:
    out = alto(server, "bots", "chat", bookflight, stdin="I want to book a flight\n", endpoint=True)
    assert "BookFlight" in out  # the interpretation, with its confidence
    assert "[ElicitSlot" in out and "bot> " in out


def test_a_definition_at_fault_is_refused_with_the_reason(server: LiveServer, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (EXAMPLES / "bookflight.yaml").read_text().replace("bot: BookFlight", "bot: Broken")
    broken.write_text(text.replace("type: AMAZON.City", "type: NoSuchType", 1))
    done = subprocess.run(
        [ALTO, "bots", "import", str(broken), "--wait", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Failed" in done.stdout and "NoSuchType" in done.stdout, done.stdout + done.stderr


def test_every_turn_is_logged_to_the_lake_and_missed_ones_are_listed(server: LiveServer, bookflight: str) -> None:
    lex = server.client("lexv2-runtime")
    for text in ("purple elephants sing quietly", "I want to book a flight"):
        lex.recognize_text(botId=bookflight, botAliasId="TSTALIASID", localeId="en_US", sessionId="logged", text=text)

    def missed() -> list[dict[str, object]]:
        found = json.loads(alto(server, "bots", "missed", bookflight, "--json"))
        return [turn for turn in found if turn["sessionId"] == "logged"]

    turns = eventually(missed, timeout=20, interval=0.5)
    assert [t["input"] for t in turns] == ["purple elephants sing quietly"]
    assert turns[0]["intent"] == "FallbackIntent" and turns[0]["interpretations"]
    s3 = server.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="alto-bot-logs", Prefix=f"{bookflight}/")["Contents"]]
    assert keys and all(k.endswith(".jsonl") and k.split("/")[1] == turns[0]["timestamp"][:10] for k in keys)
    lines = b"".join(s3.get_object(Bucket="alto-bot-logs", Key=k)["Body"].read() for k in keys).splitlines()
    logged = [json.loads(line) for line in lines if json.loads(line)["sessionId"] == "logged"]
    assert [t["input"] for t in logged] == ["purple elephants sing quietly", "I want to book a flight"]
    assert logged[1]["intent"] == "BookFlight" and logged[1]["dialogAction"] == "ElicitSlot" and logged[1]["messages"]
    table = alto(server, "bots", "missed", "BookFlight")
    assert "purple elephants sing quietly" in table
