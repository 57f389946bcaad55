"""Promotion as a job: the gate judges the candidate against the champion, then one transaction moves both.

A promotion runs in phases, each a job that queues the next (so no worker ever waits on another):

1. `evaluate`: check both artifacts against their recorded checksums; with an evaluation datasource in
   the policy, queue predict evaluations of candidate and champion on that same held-out data.
2. `decide`: once the evaluations are done (this phase comes back until they are), judge; then either
   refuse (the version keeps its stage, ApprovalDescription says why) or promote atomically: the group's
   production pointer moves by compare-and-set from the champion the gate judged against, the old
   production version is archived, and the history gets its rows, all in one transaction.

If production moved while the gate ran (another promotion won), the compare-and-set fails and the gate
runs again against the new champion: two racing promotions always leave exactly one production version.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from altostratus.core.clock import Clock
from altostratus.core.errors import AltoError
from altostratus.deploy import registry_records as records
from altostratus.deploy.gates import (
    CustomCheck,
    Evidence,
    GatePolicy,
    GateReport,
    judge,
    metric_values,
    primary_metric,
)
from altostratus.deploy.model_store import ArtifactRefused, ModelStore
from altostratus.deploy.stages import EventKind, Stage
from altostratus.deploy.versions import GateStatus, ModelVersion
from altostratus.jobs import JobContext, JobQueue
from altostratus.predict import PredictService, Status
from altostratus.storage.metadata import MetadataStore

JOB_PROMOTE = "deploy.promote"
MAX_ATTEMPTS = 3
POLL_SECONDS = 0.5
MAX_POLLS = 7200  # an hour of evaluation
MAX_ROUNDS = 5
MAX_DESCRIPTION = 1024


class GateUnavailable(Exception):
    """The gate cannot judge this candidate (an artifact is refused, an evaluation failed); the message says why."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check
        self.message = message


@dataclasses.dataclass(frozen=True)
class Step:
    """One phase of one promotion, as its job's payload carries it."""

    group: str
    version: int
    promotion_id: str
    actor: str = ""
    reason: str = ""
    phase: str = "evaluate"
    round: int = 0
    champion: int | None = None
    polls: int = 0

    @property
    def job_id(self) -> str:
        """Unique per phase and poll, so a repeated submission finds the job already queued."""
        return f"promote-{self.promotion_id}-{self.round}-{self.phase}-{self.polls}"

    def evaluation_id(self, version: int) -> str:
        """The predict evaluation of one version in this round."""
        return f"gate-{self.promotion_id}-{self.round}-v{version}"


