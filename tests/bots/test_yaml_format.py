"""The YAML format of bots: the sample bots load, round-trip, and a bad file names the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from altostratus.bots.definitions import FALLBACK_PARENT, Resolution
from altostratus.bots.yaml_format import dump_bot, load_bot
from altostratus.core.errors import ValidationError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "bots"


@pytest.mark.parametrize("name", ["booktrip.yaml", "bookflight.yaml"])
def test_the_sample_bots_load_and_round_trip(name: str) -> None:
    bot = load_bot((EXAMPLES / name).read_text())
    assert load_bot(dump_bot(bot)) == bot


def test_booktrip_reads_as_written() -> None:
    bot = load_bot((EXAMPLES / "booktrip.yaml").read_text())
    locale = bot.locale("en_US")
    assert locale is not None and bot.idle_session_seconds == 300
    hotel = locale.intent("BookHotel")
    assert hotel is not None
    assert [slot.name for slot in hotel.slots] == ["Location", "CheckInDate", "Nights", "RoomType"]
    location = hotel.slot("Location")
    assert location is not None and location.prompt is not None
    prompts = [m.text for m in location.prompt.responses[0].choices()]
    assert prompts == ["What city will you be staying in?", "Which city?"]
    assert hotel.dialog_hook and hotel.fulfillment_hook
    assert [(c.name, c.turns, c.seconds) for c in hotel.output_contexts] == [("HotelBooked", 5, 600)]
    rooms = locale.slot_type("RoomType")
    assert rooms is not None and rooms.resolution is Resolution.TOP_RESOLUTION
    assert rooms.values[0].value == "king" and "big bed" in rooms.values[0].synonyms
    assert locale.fallback.parent == FALLBACK_PARENT and locale.fallback.closing is not None


def test_plain_string_values_and_ssml_messages() -> None:
    bot = load_bot(
        """
bot: Tiny
locales:
  en_US:
    slot_types:
      Colour: {values: [red, green]}
    intents:
      Pick:
        utterances: ["pick {Colour}"]
        slots: [{name: Colour, type: Colour, prompt: "<speak>Which colour?</speak>"}]
"""
    )
    locale = bot.locales[0]
    colour = locale.slot_type("Colour")
    assert colour is not None and [v.value for v in colour.values] == ["red", "green"]
    slot = locale.intents[0].slots[0]
    assert slot.prompt is not None and slot.prompt.responses[0].message.kind == "SSML"
    assert locale.fallback.is_fallback


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("bot: [a", "not YAML"),
        ("- a list", "the bot file must be a mapping"),
        ("locales: {}", "bot=None"),
        ("bot: B\nidle_session_seconds: 5", "idle_session_seconds=5"),
        ("bot: B\nlocales: {en_US: {confidence_threshold: 2}}", "locales.en_US.confidence_threshold=2"),
        ("bot: B\nlocales: {en_US: {slot_types: {T: {resolution: Best}}}}", "slot_types.T.resolution='Best'"),
        ("bot: B\nlocales: {en_US: {intents: {I: {slots: [{name: S}]}}}}", "slots.S.type=None"),
    ],
)
def test_a_bad_file_names_the_key_at_fault(text: str, named: str) -> None:
    with pytest.raises(ValidationError, match=named.replace("[", r"\[").replace(".", r"\.")):
        load_bot(text)
