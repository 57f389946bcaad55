"""Promotion gates: a group's policy, the evidence for a candidate and its champion, and the verdict.

A policy is a JSON object, every field optional:

    {"metric": "auc", "min": 0.85, "max": null, "max_drop_from_champion": 0.002, "min_rows": 1000,
     "evaluation_datasource": "<predict datasource of held-out data>", "function": "<function name>",
     "compare_with_champion": true}

With `evaluation_datasource`, candidate and champion are both scored on that same held-out data when
the promotion runs (promotion.py); without it, each version's registered metrics are compared. `function`
names a function that receives the candidate's and champion's metrics and artifact locations and answers
{"pass": bool, "reasons": [...]}.

Every policy, the empty one too, refuses a candidate that is worse than the production version (the
champion) on the group's metric by more than `max_drop_from_champion` (default 0: no worse at all). The
metric is the policy's `metric`; without one, the metric Amazon ML judges the candidate's kind of model on
(BINARY: auc, MULTICLASS: macro_f1, REGRESSION: rmse; an image classifier: macro_f1, as a multiclass model and
as Custom Labels' F1 score); for an artifact that is not a predict model, the first
metric of HIGHER_IS_BETTER that candidate and champion both have. A candidate or champion without that metric
is refused, saying so: a gate that cannot compare does not guess. With no champion (the group's first
promotion) the comparison passes. Only `"compare_with_champion": false` turns it off, deliberately and in
the group's history.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from altostratus.deploy.errors import InvalidValue
from altostratus.functions.service import FunctionsService

# The metric names a policy may use, and whether a larger value is better.
HIGHER_IS_BETTER = {
    "auc": True,
    "macro_f1": True,
    "accuracy": True,
    "f1": True,
    "precision": True,
    "recall": True,
    "r2": True,
    "rmse": False,
    "mae": False,
}
# What an image classifier is registered with besides accuracy and macro_f1 (experiment_sources.py): its
# accuracy on the validation images, and each class's F1 score as "f1:<class>" (e.g. "f1:cat"); higher is better.
VALIDATION_ACCURACY = "validation_accuracy"
CLASS_F1_PREFIX = "f1:"
IMAGE_CLASSIFICATION = "IMAGE_CLASSIFICATION"
AMAZON_ML_METRICS = {"BinaryAUC": "auc", "MulticlassAvgFScore": "macro_f1", "RegressionRMSE": "rmse"}
# The metric each kind of predict model is judged on (the one its Amazon ML evaluation reports).
PRIMARY_METRICS = {"BINARY": "auc", "MULTICLASS": "macro_f1", "REGRESSION": "rmse", IMAGE_CLASSIFICATION: "macro_f1"}
DETAIL_METRICS = ("accuracy", "mae", "r2")
POLICY_FIELDS = (
    "metric",
    "min",
    "max",
    "max_drop_from_champion",
    "min_rows",
    "evaluation_datasource",
    "function",
    "compare_with_champion",
)
CHAMPION_CHECK = "max_drop_from_champion"

# Given a function name and the event: the function's answer (raises if it could not run).
CustomCheck = Callable[[str, Mapping[str, Any]], Any]


def metric_values(evaluation: Mapping[str, Any]) -> dict[str, float]:
    """The gate's metric names and values from a predict evaluation's metrics (e.g. BinaryAUC -> auc)."""
    values: dict[str, float] = {}
    name = AMAZON_ML_METRICS.get(str(evaluation.get("metric")))
    if name is not None and _is_number(evaluation.get("value")):
        values[name] = float(evaluation["value"])
    details = evaluation.get("details") or {}
    values.update({key: float(details[key]) for key in DETAIL_METRICS if _is_number(details.get(key))})
    return values


def higher_is_better(metric: str) -> bool | None:
    """Whether a larger value of the metric is better; None for a name the gates do not know."""
    if metric == VALIDATION_ACCURACY or (metric.startswith(CLASS_F1_PREFIX) and len(metric) > len(CLASS_F1_PREFIX)):
        return True
    return HIGHER_IS_BETTER.get(metric)


def primary_metric(source: Mapping[str, Any]) -> str | None:
    """The metric a registered version's kind of model is judged on (BINARY: auc, ...); None if the kind is unknown."""
    return PRIMARY_METRICS.get(str(source.get("model_type")))