class Promotions:
    """Runs promotion gates as jobs and commits their outcome."""

    def __init__(
        self,
        store: MetadataStore,
        model_store: ModelStore,
        predict: PredictService,
        jobs: JobQueue,
        clock: Clock,
        *,
        custom_check: CustomCheck | None = None,
    ) -> None:
        self._store = store
        self._model_store = model_store
        self._predict = predict
        self._jobs = jobs
        self._clock = clock
        self._custom = custom_check

    def submit(self, step: Step) -> None:
        """Queue a phase (again: the same step finds its job already queued)."""
        payload = {key: value for key, value in dataclasses.asdict(step).items() if value not in (None, "", 0)}
        payload.update(group=step.group, version=step.version, promotion_id=step.promotion_id)
        delay = POLL_SECONDS if step.polls else 0.0
        self._jobs.submit(JOB_PROMOTE, payload, max_attempts=MAX_ATTEMPTS, delay_seconds=delay, job_id=step.job_id)

    def run(self, context: JobContext) -> dict[str, Any]:
        """The job handler: run one phase of a promotion."""
        step = Step(**dict(context.payload))
        with self._store.read() as db:
            version = records.find_version(db, step.group, step.version)
            group = records.find_group(db, step.group)
        if version is None or group is None or version.promotion_id != step.promotion_id:
            return {"skipped": "the version is gone, or another request replaced this promotion"}
        if not step.actor:
            requested = version.gate_report or {}
            step = dataclasses.replace(
                step, actor=requested.get("requested_by", ""), reason=requested.get("reason", "")
            )
        policy = GatePolicy.from_mapping(group.policy or {})
        try:
            if step.phase == "evaluate":
                return self._evaluate(step, policy, group.prod_version)
            return self._decide(step, policy)
        except GateUnavailable as unavailable:
            self.refuse(step, GateReport.refused(policy, unavailable.check, unavailable.message))
            return {"refused": unavailable.message}
        except AltoError as error:
            if 400 <= error.status < 500 or context.attempt >= MAX_ATTEMPTS:
                self.refuse(step, GateReport.refused(policy, "gate", f"the gate could not run: {error.message}"))
                return {"refused": error.message}
            raise
        except Exception as error:
            if context.attempt >= MAX_ATTEMPTS:
                message = f"the gate could not run: {type(error).__name__}: {error}"
                self.refuse(step, GateReport.refused(policy, "gate", message))
            raise

    def refuse(self, step: Step, report: GateReport) -> None:
        """Record the refusal: the version keeps its stage; ApprovalDescription and the history say why."""
        now = self._clock.now()
        values = {
            "gate_status": GateStatus.FAILED,
            "gate_report": report.to_dict(),
            "approval_description": report.summary()[:MAX_DESCRIPTION],
            "promotion_id": None,
            "updated_at": now,
            "updated_by": step.actor,
        }
        with self._store.begin() as db:
            if not records.update_version(db, step.group, step.version, values, promotion_id=step.promotion_id):
                return
            version = records.find_version(db, step.group, step.version)
            assert version is not None
            records.append_event(
                db,
                step.group,
                step.version,
                EventKind.REFUSED,
                now,
                step.actor,
                from_stage=version.stage,
                to_stage=version.stage,
                reason=step.reason,
                details=report.to_dict(),
            )

    # ---- phases -------------------------------------------------------------------------------------

    def _evaluate(self, step: Step, policy: GatePolicy, champion: int | None) -> dict[str, Any]:
        versions = [step.version] if champion is None else [step.version, champion]
        for number in versions:
            version = self._checked(step.group, number)
            if policy.evaluation_datasource is not None:
                model_id = self._predict_model(version)
                self._predict.create_evaluation(
                    step.evaluation_id(number), model_id, policy.evaluation_datasource, name=f"gate {step.group}"
                )
        self.submit(dataclasses.replace(step, phase="decide", champion=champion, polls=0))
        return {"phase": "evaluate", "champion": champion}

    def _decide(self, step: Step, policy: GatePolicy) -> dict[str, Any]:
        candidate = self._checked(step.group, step.version)
        champion = self._checked(step.group, step.champion) if step.champion is not None else None
        try:
            evidence = [self._evidence(step, policy, version) for version in (candidate, champion) if version]
        except _NotYet:
            if step.polls >= MAX_POLLS:
                raise GateUnavailable("evaluation", "the gate's evaluations did not finish within an hour") from None
            self.submit(dataclasses.replace(step, polls=step.polls + 1))
            return {"phase": "decide", "waiting": True}
        report = judge(policy, evidence[0], evidence[1] if champion else None, custom=self._custom)
        if not report.passed:
            self.refuse(step, report)
            return {"refused": report.reasons}
        if self._commit(step, report):
            return {"promoted": step.version, "replaced": step.champion}
        if step.round + 1 >= MAX_ROUNDS:
            raise GateUnavailable("race", f"production changed {MAX_ROUNDS} times while the gate ran; promote again")
        self.submit(dataclasses.replace(step, phase="evaluate", round=step.round + 1, champion=None, polls=0))
        return {"phase": "decide", "production-moved": True}

    def _commit(self, step: Step, report: GateReport) -> bool:
        """Promote in one transaction; False if production moved away from the champion the gate judged. The model
        store then holds the new production artifact and lets the replaced one go."""
        now = self._clock.now()
        details = report.to_dict()
        with self._store.begin() as db:
            version = records.find_version(db, step.group, step.version)
            if version is None or version.promotion_id != step.promotion_id:
                return True
            if not records.swap_prod(db, step.group, step.champion, step.version):
                return False
            records.archive_prod(db, step.group, {"updated_at": now, "updated_by": step.actor})
            values = {
                "stage": Stage.PROD,
                "gate_status": GateStatus.COMPLETED,
                "gate_report": details,
                "approval_description": report.summary()[:MAX_DESCRIPTION],
                "promotion_id": None,
            }
            if step.champion is not None:
                records.append_event(
                    db,
                    step.group,
                    step.champion,
                    EventKind.REPLACED,
                    now,
                    step.actor,
                    from_stage=Stage.PROD,
                    to_stage=Stage.ARCHIVED,
                    reason=f"replaced by version {step.version}",
                )
            change = records.Change(now, step.actor, step.reason, details=details)
            records.move(db, version, EventKind.PROMOTED, Stage.PROD, values, change)
        self._model_store.serve(version.artifact_key, step.group, step.champion)
        return True

    # ---- evidence -----------------------------------------------------------------------------------

    def _evidence(self, step: Step, policy: GatePolicy, version: ModelVersion) -> Evidence:
        artifact = self._model_store.location(version.artifact_key)
        kind_metric = primary_metric(version.source)
        if policy.evaluation_datasource is None:
            chosen = _registered(version.metrics, policy.metric or kind_metric)
            source = f"registered metrics ({chosen.get('source', 'none')})"
            return Evidence(
                version.version,
                chosen.get("values", {}),
                chosen.get("records"),
                source,
                artifact,
                version.artifact_sha256,
                kind_metric,
            )
        evaluation_id = step.evaluation_id(version.version)
        evaluation = self._predict.get_evaluation(evaluation_id)
        if evaluation.status in (Status.PENDING, Status.INPROGRESS):
            raise _NotYet
        if evaluation.status is not Status.COMPLETED or not evaluation.metrics:
            raise GateUnavailable(
                "evaluation",
                f"evaluating version {version.version} on {policy.evaluation_datasource} ended "
                f"{evaluation.status}: {evaluation.message}",
            )
        return Evidence(
            version.version,
            metric_values(evaluation.metrics),
            evaluation.metrics.get("records"),
            f"evaluation {evaluation_id} on datasource {policy.evaluation_datasource}",
            artifact,
            version.artifact_sha256,
            kind_metric,
        )

    def _predict_model(self, version: ModelVersion) -> str:
        """The predict model that holds exactly the version's registered artifact."""
        model_id = version.source.get("model_id")
        if version.source.get("kind") != "ml-model" or not isinstance(model_id, str):
            raise GateUnavailable(
                "evaluation",
                f"version {version.version} ({version.source_uri}) is not a predict model: "
                "it cannot be evaluated on held-out data",
            )
        model = self._predict.get_model(model_id)
        if model.status is not Status.COMPLETED or model.artifact_sha256 != version.source.get("artifact_sha256"):
            raise GateUnavailable(
                "evaluation",
                f"MLModel {model_id!r} no longer holds version {version.version}'s artifact ({model.status}): "
                "it cannot be evaluated",
            )
        return model_id

    def _checked(self, group: str, number: int) -> ModelVersion:
        """The version, once its artifact in the model store is found to hash to the recorded checksum."""
        with self._store.read() as db:
            version = records.find_version(db, group, number)
        if version is None:
            raise GateUnavailable("version", f"version {number} of {group} no longer exists")
        try:
            self._model_store.read(version.artifact_key, version.artifact_sha256)
        except ArtifactRefused as refused:
            raise GateUnavailable("artifact", f"version {number}: {refused.message}") from None
        return version


class _NotYet(Exception):
    """An evaluation the gate needs is still running."""


def _registered(metric_sets: Any, metric: str | None) -> Mapping[str, Any]:
    """The newest registered metric set that has the metric (the newest of all without one)."""
    sets = [item for item in metric_sets if isinstance(item, Mapping)]
    if metric is not None:
        sets = [item for item in sets if metric in item.get("values", {})] or sets
    return sets[-1] if sets else {}
