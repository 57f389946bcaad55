"""The gate's rules on their own: policies, verdicts, metric names, and the production timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.gates import (
    Evidence,
    GatePolicy,
    judge,
    metric_values,
    metrics_from_document,
    primary_metric,
)
from altostratus.deploy.registry_names import parse_group, parse_version
from altostratus.deploy.stages import Event, EventKind, ProdInterval, Stage, prod_at, prod_timeline

POLICY = GatePolicy.from_mapping({"metric": "auc", "min": 0.85, "max_drop_from_champion": 0.002, "min_rows": 1000})


def evidence(
    version: int, auc: float | None, records: int | None = 2000, kind: str | None = None, **values: float
) -> Evidence:
    found = {**({"auc": auc} if auc is not None else {}), **values}
    artifact = f"s3://alto-model-store/g/{version}/artifact"
    return Evidence(version, found, records, "test", artifact, "0" * 64, primary_metric({"model_type": kind}))


def test_a_candidate_within_the_drop_and_above_the_minimum_passes() -> None:
    report = judge(POLICY, evidence(2, 0.9005), evidence(1, 0.9020))
    assert report.passed and report.reasons == []
    assert [check.name for check in report.checks] == ["min", "max_drop_from_champion", "min_rows"]
    assert report.summary().startswith("Promoted by the gate: auc 0.9005 is at least the minimum 0.85")


def test_a_worse_candidate_is_refused_with_every_reason() -> None:
    report = judge(POLICY, evidence(2, 0.80, records=500), evidence(1, 0.95))
    assert not report.passed
    assert report.reasons == [
        "auc 0.8000 is below the minimum 0.85",
        "auc 0.8000 vs the champion's (version 1) 0.9500: 0.1500 below, more than the allowed 0.002",
        "evaluated on 500 rows; the policy needs at least 1000",
    ]
    assert report.to_dict()["champion"]["values"] == {"auc": 0.95}


def test_without_a_champion_only_the_absolute_rules_apply() -> None:
    report = judge(POLICY, evidence(1, 0.86), None)
    assert report.passed
    assert "no champion" in report.checks[1].message


def test_lower_is_better_for_rmse() -> None:
    policy = GatePolicy.from_mapping({"metric": "rmse", "max": 2.0, "max_drop_from_champion": 0.1})
    assert judge(policy, evidence(2, None, rmse=1.05), evidence(1, None, rmse=1.0)).passed
    refused = judge(policy, evidence(2, None, rmse=1.5), evidence(1, None, rmse=1.0))
    assert refused.reasons == [
        "rmse 1.5000 vs the champion's (version 1) 1.0000: 0.5000 above, more than the allowed 0.1"
    ]


def test_a_missing_metric_refuses() -> None:
    report = judge(POLICY, evidence(2, None, accuracy=0.9), evidence(1, 0.9))
    assert not report.passed and "version 2 has no auc" in report.reasons[0]


def test_the_empty_policy_lets_the_first_candidate_through() -> None:
    report = judge(GatePolicy(), evidence(1, None, records=None), None)
    assert report.passed
    assert report.checks[0].message == "no version in production: the first candidate passes"


def test_the_empty_policy_refuses_a_candidate_worse_than_the_champion_on_its_kinds_metric() -> None:
    # A BINARY predict model is judged on auc, whatever else it has: its accuracy is better here.
    worse = judge(GatePolicy(), evidence(2, 0.80, kind="BINARY", accuracy=0.99), evidence(1, 0.81, accuracy=0.7))
    assert not worse.passed
    assert worse.reasons == [
        "auc 0.8000 vs the champion's (version 1) 0.8100: 0.0100 below, more than the default allowance of 0"
    ]
    assert judge(GatePolicy(), evidence(2, 0.81, kind="BINARY"), evidence(1, 0.81)).passed  # no worse
    better = judge(GatePolicy(), evidence(2, 0.85, kind="BINARY"), evidence(1, 0.81))
    assert better.passed and better.checks[0].message.endswith("0.0400 better, within the default allowance of 0")
    # A regression model is judged on rmse, where lower is better.
    assert judge(GatePolicy(), evidence(2, None, kind="REGRESSION", rmse=0.9), evidence(1, None, rmse=1.0)).passed
    regressed = judge(GatePolicy(), evidence(2, None, kind="REGRESSION", rmse=1.1), evidence(1, None, rmse=1.0))
    assert regressed.reasons[0].startswith("rmse 1.1000 vs the champion's (version 1) 1.0000: 0.1000 above")
    # A multiclass model is judged on macro_f1, even beside a champion's better-looking auc.
    multiclass = judge(GatePolicy(), evidence(2, 0.99, kind="MULTICLASS", macro_f1=0.5), evidence(1, 0.5, macro_f1=0.6))
    assert multiclass.reasons[0].startswith("macro_f1 0.5000 vs the champion's (version 1) 0.6000: 0.1000 below")


def test_the_empty_policy_compares_other_artifacts_on_the_first_metric_both_have() -> None:
    # Not predict models (no kind): auc comes before accuracy in the gate's list of metrics.
    refused = judge(GatePolicy(), evidence(2, 0.7, accuracy=0.95), evidence(1, 0.9, accuracy=0.8))
    assert [check.name for check in refused.checks] == ["max_drop_from_champion"] and not refused.passed
    assert judge(GatePolicy(), evidence(2, None, accuracy=0.95), evidence(1, 0.9, accuracy=0.8)).passed
    unknown = judge(GatePolicy(), evidence(2, None, loss=0.1), evidence(1, None, loss=0.2))
    assert not unknown.passed and unknown.reasons[0].startswith(
        "no metric to compare version 2 with the champion (version 1): the policy names none"
    )


def test_missing_metrics_refuse_with_the_reason() -> None:
    bare = judge(GatePolicy(), evidence(2, None, kind="BINARY"), evidence(1, 0.9))
    assert bare.reasons == [
        "version 2 has no metrics to judge its auc by (test): evaluate it before registering it, register it "
        "with ModelMetrics, or name an evaluation_datasource in the policy"
    ]
    champion = judge(GatePolicy(), evidence(2, 0.9, kind="BINARY"), evidence(1, None, accuracy=0.9))
    assert champion.reasons == ["the champion (version 1) has no auc to compare"]


def test_a_policy_with_a_metric_still_refuses_what_is_worse_than_the_champion() -> None:
    policy = GatePolicy.from_mapping({"metric": "accuracy", "min": 0.5})
    report = judge(policy, evidence(2, 0.99, accuracy=0.7), evidence(1, 0.5, accuracy=0.75))
    assert [(check.name, check.passed) for check in report.checks] == [("min", True), ("max_drop_from_champion", False)]


def test_compare_with_champion_false_turns_the_comparison_off() -> None:
    policy = GatePolicy.from_mapping({"compare_with_champion": False})
    report = judge(policy, evidence(2, 0.1, kind="BINARY"), evidence(1, 0.99))
    assert report.passed
    assert report.checks[0].message == "the policy turns off the comparison with the champion: every promotion passes"
    floor = GatePolicy.from_mapping({"metric": "auc", "min": 0.05, "compare_with_champion": False})
    assert [check.name for check in judge(floor, evidence(2, 0.1), evidence(1, 0.99)).checks] == ["min"]


@pytest.mark.parametrize(
    ("answer", "passed", "message"),
    [
        ({"pass": True, "reasons": ["fair on every group"]}, True, "function 'fair' passed: fair on every group"),
        ({"pass": False, "reasons": ["biased", "slow"]}, False, "function 'fair' refused: biased; slow"),
        ({"verdict": "yes"}, False, "function 'fair' answered {'verdict': 'yes'}; expected"),
    ],
)
def test_a_custom_function_check(answer: Any, passed: bool, message: str) -> None:
    seen: list[Any] = []

    def custom(name: str, event: Any) -> Any:
        seen.append((name, event))
        return answer

    policy = GatePolicy(function="fair", compare_with_champion=False)
    report = judge(policy, evidence(2, 0.9), evidence(1, 0.91), custom=custom)
    assert report.passed is passed and report.checks[-1].message.startswith(message)
    name, event = seen[0]
    assert name == "fair" and event["candidate"]["values"] == {"auc": 0.9}
    assert event["champion"]["artifact"] == "s3://alto-model-store/g/1/artifact"


def test_a_custom_function_that_fails_refuses() -> None:
    def broken(name: str, event: Any) -> Any:
        raise RuntimeError("Unhandled: boom")

    report = judge(GatePolicy(function="fair"), evidence(2, 0.9), None, custom=broken)
    assert report.reasons == ["function 'fair' could not run: Unhandled: boom"]
    assert judge(GatePolicy(function="fair"), evidence(2, 0.9), None).reasons == [
        "the policy names function 'fair' but this server runs no functions"
    ]


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"metric": "auc", "minimum": 0.8}, "policy fields ['minimum'] are unknown"),
        ({"metric": "loss"}, "policy metric='loss'; expected one of"),
        ({"min": 0.8}, "without a metric"),
        ({"metric": "auc", "min": "high"}, "policy min='high'; expected a number"),
        ({"min_rows": 10.5}, "policy min_rows=10.5; expected a whole number"),
        ({"metric": "auc", "max_drop_from_champion": -1}, "expected >= 0"),
        ([1, 2], "expected a JSON object"),
        ({"compare_with_champion": "no"}, "policy compare_with_champion='no'; expected true or false"),
        (
            {"metric": "auc", "max_drop_from_champion": 0.1, "compare_with_champion": False},
            "max_drop_from_champion with compare_with_champion=false",
        ),
    ],
)
def test_bad_policies_name_the_field(policy: Any, message: str) -> None:
    with pytest.raises(InvalidValue, match=message.replace("[", r"\[").replace("]", r"\]")):
        GatePolicy.from_mapping(policy)


def test_policy_json_round_trip() -> None:
    text = '{"metric": "auc", "min": 0.85, "evaluation_datasource": "holdout", "function": "fair"}'
    policy = GatePolicy.from_json(text)
    assert policy.to_dict() == {"metric": "auc", "min": 0.85, "evaluation_datasource": "holdout", "function": "fair"}
    with pytest.raises(InvalidValue, match="not valid JSON"):
        GatePolicy.from_json("{")


def test_metric_names() -> None:
    evaluation = {"metric": "BinaryAUC", "value": 0.91, "records": 300, "details": {"accuracy": 0.8, "roc_curve": []}}
    assert metric_values(evaluation) == {"auc": 0.91, "accuracy": 0.8}
    assert metric_values({"metric": "RegressionRMSE", "value": 1.5, "details": {"mae": 1.1, "r2": 0.4}}) == {
        "rmse": 1.5,
        "mae": 1.1,
        "r2": 0.4,
    }
    sagemaker = {"binary_classification_metrics": {"auc": {"value": 0.93, "standard_deviation": 0.01}}, "rows": 10}
    assert metrics_from_document(sagemaker) == {"auc": 0.93, "rows": 10.0}


def test_names_and_arns() -> None:
    arn = "arn:aws:sagemaker:us-east-1:000000000000:model-package/churn/12"
    assert parse_version("ModelPackageArn", arn) == ("churn", 12)
    assert parse_version("ModelPackageName", "churn/3") == ("churn", 3)
    assert parse_group("ModelPackageGroupName", "arn:aws:sagemaker:eu-west-1:000000000000:model-package-group/churn")
    for bad in ("churn", "churn/0", "-churn/1", "arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn/1"):
        with pytest.raises(InvalidValue):
            parse_version("ModelPackageName", bad)


def _event(n: int, version: int, kind: EventKind, before: Stage | None, after: Stage, minute: int) -> Event:
    at = dt.datetime(2026, 1, 1, 12, minute, tzinfo=dt.UTC)
    return Event(n, "g", version, kind, before, after, at, "alice", "", None)


def test_the_production_timeline_replays_the_history() -> None:
    history = [
        _event(1, 1, EventKind.REGISTERED, None, Stage.TEST, 0),
        _event(2, 1, EventKind.PROMOTED, Stage.TEST, Stage.PROD, 1),
        _event(3, 2, EventKind.REFUSED, Stage.TEST, Stage.TEST, 2),
        _event(4, 1, EventKind.REPLACED, Stage.PROD, Stage.ARCHIVED, 3),
        _event(5, 3, EventKind.PROMOTED, Stage.TEST, Stage.PROD, 3),
        _event(6, 3, EventKind.REJECTED, Stage.PROD, Stage.ARCHIVED, 5),
        _event(7, 1, EventKind.RESTORED, Stage.ARCHIVED, Stage.PROD, 7),
    ]
    timeline = prod_timeline(history)
    minute = lambda m: dt.datetime(2026, 1, 1, 12, m, tzinfo=dt.UTC)  # noqa: E731
    assert timeline == [
        ProdInterval(1, minute(1), minute(3)),
        ProdInterval(3, minute(3), minute(5)),
        ProdInterval(1, minute(7), None),
    ]
    assert [prod_at(timeline, minute(m)) for m in (0, 1, 2, 3, 4, 5, 6, 8)] == [None, 1, 1, 3, 3, None, None, 1]
