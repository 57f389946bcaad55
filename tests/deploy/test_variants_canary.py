"""Canary rules: the challenger gains weight step by step, and loses it all on errors or a significant loss."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from altostratus.core.clock import SystemClock
from altostratus.deploy.canary import CanaryRules, CanaryState
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.serving import InvocationRequest, ModelFailed
from tests.deploy.hosting_harness import HostingHarness, records
from tests.deploy.test_variants_experiments import labelled_rows


@pytest.fixture(scope="module")
def hosting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostingHarness]:
    made = HostingHarness(tmp_path_factory.mktemp("canary"))
    yield made
    made.close()


def traffic(hosting: HostingHarness, endpoint: str, count: int, *, start: int = 0) -> int:
    """Send `count` requests (sessions spread them by weight); how many failed."""
    failed = 0
    for n, record in enumerate(records(count, seed=start), start):
        request = InvocationRequest(endpoint, json.dumps(record).encode(), inference_id=f"c{n}", session_id=f"s{n}")
        try:
            hosting.runtime.invoke(request)
        except ModelFailed:
            failed += 1
    hosting.recorder.flush()
    return failed


def weights(hosting: HostingHarness, endpoint: str) -> dict[str, float]:
    return {v.name: v.current_weight for v in hosting.service.get_endpoint(endpoint).production}


def test_canary_promotes_step_by_step(hosting: HostingHarness) -> None:
    hosting.endpoint("promote", {"champion": ("good", 100), "challenger": ("good", 0)})
    rules = CanaryRules("champion", "challenger", step=25, every_requests=20, min_requests=10)
    canary = hosting.canary.start("promote", rules, actor="alice")
    assert (canary.state, canary.share) == (CanaryState.RUNNING, 25)
    assert weights(hosting, "promote") == {"champion": 75, "challenger": 25}
    shares = []
    for step in range(10):
        traffic(hosting, "promote", 150, start=step * 150)
        hosting.canary.tick()
        current = hosting.canary.get("promote")
        assert current is not None
        shares.append(current.share)
        if current.state is CanaryState.PROMOTED:
            break
    assert shares == [50, 75, 100]
    assert weights(hosting, "promote") == {"champion": 0, "challenger": 100}
    trail = [(e.actor, e.action) for e in hosting.service.audit_trail("promote")]
    assert trail[-4:] == [
        ("alice", "canary-start"),
        ("canary", "canary-step"),
        ("canary", "canary-step"),
        ("canary", "canary-promoted"),
    ]
    assert "challenger requests" in hosting.service.audit_trail("promote")[-1].reason


def test_canary_rolls_back_on_injected_errors(hosting: HostingHarness) -> None:
    # `narrow` knows no `note` column: every record that has one is an error there.
    hosting.endpoint("faulty", {"champion": ("good", 100), "challenger": ("narrow", 0)})
    rules = CanaryRules("champion", "challenger", step=20, every_requests=1000, error_rate_above=0.05)
    hosting.canary.start("faulty", rules, actor="alice")
    failed = traffic(hosting, "faulty", 200)
    assert failed > 20
    moved = hosting.canary.tick()
    assert [c.state for c in moved] == [CanaryState.ROLLED_BACK]
    assert weights(hosting, "faulty") == {"champion": 100, "challenger": 0}
    last = hosting.service.audit_trail("faulty")[-1]
    assert (last.actor, last.action) == ("canary", "canary-rollback")
    assert "failed" in last.reason and "the limit is 5.0%" in last.reason
    assert hosting.canary.tick() == []


def test_canary_rolls_back_on_a_significant_loss(hosting: HostingHarness) -> None:
    hosting.endpoint("worse", {"champion": ("good", 100), "challenger": ("bad", 0)})
    rules = CanaryRules("champion", "challenger", step=50, every_requests=10_000)
    hosting.canary.start("worse", rules, actor="alice")
    truth = labelled_rows(500, seed=21)
    for n, (record, _) in enumerate(truth):
        hosting.runtime.invoke(InvocationRequest("worse", json.dumps(record).encode(), inference_id=f"w{n}"))
    hosting.recorder.flush()
    assert hosting.canary.tick() == []
    hosting.store.put_outcomes(
        "worse", [(f"w{n}", label) for n, (_, label) in enumerate(truth)], "test", SystemClock().now()
    )
    moved = hosting.canary.tick()
    assert [c.state for c in moved] == [CanaryState.ROLLED_BACK]
    assert "significantly worse than champion 'champion': accuracy" in moved[0].message
    assert "two-proportion z-test" in moved[0].message
    assert weights(hosting, "worse") == {"champion": 100, "challenger": 0}


def test_canary_rules_from_json_are_checked() -> None:
    rules = CanaryRules.from_mapping(
        {
            "champion": "A",
            "challenger": "B",
            "step": 10,
            "interval": {"requests": 500},
            "rollback_if": {"error_rate_above": 0.05, "significant_loss": True},
        }
    )
    assert CanaryRules.from_mapping(rules.to_mapping()) == rules
    with pytest.raises(InvalidValue, match="interval names neither requests nor seconds"):
        CanaryRules.from_mapping({"champion": "A", "challenger": "B"})
    with pytest.raises(InvalidValue, match=r"unknown keys \['speed'\]"):
        CanaryRules.from_mapping({"champion": "A", "challenger": "B", "speed": 3})
    with pytest.raises(InvalidValue, match="step=0"):
        CanaryRules("A", "B", step=0, every_seconds=5)
