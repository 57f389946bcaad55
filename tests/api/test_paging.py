"""The one page-token codec: positions round-trip, and a token it did not write is refused naming the parameter."""

from __future__ import annotations

import base64

import pytest

from altostratus.api.paging import PageTokens
from altostratus.core.errors import ValidationError

TOKENS = PageTokens(ValidationError)


def test_an_offset_round_trips_and_no_next_page_has_no_token() -> None:
    page = TOKENS.next_page(200)
    assert list(page) == ["NextToken"] and TOKENS.offset(page["NextToken"]) == 200
    assert TOKENS.next_page(None) == {}
    assert TOKENS.offset(None) == 0


def test_a_position_of_several_names_round_trips() -> None:
    logs = PageTokens(ValidationError, parameter="nextToken", keys=frozenset({"id", "after", "skip"}))
    assert logs.decode(logs.encode({"after": None, "skip": 3})) == {"after": None, "skip": 3}
    assert logs.decode(None) == {}
    with pytest.raises(ValueError, match="offset"):
        logs.encode({"offset": 1})


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "100",
        base64.urlsafe_b64encode(b'{"offset": -1}').decode(),
        base64.urlsafe_b64encode(b'{"offset": true}').decode(),
        base64.urlsafe_b64encode(b'{"offset": 1e3}').decode(),
        base64.urlsafe_b64encode(b'{"offset": 99999999999999999999}').decode(),
        base64.urlsafe_b64encode(b'{"id": 1}').decode(),
        base64.urlsafe_b64encode(b"[1]").decode(),
    ],
)
def test_a_token_not_handed_out_is_refused_naming_the_parameter_and_value(token: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TOKENS.offset(token)
    assert caught.value.message == f"NextToken={token!r}; expected the NextToken of an earlier answer"
