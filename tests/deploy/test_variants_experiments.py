"""Experiment statistics: tallies flushed and read back, outcomes joined by inference id, significance tests."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from scipy import stats

from altostratus.core.clock import SystemClock
from altostratus.deploy.canary import CanaryRules, CanaryState
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.experiment_records import ExperimentStore
from altostratus.deploy.experiments import ExperimentRecorder
from altostratus.deploy.outcomes import OutcomeFeed, parse_outcomes
from altostratus.deploy.serving import InvocationRequest, ModelFailed
from altostratus.deploy.significance import Sample, compare_means, compare_proportions, wilson
from altostratus.deploy.tallies import Tally, latency_bound, latency_bucket, value_bucket, value_range
from tests.deploy.hosting_harness import HostingHarness
from tests.predict.conftest import synthetic_csv


@pytest.fixture(scope="module")
def hosting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostingHarness]:
    made = HostingHarness(tmp_path_factory.mktemp("experiments"))
    yield made
    made.close()


class Bucket:
    """Objects in memory standing in for the lake's outcome bucket."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def objects(self, bucket: str) -> Iterator[tuple[str, str]]:
        for key, data in sorted(self.files.items()):
            yield key, f"etag-{hash(data)}"

    def read(self, bucket: str, key: str) -> bytes:
        return self.files[key]


def labelled_rows(count: int, seed: int) -> list[tuple[dict[str, str], str]]:
    """Records and their true labels, from the same process the models were trained on."""
    lines = synthetic_csv(count, seed=seed).splitlines()[1:]
    rows = []
    for line in lines:
        x, color, note, label = line.split(",")
        rows.append(({"x": x, "color": color, "note": note}, label))
    return rows


def test_tallies_count_latency_and_predictions() -> None:
    tally = Tally()
    for ms in (1.0, 2.0, 3.0, 100.0):
        tally.add(ms, ["1"])
    tally.add(5.0, None)
    assert (tally.requests, tally.errors, tally.labels) == (5, 1, {"1": 4})
    p50 = tally.percentile(0.5)
    assert p50 is not None and 3.0 <= p50 <= 3.0 * 1.05
    assert latency_bound(latency_bucket(7.3)) >= 7.3 > latency_bound(latency_bucket(7.3) - 1)
    values = Tally()
    for value in (-20.0, 0.1, 3.0, 3.1):
        values.add(1.0, [value])
    restored = Tally.from_parts(values.requests, values.errors, values.latency_ms_total, values.to_json())
    assert restored == values
    low, high = value_range(value_bucket(3.0))
    assert low <= 3.0 < high


def test_recorder_flushes_per_minute_rows_that_merge(tmp_path_factory: pytest.TempPathFactory) -> None:
    hosting = HostingHarness(tmp_path_factory.mktemp("flush"))
    try:
        recorder = ExperimentRecorder(ExperimentStore(hosting.metadata), SystemClock())
        for n in range(30):
            recorder.record("e", "a", shadow=False, inference_id=f"i{n}", outcomes=["1", "0"], latency_ms=1.5)
        assert recorder.flush() == 60
        recorder.record("e", "a", shadow=False, inference_id="late", outcomes=None, latency_ms=9.0)
        assert recorder.flush() == 1
        assert recorder.flush() == 0
        tally = hosting.store.totals("e")[("a", False)]
        assert (tally.requests, tally.errors, tally.labels) == (31, 1, {"1": 30, "0": 30})
    finally:
        hosting.close()


def test_outcomes_give_online_accuracy_with_interval_and_test(hosting: HostingHarness) -> None:
    endpoint = hosting.endpoint("ab", {"champion": ("good", 50), "challenger": ("bad", 50)})
    truth = labelled_rows(600, seed=11)
    for n, (record, _) in enumerate(truth):
        request = InvocationRequest("ab", json.dumps(record).encode(), inference_id=f"r{n}")
        hosting.runtime.invoke(request)
    hosting.recorder.flush()
    outcomes = "InferenceId,label\n" + "".join(f"r{n},{label}\n" for n, (_, label) in enumerate(truth))
    assert OutcomeFeed(hosting.store, Bucket(), SystemClock()).put("ab", outcomes, "test") == 600
    report = hosting.reports.report(endpoint).to_dict()
    assert report["champion"] == "champion"
    champion, challenger = report["variants"]
    assert champion["requests"] + challenger["requests"] == 600
    assert champion["online"]["metric"] == "accuracy" and champion["online"]["value"] > 0.8
    low, high = champion["online"]["interval"]
    assert low < champion["online"]["value"] < high
    versus = challenger["versus_champion"]
    assert versus["test"] == "two-proportion z-test"
    assert versus["significant"] and versus["worse"] and versus["p_value"] < 0.001
    assert versus["interval"][1] < 0
    assert set(champion["predictions"]["labels"]) <= {"0", "1"}
    assert champion["latency_ms"]["p50"] is not None


