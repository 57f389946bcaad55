"""Helpers for the Lex V2 runtime tests: bots imported into a live server, and one conversation's turns."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

from tests.functions.wheels import make_zip
from tests.live_server import ALTO, LiveServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "bots"

# A code hook in Lex V2's format: at most 30 nights (validated on each dialog turn), and a fulfilment that says
# where it booked. It raises when the user says "failing", and sleeps past its timeout when they say "slowly".
HOTEL_HOOK = make_zip(
    {
        "app.py": (
            "import time\n"
            "def value(intent, name):\n"
            "    slot = intent['slots'].get(name)\n"
            "    return slot and slot['value']['interpretedValue']\n"
            "def handler(event, context):\n"
            "    intent = event['sessionState']['intent']\n"
            "    where = value(intent, 'Location')\n"
            "    if 'slowly' in event['inputTranscript']:\n"
            "        time.sleep(5)\n"
            "    if 'failing' in event['inputTranscript']:\n"
            "        raise RuntimeError('the booking backend is down')\n"
            "    if event['invocationSource'] == 'DialogCodeHook':\n"
            "        nights = value(intent, 'Nights')\n"
            "        if nights and int(nights) > 30:\n"
            "            intent['slots']['Nights'] = None\n"
            "            return {'sessionState': {'dialogAction': {'type': 'ElicitSlot', 'slotToElicit': 'Nights'},\n"
            "                    'intent': intent},\n"
            "                    'messages': [{'contentType': 'PlainText',\n"
            "                    'content': 'You can stay at most 30 nights. How many nights?'}]}\n"
            "        return {'sessionState': {'dialogAction': {'type': 'Delegate'}, 'intent': intent}}\n"
            "    intent['state'] = 'Fulfilled'\n"
            "    return {'sessionState': {'dialogAction': {'type': 'Close'}, 'intent': intent},\n"
            "            'messages': [{'contentType': 'PlainText', 'content': f'Booked {where} from the hook.'}]}\n"
        )
    }
)


def import_bot(server: LiveServer, path: Path) -> str:
    """`alto bots import --wait` into the server's data directory: the bot id."""
    done = subprocess.run(
        [ALTO, "bots", "import", str(path), "--wait", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "Built" in done.stdout, done.stdout + done.stderr
    return done.stdout.split("bot id ")[1].split()[0]


class Chat:
    """One session with a bot through boto3's lexv2-runtime."""

    def __init__(self, lex: Any, bot_id: str, **attributes: str) -> None:
        self.lex, self.bot_id, self.session_id = lex, bot_id, uuid.uuid4().hex
        self.attributes = attributes

    def say(self, text: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.lex.recognize_text(
            botId=self.bot_id,
            botAliasId="TSTALIASID",
            localeId="en_US",
            sessionId=self.session_id,
            text=text,
            requestAttributes=self.attributes,
        )
        return answer


def action(answer: dict[str, Any]) -> tuple[str, str | None]:
    """The dialog action's type and the slot it elicits."""
    dialog = answer["sessionState"]["dialogAction"]
    return dialog["type"], dialog.get("slotToElicit")


def slots(answer: dict[str, Any]) -> dict[str, str]:
    """The session intent's filled slots by interpreted value."""
    found = answer["sessionState"]["intent"].get("slots") or {}
    return {name: slot["value"]["interpretedValue"] for name, slot in found.items() if slot}


def said(answer: dict[str, Any]) -> str:
    """What the bot said, its messages joined."""
    return " ".join(message["content"] for message in answer.get("messages", []))