def metrics_from_document(document: Mapping[str, Any]) -> dict[str, float]:
    """Every named number in a metrics document, flat ({"auc": 0.9}) or nested as SageMaker writes them.

    SageMaker's model quality statistics look like {"binary_classification_metrics": {"auc": {"value": 0.9}}}.
    """
    values: dict[str, float] = {}
    for name, item in document.items():
        if _is_number(item):
            values[str(name)] = float(item)
        elif isinstance(item, Mapping):
            if _is_number(item.get("value")):
                values[str(name)] = float(item["value"])
            else:
                values.update(metrics_from_document(item))
    return values


@dataclasses.dataclass(frozen=True)
class GatePolicy:
    """What a candidate must show to replace the production version."""

    metric: str | None = None
    min: float | None = None
    max: float | None = None
    max_drop_from_champion: float | None = None
    min_rows: int | None = None
    evaluation_datasource: str | None = None
    function: str | None = None
    # None means the default, True: the candidate is compared with the champion on the group's metric.
    compare_with_champion: bool | None = None

    @property
    def compares_with_champion(self) -> bool:
        """Whether a candidate worse than the champion is refused (every policy's default)."""
        return self.compare_with_champion is not False

    @classmethod
    def from_mapping(cls, value: Any) -> GatePolicy:
        """The policy in a JSON object; InvalidValue naming the field that is wrong."""
        if not isinstance(value, Mapping):
            raise InvalidValue(f"policy={value!r}; expected a JSON object")
        unknown = sorted(set(value) - set(POLICY_FIELDS))
        if unknown:
            raise InvalidValue(f"policy fields {unknown} are unknown; expected some of {list(POLICY_FIELDS)}")
        metric = _optional(value, "metric", str)
        if metric is not None and higher_is_better(metric) is None:
            raise InvalidValue(
                f"policy metric={metric!r}; expected one of {sorted(HIGHER_IS_BETTER)}, {VALIDATION_ACCURACY} "
                f"or {CLASS_F1_PREFIX}<class>"
            )
        bounds = {field: _optional(value, field, float) for field in ("min", "max", "max_drop_from_champion")}
        if metric is None and any(bound is not None for bound in bounds.values()):
            raise InvalidValue("policy sets min, max or max_drop_from_champion without a metric; name the metric")
        if (bounds["max_drop_from_champion"] or 0.0) < 0:
            raise InvalidValue(f"policy max_drop_from_champion={bounds['max_drop_from_champion']!r}; expected >= 0")
        min_rows = _optional(value, "min_rows", int)
        if min_rows is not None and min_rows < 0:
            raise InvalidValue(f"policy min_rows={min_rows!r}; expected a whole number >= 0")
        compare = _optional(value, "compare_with_champion", bool)
        if compare is False and bounds["max_drop_from_champion"] is not None:
            raise InvalidValue(
                "policy sets max_drop_from_champion with compare_with_champion=false; leave out one of them"
            )
        return cls(
            metric=metric,
            min_rows=min_rows,
            evaluation_datasource=_optional(value, "evaluation_datasource", str),
            function=_optional(value, "function", str),
            compare_with_champion=compare,
            **bounds,
        )

    @classmethod
    def from_json(cls, text: str) -> GatePolicy:
        """The policy in a JSON text."""
        try:
            return cls.from_mapping(json.loads(text))
        except ValueError as error:
            raise InvalidValue(f"policy is not valid JSON: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


@dataclasses.dataclass(frozen=True)
class Evidence:
    """What is known of one version at the gate: its metric values, on how many rows, from where."""

    version: int
    values: Mapping[str, float]
    records: int | None
    source: str
    artifact: str
    artifact_sha256: str
    # The metric its kind of model is judged on (see primary_metric); None if it is not a predict model.
    primary_metric: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """As JSON-able values."""
        return {**dataclasses.asdict(self), "values": dict(self.values)}


@dataclasses.dataclass(frozen=True)
class Check:
    """One rule of the policy, and how the candidate fared."""

    name: str
    passed: bool
    message: str


@dataclasses.dataclass(frozen=True)
class GateReport:
    """The gate's verdict: every check, and the evidence it was reached on."""

    passed: bool
    checks: tuple[Check, ...]
    policy: GatePolicy
    candidate: Evidence | None = None
    champion: Evidence | None = None

    @property
    def reasons(self) -> list[str]:
        """Why the candidate was refused (empty when it passed)."""
        return [check.message for check in self.checks if not check.passed]

    def summary(self) -> str:
        """One line for ApprovalDescription."""
        if self.passed:
            return "Promoted by the gate: " + "; ".join(check.message for check in self.checks)
        return "Promotion refused by the gate: " + "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """As JSON-able values."""
        return {
            "passed": self.passed,
            "reasons": self.reasons,
            "checks": [dataclasses.asdict(check) for check in self.checks],
            "policy": self.policy.to_dict(),
            "candidate": self.candidate.to_dict() if self.candidate else None,
            "champion": self.champion.to_dict() if self.champion else None,
        }

    @classmethod
    def refused(cls, policy: GatePolicy, name: str, message: str) -> GateReport:
        """A verdict reached before any evidence: the gate could not judge the candidate."""
        return cls(False, (Check(name, False, message),), policy)


def judge(
    policy: GatePolicy, candidate: Evidence, champion: Evidence | None, *, custom: CustomCheck | None = None
) -> GateReport:
    """Every check of the policy on the candidate, and its comparison with the champion if there is one."""
    checks: list[Check] = []
    if policy.metric is not None or (policy.compares_with_champion and champion is not None):
        checks.extend(_metric_checks(policy, group_metric(policy, candidate, champion), candidate, champion))
    elif policy.compares_with_champion:
        checks.append(Check(CHAMPION_CHECK, True, "no version in production: the first candidate passes"))
    if policy.min_rows is not None:
        rows = candidate.records
        ok = rows is not None and rows >= policy.min_rows
        shown = "an unknown number of" if rows is None else str(rows)
        checks.append(Check("min_rows", ok, f"evaluated on {shown} rows; the policy needs at least {policy.min_rows}"))
    if policy.function is not None:
        checks.append(_function_check(policy, policy.function, candidate, champion, custom))
    if not checks:
        checks.append(
            Check("policy", True, "the policy turns off the comparison with the champion: every promotion passes")
        )
    return GateReport(all(check.passed for check in checks), tuple(checks), policy, candidate, champion)


def group_metric(policy: GatePolicy, candidate: Evidence, champion: Evidence | None) -> str | None:
    """The metric the candidate is judged on: the policy's, its kind of model's, or the first both versions have."""
    if policy.metric is not None:
        return policy.metric
    if candidate.primary_metric is not None:
        return candidate.primary_metric
    shared = [name for name in HIGHER_IS_BETTER if name in candidate.values and champion and name in champion.values]
    return shared[0] if shared else None


def _metric_checks(
    policy: GatePolicy, metric: str | None, candidate: Evidence, champion: Evidence | None
) -> list[Check]:
    if metric is None:
        against = f" with the champion (version {champion.version})" if champion else ""
        return [
            Check(
                "metric",
                False,
                f"no metric to compare version {candidate.version}{against}: the policy names none, version "
                f"{candidate.version} is not a predict model, and the two share none of {sorted(HIGHER_IS_BETTER)}; "
                "name one as the policy's metric",
            )
        ]
    value = candidate.values.get(metric)
    if value is None:
        return [Check(metric, False, _missing(candidate, metric))]
    checks = []
    if policy.min is not None:
        relation = "at least" if value >= policy.min else "below"
        checks.append(Check("min", value >= policy.min, f"{metric} {value:.4f} is {relation} the minimum {policy.min}"))
    if policy.max is not None:
        relation = "at most" if value <= policy.max else "above"
        checks.append(Check("max", value <= policy.max, f"{metric} {value:.4f} is {relation} the maximum {policy.max}"))
    if policy.compares_with_champion:
        checks.append(_champion_check(metric, value, policy.max_drop_from_champion, champion))
    return checks


def _missing(version: Evidence, metric: str) -> str:
    if not version.values:
        return (
            f"version {version.version} has no metrics to judge its {metric} by ({version.source}): evaluate it "
            "before registering it, register it with ModelMetrics, or name an evaluation_datasource in the policy"
        )
    return f"version {version.version} has no {metric} ({version.source}; has {sorted(version.values)})"


def _champion_check(metric: str, value: float, allowed: float | None, champion: Evidence | None) -> Check:
    if champion is None:
        return Check(CHAMPION_CHECK, True, "no version in production: no champion to compare with")
    best = champion.values.get(metric)
    if best is None:
        return Check(CHAMPION_CHECK, False, f"the champion (version {champion.version}) has no {metric} to compare")
    higher = higher_is_better(metric)
    drop = best - value if higher else value - best
    limit = 0.0 if allowed is None else allowed
    ok = drop <= limit + 1e-12
    worse = "below" if higher else "above"
    allowance = f"the allowed {allowed}" if allowed is not None else "the default allowance of 0"
    message = (
        f"{metric} {value:.4f} vs the champion's (version {champion.version}) {best:.4f}: "
        f"{abs(drop):.4f} {worse if drop > 0 else 'better'}"
        + (f", within {allowance}" if ok else f", more than {allowance}")
    )
    return Check(CHAMPION_CHECK, ok, message)


def _function_check(
    policy: GatePolicy, name: str, candidate: Evidence, champion: Evidence | None, custom: CustomCheck | None
) -> Check:
    label = f"function:{name}"
    if custom is None:
        return Check(label, False, f"the policy names function {name!r} but this server runs no functions")
    event = {
        "candidate": candidate.to_dict(),
        "champion": champion.to_dict() if champion else None,
        "policy": policy.to_dict(),
    }
    try:
        answer = custom(name, event)
    except Exception as error:  # the check failed to run: the gate refuses rather than guess
        return Check(label, False, f"function {name!r} could not run: {error}")
    if not isinstance(answer, Mapping) or not isinstance(answer.get("pass"), bool):
        return Check(
            label, False, f'function {name!r} answered {answer!r}; expected {{"pass": bool, "reasons": [...]}}'
        )
    reasons = answer.get("reasons") or []
    said = "; ".join(str(reason) for reason in reasons) if isinstance(reasons, list) else str(reasons)
    verdict = "passed" if answer["pass"] else "refused"
    return Check(label, answer["pass"], f"function {name!r} {verdict}" + (f": {said}" if said else ""))


class FunctionCheck:
    """A gate's custom check run as a function: the event in, its JSON answer out."""

    def __init__(self, functions: FunctionsService) -> None:
        self._functions = functions

    def __call__(self, name: str, event: Mapping[str, Any]) -> Any:
        """Invoke the function and parse its answer; RuntimeError if the function raised."""
        result = self._functions.invoke(name, json.dumps(event).encode())
        if not result.outcome.ok:
            raise RuntimeError(f"{result.outcome.function_error}: {result.outcome.payload.decode(errors='replace')}")
        return json.loads(result.outcome.payload)


def _optional(value: Mapping[str, Any], field: str, kind: type[Any]) -> Any:
    item = value.get(field)
    if item is None:
        return None
    if kind is float and _is_number(item):
        return float(item)
    if kind is int and isinstance(item, int) and not isinstance(item, bool):
        return item
    if kind is str and isinstance(item, str) and item:
        return item
    if kind is bool and isinstance(item, bool):
        return item
    expected = {float: "a number", int: "a whole number", str: "a non-empty string", bool: "true or false"}[kind]
    raise InvalidValue(f"policy {field}={item!r}; expected {expected}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