def test_outcome_files_in_the_lake_are_read_once_per_version(hosting: HostingHarness) -> None:
    hosting.endpoint("fed", {"only": ("good", 1)})
    truth = labelled_rows(40, seed=12)
    for n, (record, _) in enumerate(truth):
        hosting.runtime.invoke(InvocationRequest("fed", json.dumps(record).encode(), inference_id=f"f{n}"))
    hosting.recorder.flush()
    bucket = Bucket()
    feed = OutcomeFeed(hosting.store, bucket, SystemClock())
    bucket.files["fed/day1.csv"] = "".join(f"f{n},{label}\n" for n, (_, label) in enumerate(truth[:20])).encode()
    bucket.files["stray.csv"] = b"f1,1\n"
    bucket.files["fed/broken.csv"] = b"only-one-column\n"
    assert feed.poll() == 20
    assert feed.poll() == 0
    bucket.files["fed/day2.csv"] = "".join(f"f{n},{label}\n" for n, (_, label) in enumerate(truth[20:], 20)).encode()
    assert feed.poll() == 20
    online = hosting.reports.report(hosting.service.get_endpoint("fed")).variants[0].online
    assert online is not None and online.outcomes == 40


def test_regression_variants_compare_mean_absolute_error_by_welch(hosting: HostingHarness) -> None:
    endpoint = hosting.endpoint("reg", {"a": ("regression", 1), "b": ("regression", 1)})
    lines = synthetic_csv(200, seed=13, kind="regression").splitlines()[1:]
    outcomes = []
    for n, line in enumerate(lines):
        x, color, note, value = line.split(",")
        data = json.dumps({"x": x, "color": color, "note": note}).encode()
        for variant in ("a", "b"):
            hosting.runtime.invoke(InvocationRequest("reg", data, inference_id=f"{variant}{n}", target_variant=variant))
            outcomes.append((f"{variant}{n}", value))
    hosting.recorder.flush()
    hosting.store.put_outcomes("reg", outcomes, "test", SystemClock().now())
    report = hosting.reports.report(endpoint).to_dict()
    first, second = report["variants"]
    assert first["online"]["metric"] == "mean_absolute_error"
    assert first["predictions"]["values"]["count"] == first["requests"]
    assert second["versus_champion"]["test"] == "Welch's t-test"
    assert second["versus_champion"]["difference"] == pytest.approx(0.0, abs=1e-9)
    assert not second["versus_champion"]["significant"]


def test_outcome_csv_errors_name_the_line() -> None:
    assert parse_outcomes("inference_id,label\na,1\n\nb,0\n", "f.csv") == [("a", "1"), ("b", "0")]
    with pytest.raises(InvalidValue, match=r"f.csv line 2 is \['b'\]; expected InferenceId,label"):
        parse_outcomes("a,1\nb\n", "f.csv")


def test_significance_matches_textbook_values() -> None:
    interval = wilson(81, 263)
    assert interval.low == pytest.approx(0.2553, abs=1e-3) and interval.high == pytest.approx(0.3662, abs=1e-3)
    comparison = compare_proportions((90, 100), (75, 100))
    assert comparison is not None and comparison.test == "two-proportion z-test"
    table = [[90, 10], [75, 25]]
    chi2 = stats.chi2_contingency(table, correction=False)
    assert comparison.p_value == pytest.approx(chi2.pvalue, rel=1e-6)
    assert comparison.significant and comparison.difference == pytest.approx(-0.15)
    small = compare_proportions((3, 4), (1, 4))
    assert small is not None and small.test == "Fisher's exact test"
    assert small.p_value == pytest.approx(stats.fisher_exact([[3, 1], [1, 3]]).pvalue)
    a, b = [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    welch = compare_means(_sample(a), _sample(b))
    expected = stats.ttest_ind(b, a, equal_var=False)
    assert welch is not None and welch.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert compare_proportions((0, 0), (1, 2)) is None


def _sample(values: list[float]) -> Sample:
    return Sample.of_sums(len(values), math.fsum(values), math.fsum(v * v for v in values))


def test_endpoints_statistics_and_canary_on_every_backend(database_url: str, tmp_path: Path) -> None:
    hosting = HostingHarness(tmp_path, database_url)
    try:
        endpoint = hosting.endpoint("pg", {"A": ("good", 100), "B": ("narrow", 0)})
        hosting.canary.start("pg", CanaryRules("A", "B", step=50, every_requests=500, min_requests=5), actor="t")
        truth = labelled_rows(60, seed=51)
        for half in (truth[:30], truth[30:]):
            for n, (record, _) in enumerate(half):
                request = InvocationRequest("pg", json.dumps(record).encode(), inference_id=f"{record['x']}-{n}")
                with contextlib.suppress(ModelFailed):
                    hosting.runtime.invoke(request)
            hosting.recorder.flush()
        outcomes = [(f"{record['x']}-{n % 30}", label) for n, (record, label) in enumerate(truth)]
        hosting.store.put_outcomes("pg", outcomes, "test", SystemClock().now())
        report = hosting.reports.report(endpoint)
        a, b = report.variant("A"), report.variant("B")
        assert a is not None and b is not None
        assert a.tally.requests + b.tally.requests == 60 and b.tally.errors == b.tally.requests > 0
        assert a.online is not None and a.online.outcomes == a.tally.requests
        assert [c.state for c in hosting.canary.tick()] == [CanaryState.ROLLED_BACK]
        hosting.service.delete_endpoint("pg", actor="t")
        assert hosting.store.totals("pg") == {}
    finally:
        hosting.close()
