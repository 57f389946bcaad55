"""A build's checks: faults name the intent, slot or slot type; duplicate utterances are warnings."""

from __future__ import annotations

from altostratus.bots.checks import check_locale
from altostratus.bots.yaml_format import load_bot


def findings(locale: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found = check_locale(load_bot(f"bot: B\nlocales:\n  en_US:\n{locale}").locales[0])
    return found.faults, found.warnings


def test_a_sound_locale_has_no_faults() -> None:
    faults, warnings = findings(
        """    intents:
      Greet: {utterances: [hello, hi there]}
      Book:
        utterances: ["book {Day}"]
        slots: [{name: Day, type: AMAZON.Date, prompt: "Which day?"}]
"""
    )
    assert faults == () and warnings == ()


def test_an_undefined_slot_type_is_named_with_its_intent_and_slot() -> None:
    faults, _ = findings(
        """    intents:
      Book:
        utterances: ["book a {Room} room"]
        slots: [{name: Room, type: RoomKind, prompt: "Which room?"}]
"""
    )
    assert faults == ("Intent Book, slot Room: slot type 'RoomKind' is not defined",)


def test_a_circular_parent_chain_is_a_fault() -> None:
    faults, _ = findings(
        """    slot_types:
      A: {parent: B, values: [x]}
      B: {parent: A, values: [y]}
    intents:
      Pick: {utterances: [pick]}
"""
    )
    assert "Slot type A: circular reference through A -> B -> A" in faults
    assert "Slot type B: circular reference through B -> A -> B" in faults


def test_placeholders_prompts_patterns_and_empty_types_are_checked() -> None:
    faults, _ = findings(
        """    slot_types:
      Empty: {}
      Code: {parent: AMAZON.AlphaNumeric, pattern: "[A-Z"}
    intents:
      Book:
        utterances: ["book {Day} for {Guests}"]
        slots: [{name: Day, type: AMAZON.Date}]
"""
    )
    assert "Slot type Empty: it has no values, no pattern and no parent type" in faults
    assert any(f.startswith("Slot type Code: its pattern '[A-Z' is not a regex") for f in faults)
    assert "Intent Book, slot Day: a required slot needs a prompt" in faults
    assert "Intent Book: utterance 'book {Day} for {Guests}' names slot {Guests}, which it lacks" in faults


def test_duplicate_utterances_across_intents_are_a_warning_not_a_fault() -> None:
    faults, warnings = findings(
        """    intents:
      BookHotel: {utterances: [Make a booking, book a hotel]}
      BookCar: {utterances: [make  a booking, book a car]}
"""
    )
    assert faults == ()
    assert warnings == (
        "Utterance 'make a booking' is in 2 intents (BookHotel, BookCar): the NLU cannot tell them apart by it",
    )


def test_a_locale_without_utterances_cannot_build() -> None:
    faults, _ = findings("    intents:\n      Fallback: {parent: AMAZON.FallbackIntent}\n")
    assert faults == ("Locale en_US: no intent has a sample utterance; add at least one",)


def test_a_pattern_longer_than_lex_allows_is_a_fault() -> None:
    from altostratus.bots.checks import check_locale
    from altostratus.bots.definitions import LocaleDefinition, SlotType

    found = check_locale(
        LocaleDefinition("en_US", slot_types=(SlotType("Code", pattern="a" * 301, parent="AMAZON.AlphaNumeric"),))
    )
    assert any("301 characters" in fault for fault in found.faults)
