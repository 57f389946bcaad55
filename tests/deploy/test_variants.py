"""Routing a request to a variant: by weight, by session (sticky), by target."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.hosting import Variant
from altostratus.deploy.variants import Routes


def routes(weights: dict[str, float], shadows: tuple[str, ...] = ()) -> Routes:
    variants = [Variant(name, f"m-{name}", f"arn:{name}", False, w, w) for name, w in weights.items()]
    variants += [Variant(name, f"m-{name}", f"arn:{name}", True, 1.0, 1.0) for name in shadows]
    return Routes.of("ep", variants)


def test_weighted_split_over_10000_requests_is_within_one_and_a_half_points() -> None:
    table = routes({"champion": 90, "challenger": 10})
    draw = random.Random(7).random
    counts = Counter(table.pick(draw=draw) for _ in range(10_000))
    assert abs(counts["champion"] / 10_000 - 0.90) <= 0.015
    assert abs(counts["challenger"] / 10_000 - 0.10) <= 0.015


def test_zero_weight_variant_is_never_drawn() -> None:
    table = routes({"a": 0, "b": 3, "c": 0})
    draw = random.Random(1).random
    assert {table.pick(draw=draw) for _ in range(2000)} == {"b"}
    assert table.pick(draw=lambda: 0.0) == "b"
    assert table.pick(draw=lambda: 0.9999999999999999) == "b"


def test_same_session_always_reaches_the_same_variant() -> None:
    table = routes({"a": 50, "b": 30, "c": 20})
    draw = random.Random(3).random
    for n in range(500):
        session = f"user-{n}"
        first = table.pick(session=session, draw=draw)
        assert all(table.pick(session=session, draw=draw) == first for _ in range(5))


def test_sessions_split_by_weight() -> None:
    table = routes({"champion": 90, "challenger": 10})
    counts = Counter(table.sticky(f"session-{n}") for n in range(10_000))
    assert abs(counts["challenger"] / 10_000 - 0.10) <= 0.015


def test_a_weight_step_moves_only_sessions_towards_the_variant_that_gained() -> None:
    before = routes({"champion": 90, "challenger": 10})
    after = routes({"champion": 80, "challenger": 20})
    sessions = [f"s{n}" for n in range(5000)]
    moved = [(before.sticky(s), after.sticky(s)) for s in sessions if before.sticky(s) != after.sticky(s)]
    assert all(pair == ("champion", "challenger") for pair in moved)
    assert 0.07 < len(moved) / len(sessions) < 0.13


def test_target_variant_wins_over_weight_and_session() -> None:
    table = routes({"a": 100, "b": 0})
    assert table.pick(target="b", session="x", draw=random.random) == "b"


@pytest.mark.parametrize(
    ("target", "message"),
    [("nope", "is not a variant of endpoint 'ep'; expected one of ['a', 'b']"), ("shadow", "is a shadow variant")],
)
def test_unknown_or_shadow_target_is_refused(target: str, message: str) -> None:
    table = routes({"a": 1, "b": 1}, shadows=("shadow",))
    with pytest.raises(InvalidValue, match=re.escape(message)):
        table.pick(target=target, draw=random.random)


def test_all_weights_zero_is_refused_unless_a_target_is_named() -> None:
    table = routes({"a": 0, "b": 0})
    with pytest.raises(InvalidValue, match="every production variant of endpoint 'ep' has weight 0"):
        table.pick(draw=random.random)
    assert table.pick(target="a", draw=random.random) == "a"
