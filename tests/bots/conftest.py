"""The BookTrip sample bot's NLU, trained once for the session (about 5 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from altostratus.bots.definitions import LocaleDefinition
from altostratus.bots.nlu.understanding import NluTrainer, Understanding
from altostratus.bots.yaml_format import load_bot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "bots"


@pytest.fixture(scope="session")
def booktrip() -> LocaleDefinition:
    """BookTrip's en_US locale, from examples/bots/booktrip.yaml."""
    locale = load_bot((EXAMPLES / "booktrip.yaml").read_text()).locale("en_US")
    assert locale is not None
    return locale


@pytest.fixture(scope="session")
def booktrip_nlu(booktrip: LocaleDefinition) -> Understanding:
    """BookTrip's trained NLU."""
    return NluTrainer().train(booktrip)
