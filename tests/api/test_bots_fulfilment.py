"""The sample bots' code hook (examples/bots/fulfilment) as the README deploys it: validation, a booking written
to the lake, and the HTTP route a web front end lists bookings through."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.api.function_tools import create_function
from tests.api.lex_bots import EXAMPLES, Chat, action, import_bot, said, slots
from tests.functions.wheels import make_zip
from tests.live_server import ALTO, LiveServer

pytestmark = pytest.mark.slow
FULFILMENT = EXAMPLES / "fulfilment"
POLICY = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::bookings", "arn:aws:s3:::bookings/*"],
        }
    ]
}


def alto(server: LiveServer, *args: str) -> str:
    done = subprocess.run(
        [ALTO, *args, "--data-dir", str(server.data_dir)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def hooked(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    server.client("s3").create_bucket(Bucket="bookings")
    code = make_zip({"app.py": (FULFILMENT / "app.py").read_text()})
    create_function(
        server.client("lambda"),
        "bookings",
        code,
        Timeout=10,
        Environment={"Variables": {"BOOKINGS_BUCKET": "bookings"}},
    )
    alto(server, "functions", "access", "set", "bookings", json.dumps(POLICY))
    text = (EXAMPLES / "booktrip.yaml").read_text().replace("bot: BookTrip", "bot: BookTripLive")
    path = Path(tmp_path_factory.mktemp("bots")) / "booktrip.yaml"
    path.write_text(text.replace("  en_US:\n", "  en_US:\n    code_hook: bookings\n"))
    return import_bot(server, path)


def test_a_booking_is_validated_written_to_the_lake_and_listed_on_the_route(server: LiveServer, hooked: str) -> None:
    chat = Chat(server.client("lexv2-runtime"), hooked)
    too_long = chat.say("reserve a king size room in Seattle for 45 nights starting tomorrow")
    assert action(too_long) == ("ElicitSlot", "Nights") and "1 to 30 nights" in said(too_long)
    assert action(chat.say("3")) == ("ConfirmIntent", None)
    done = chat.say("yes")
    assert done["sessionState"]["intent"]["state"] == "Fulfilled"
    reference = said(done).removeprefix("Booked: your reference is ").rstrip(".")
    s3 = server.client("s3")
    booking = json.loads(s3.get_object(Bucket="bookings", Key=f"BookHotel/{reference}.json")["Body"].read())
    assert booking["slots"] == slots(done) and booking["slots"]["Nights"] == "3"
    alto(server, "routes", "add", "GET", "/bookings", "--function", "bookings", "--public")
    with urllib.request.urlopen(f"{server.endpoint}/api/bookings", timeout=30) as answer:
        listed: list[dict[str, Any]] = json.loads(answer.read())
    assert reference in {b["id"] for b in listed}


def test_a_car_returned_before_it_is_picked_up_is_asked_again(server: LiveServer, hooked: str) -> None:
    chat = Chat(server.client("lexv2-runtime"), hooked)
    chat.say("I want to pick up a car in Denver on december 20 2027")
    back = chat.say("december 18 2027")
    assert action(back) == ("ElicitSlot", "ReturnDate") and "after you pick it up" in said(back)


def test_bookflight_through_the_same_hook(server: LiveServer, hooked: str, tmp_path: Path) -> None:
    text = (EXAMPLES / "bookflight.yaml").read_text().replace("bot: BookFlight", "bot: BookFlightLive")
    path = tmp_path / "bookflight.yaml"
    path.write_text(text.replace("  en_US:\n", "  en_US:\n    code_hook: bookings\n"))
    chat = Chat(server.client("lexv2-runtime"), import_bot(server, path))
    same = chat.say("I want to fly from Boston to Boston on december 20 2027")
    assert action(same) == ("ElicitSlot", "Destination") and "already there" in said(same)
    back = Chat(server.client("lexv2-runtime"), chat.bot_id)
    early = back.say("Fly me to Chicago on december 20 2027 returning december 18 2027")
    assert action(early) == ("ElicitSlot", "ReturnDate") and "after the departure" in said(early)
    assert action(back.say("december 27 2027")) == ("ElicitSlot", "Origin")
