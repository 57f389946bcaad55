"""Canary rules: shift weight from the champion to the challenger step by step, roll back on trouble.

Rules, as JSON (also what `alto endpoints canary start` builds from its options)::

    {"champion": "A", "challenger": "B", "step": 10,
     "interval": {"requests": 500, "seconds": 60},
     "rollback_if": {"error_rate_above": 0.05, "significant_loss": true},
     "alpha": 0.05, "min_requests": 20}

Starting gives the challenger `step` points of the weight the two share (100 points: other variants keep
theirs). Each tick (every second in the server) looks at the challenger's requests since its step began:
- its error rate above `error_rate_above` (once it has `min_requests`): roll back;
- with `significant_loss`, its online accuracy (or mean absolute error) significantly worse than the
  champion's at level `alpha`: roll back;
- else, once the step has lasted `requests` challenger requests or `seconds` (whichever comes first),
  the next step: `step` more points, until the challenger has all 100 and the canary is promoted.
A rollback gives the champion all the weight. Every change is audited with the rule that made it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from altostratus.core.clock import Clock
from altostratus.deploy.endpoints import EndpointService
from altostratus.deploy.errors import DoesNotExist, InvalidValue
from altostratus.deploy.experiment_records import ExperimentStore
from altostratus.deploy.experiments import ExperimentReports
from altostratus.deploy.hosting import EndpointStatus
from altostratus.deploy.tables import endpoint_canaries
from altostratus.deploy.tallies import Tally
from altostratus.storage.metadata import MetadataStore

log = logging.getLogger(__name__)
ACTOR = "canary"
FULL = 100.0
RULE_KEYS = frozenset({"champion", "challenger", "step", "interval", "rollback_if", "alpha", "min_requests"})


class CanaryState(enum.StrEnum):
    """Where a canary is."""

    RUNNING = "running"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    STOPPED = "stopped"


@dataclasses.dataclass(frozen=True)
class CanaryRules:
    """How a canary moves: its variants, step, interval and rollback conditions."""

    champion: str
    challenger: str
    step: float = 10.0
    every_requests: int | None = None
    every_seconds: float | None = None
    error_rate_above: float | None = 0.05
    significant_loss: bool = True
    alpha: float = 0.05
    min_requests: int = 20

    def __post_init__(self) -> None:
        if self.champion == self.challenger:
            raise InvalidValue(f"champion and challenger are both {self.champion!r}; expected two variants")
        if not 0 < self.step <= FULL:
            raise InvalidValue(f"step={self.step!r}; expected points above 0, at most {FULL:g}")
        if self.every_requests is None and self.every_seconds is None:
            raise InvalidValue("interval names neither requests nor seconds; expected at least one of them")
        if self.every_requests is not None and self.every_requests < 1:
            raise InvalidValue(f"interval.requests={self.every_requests!r}; expected 1 or more")
        if self.every_seconds is not None and not self.every_seconds > 0:
            raise InvalidValue(f"interval.seconds={self.every_seconds!r}; expected more than 0")
        if self.error_rate_above is not None and not 0 <= self.error_rate_above < 1:
            raise InvalidValue(f"rollback_if.error_rate_above={self.error_rate_above!r}; expected 0 to 1")
        if not 0 < self.alpha < 1:
            raise InvalidValue(f"alpha={self.alpha!r}; expected a level between 0 and 1, such as 0.05")
        if self.min_requests < 1:
            raise InvalidValue(f"min_requests={self.min_requests!r}; expected 1 or more")

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any]) -> CanaryRules:
        """Rules from their JSON form (the module's docstring)."""
        unknown = sorted(set(document) - RULE_KEYS)
        if unknown:
            raise InvalidValue(f"canary rules have unknown keys {unknown}; expected some of {sorted(RULE_KEYS)}")
        interval = _mapping(document, "interval")
        rollback = _mapping(document, "rollback_if")
        try:
            return cls(
                champion=str(document["champion"]),
                challenger=str(document["challenger"]),
                step=float(document.get("step", 10.0)),
                every_requests=None if interval.get("requests") is None else int(interval["requests"]),
                every_seconds=None if interval.get("seconds") is None else float(interval["seconds"]),
                error_rate_above=None
                if rollback.get("error_rate_above") is None
                else float(rollback["error_rate_above"]),
                significant_loss=bool(rollback.get("significant_loss", True)),
                alpha=float(document.get("alpha", 0.05)),
                min_requests=int(document.get("min_requests", 20)),
            )
        except KeyError as missing:
            raise InvalidValue(f"canary rules need {missing.args[0]!r}") from None
        except (TypeError, ValueError) as error:
            raise InvalidValue(f"canary rules: {error}") from None

    def to_mapping(self) -> dict[str, Any]:
        """The rules' JSON form."""
        return {
            "champion": self.champion,
            "challenger": self.challenger,
            "step": self.step,
            "interval": {"requests": self.every_requests, "seconds": self.every_seconds},
            "rollback_if": {"error_rate_above": self.error_rate_above, "significant_loss": self.significant_loss},
            "alpha": self.alpha,
            "min_requests": self.min_requests,
        }


@dataclasses.dataclass(frozen=True)
class Canary:
    """A canary's rules and where it stands: the challenger's share, steps taken, the current step's start."""

    endpoint: str
    rules: CanaryRules
    state: CanaryState
    share: float
    steps: int
    step_started_at: dt.datetime
    baseline_requests: int
    baseline_errors: int
    message: str
    revision: int
    created_at: dt.datetime
    updated_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        """The canary as JSON-ready data."""
        data = dataclasses.asdict(self)
        data.update(
            rules=self.rules.to_mapping(),
            state=self.state.value,
            step_started_at=self.step_started_at.isoformat(),
            created_at=self.created_at.isoformat(),
            updated_at=self.updated_at.isoformat(),
        )
        return data


class CanaryController:
    """Starts, stops and advances canaries; `tick` applies the rules."""

    def __init__(
        self,
        metadata: MetadataStore,
        endpoints: EndpointService,
        store: ExperimentStore,
        reports: ExperimentReports,
        clock: Clock,
    ) -> None:
        self._metadata = metadata
        self._endpoints = endpoints
        self._store = store
        self._reports = reports
        self._clock = clock

    def start(self, endpoint: str, rules: CanaryRules, *, actor: str) -> Canary:
        """Begin a canary (replacing a finished one): the challenger gets its first step of weight."""
        current = self._endpoints.get_endpoint(endpoint)
        current.variant(rules.champion)
        current.variant(rules.challenger)
        existing = self.get(endpoint)
        if existing is not None and existing.state is CanaryState.RUNNING:
            raise InvalidValue(f"endpoint {endpoint!r} already runs a canary; stop it first")
        baseline = self._challenger_tally(endpoint, rules.challenger)
        now = self._clock.now()
        share = min(FULL, rules.step)
        self._endpoints.set_weights(
            endpoint,
            _weights(rules, share),
            actor=actor,
            action="canary-start",
            reason=f"canary started: challenger {rules.challenger!r} gets {share:g} points, champion "
            f"{rules.champion!r} {FULL - share:g}",
        )
        canary = Canary(
            endpoint,
            rules,
            CanaryState.RUNNING,
            share,
            1,
            now,
            baseline.requests,
            baseline.errors,
            "first step",
            1,
            now,
            now,
        )
        with self._metadata.begin() as db:
            db.execute(delete(endpoint_canaries).where(endpoint_canaries.c.endpoint_name == endpoint))
            db.execute(insert(endpoint_canaries).values(**_row(canary)))
        return canary

    def get(self, endpoint: str) -> Canary | None:
        """The endpoint's canary (running or finished), or None."""
        with self._metadata.read() as db:
            return _find(db, endpoint)

    def stop(self, endpoint: str, *, actor: str) -> Canary:
        """Stop a running canary where it stands (the weights stay as they are)."""
        canary = self.get(endpoint)
        if canary is None:
            raise DoesNotExist(f"endpoint {endpoint!r} has no canary")
        if canary.state is not CanaryState.RUNNING:
            return canary
        return self._finish(canary, CanaryState.STOPPED, f"stopped by {actor}") or canary

    def tick(self) -> list[Canary]:
        """Apply every running canary's rules once; the canaries that moved."""
        with self._metadata.read() as db:
            running = (
                db.execute(
                    select(endpoint_canaries.c.endpoint_name).where(endpoint_canaries.c.state == CanaryState.RUNNING)
                )
                .scalars()
                .all()
            )
        moved = []
        for endpoint in running:
            try:
                canary = self.get(endpoint)
                changed = self._advance(canary) if canary is not None else None
            except Exception:
                log.exception("canary of endpoint %s could not advance", endpoint)
                continue
            if changed is not None:
                moved.append(changed)
        return moved

    def _advance(self, canary: Canary) -> Canary | None:
        endpoint = self._endpoints.find_endpoint(canary.endpoint)
        rules = canary.rules
        if endpoint is None or {rules.champion, rules.challenger} - {v.name for v in endpoint.production}:
            return self._finish(canary, CanaryState.STOPPED, "the endpoint or one of its two variants is gone")
        if endpoint.status is not EndpointStatus.IN_SERVICE:
            return None
        tally = self._challenger_tally(canary.endpoint, rules.challenger)
        requests = tally.requests - canary.baseline_requests
        errors = tally.errors - canary.baseline_errors
        if rules.error_rate_above is not None and requests >= rules.min_requests:
            rate = errors / requests
            if rate > rules.error_rate_above:
                return self._roll_back(
                    canary,
                    f"challenger {rules.challenger!r} failed {errors} of {requests} requests ({rate:.1%}) in step "
                    f"{canary.steps}; the limit is {rules.error_rate_above:.1%}",
                )
        if rules.significant_loss:
            loss = self._significant_loss(canary, endpoint)
            if loss:
                return self._roll_back(canary, loss)
        elapsed = (self._clock.now() - canary.step_started_at).total_seconds()
        due = (rules.every_requests is not None and requests >= rules.every_requests) or (
            rules.every_seconds is not None and elapsed >= rules.every_seconds
        )
        return self._step(canary, tally, requests, elapsed) if due else None

    def _significant_loss(self, canary: Canary, endpoint: Any) -> str:
        rules = canary.rules
        report = self._reports.report(endpoint, champion=rules.champion, alpha=rules.alpha)
        challenger = report.variant(rules.challenger)
        if challenger is None or not challenger.worse or challenger.versus_champion is None:
            return ""
        c, online = challenger.versus_champion, challenger.online
        assert online is not None
        what = "accuracy" if online.metric == "accuracy" else "mean absolute error"
        return (
            f"challenger {rules.challenger!r} is significantly worse than champion {rules.champion!r}: {what} "
            f"{c.difference:+.4f} (interval {c.interval.low:+.4f} to {c.interval.high:+.4f}), p={c.p_value:.4g} by "
            f"{c.test} over {online.outcomes} outcomes; alpha {rules.alpha:g}"
        )

    def _step(self, canary: Canary, tally: Tally, requests: int, elapsed: float) -> Canary | None:
        rules = canary.rules
        share = min(FULL, canary.share + rules.step)
        promoted = share >= FULL
        reason = (
            f"step {canary.steps} passed ({requests} challenger requests in {elapsed:.0f} s, no rollback rule "
            f"fired): challenger {rules.challenger!r} now {share:g} points"
        )
        now = self._clock.now()
        values = {
            "share": share,
            "steps": canary.steps + 1,
            "step_started_at": now,
            "baseline_requests": tally.requests,
            "baseline_errors": tally.errors,
            "state": (CanaryState.PROMOTED if promoted else CanaryState.RUNNING).value,
            "message": ("promoted: " if promoted else "") + reason,
        }
        if not self._claim(canary, values):
            return None
        self._endpoints.set_weights(
            canary.endpoint,
            _weights(rules, share),
            actor=ACTOR,
            action="canary-promoted" if promoted else "canary-step",
            reason=reason,
        )
        return self.get(canary.endpoint)

    def _roll_back(self, canary: Canary, reason: str) -> Canary | None:
        rules = canary.rules
        finished = self._finish(canary, CanaryState.ROLLED_BACK, reason, share=0.0)
        if finished is None:
            return None
        self._endpoints.set_weights(
            canary.endpoint,
            _weights(rules, 0.0),
            actor=ACTOR,
            action="canary-rollback",
            reason=f"rolled back: {reason}",
        )
        return finished

    def _finish(self, canary: Canary, state: CanaryState, reason: str, *, share: float | None = None) -> Canary | None:
        values: dict[str, Any] = {"state": state.value, "message": reason}
        if share is not None:
            values["share"] = share
        return self.get(canary.endpoint) if self._claim(canary, values) else None

    def _claim(self, canary: Canary, values: Mapping[str, Any]) -> bool:
        """Apply values if no other process moved the canary since it was read."""
        table = endpoint_canaries
        with self._metadata.begin() as db:
            changed = db.execute(
                update(table)
                .where(table.c.endpoint_name == canary.endpoint, table.c.revision == canary.revision)
                .values(**values, revision=canary.revision + 1, updated_at=self._clock.now())
            ).rowcount
        return changed == 1

    def _challenger_tally(self, endpoint: str, challenger: str) -> Tally:
        return self._store.totals(endpoint).get((challenger, False), Tally())


def _weights(rules: CanaryRules, share: float) -> dict[str, float]:
    return {rules.champion: FULL - share, rules.challenger: share}


def _mapping(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key) or {}
    if not isinstance(value, Mapping):
        raise InvalidValue(f"canary rules: {key}={value!r}; expected an object")
    return value


def _row(canary: Canary) -> dict[str, Any]:
    values = {f.name: getattr(canary, f.name) for f in dataclasses.fields(canary)}
    values["endpoint_name"] = values.pop("endpoint")
    values["rules"] = canary.rules.to_mapping()
    values["state"] = canary.state.value
    return values


def _find(db: Connection, endpoint: str) -> Canary | None:
    row = db.execute(select(endpoint_canaries).where(endpoint_canaries.c.endpoint_name == endpoint)).first()
    if row is None:
        return None
    values = dict(row._mapping)
    values["endpoint"] = values.pop("endpoint_name")
    values["rules"] = CanaryRules.from_mapping(values["rules"])
    values["state"] = CanaryState(values["state"])
    return Canary(**values)
