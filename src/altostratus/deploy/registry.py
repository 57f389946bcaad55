"""The model registry: groups of numbered versions, their stages, promotion through the gate, and history.

Registering copies the artifact into the model store (checked on copy and on every later load) and
records where it came from; a version starts in `test`. Promotion to `prod` only goes through the
gate (promotion.py, as jobs); `reject` archives; `rollback` restores the previous production version in
one audited transaction. Every change of stage is appended to the group's history, from which
`prod_at` answers what was in production at any moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from altostratus.core.caller import Caller
from altostratus.core.clock import Clock
from altostratus.core.errors import NotFound
from altostratus.core.ids import short_id
from altostratus.core.waiting import wait_for
from altostratus.deploy import registry_records as records
from altostratus.deploy.errors import DoesNotExist, InConflict, InvalidValue
from altostratus.deploy.gates import GatePolicy
from altostratus.deploy.model_loading import open_runner, predictor_of
from altostratus.deploy.model_store import ModelStore, artifact_key
from altostratus.deploy.promotion import JOB_PROMOTE, MAX_DESCRIPTION, Promotions, Step
from altostratus.deploy.registry_names import check_group_name, group_arn, parse_version, version_arn
from altostratus.deploy.runners import ModelRunner
from altostratus.deploy.sources import ArtifactSources
from altostratus.deploy.stages import Event, EventKind, ProdInterval, Stage, prod_at, prod_timeline
from altostratus.deploy.versions import GateStatus, ModelGroup, ModelVersion
from altostratus.jobs import JobContext
from altostratus.predict import Predictor, PredictService
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.paging import MAX_PAGE, ListQuery, Page

# Given a version's ARN: what uses it (e.g. "model churn-v3"), or None. Wired by the composition root.
UsageCheck = Callable[[str], "str | None"]
MAX_GROUP_DESCRIPTION = 1024


class Registry:
    """Model package groups and their versions, as the SageMaker model registry keeps them."""

    def __init__(
        self,
        store: MetadataStore,
        model_store: ModelStore,
        sources: ArtifactSources,
        promotions: Promotions,
        predict: PredictService,
        clock: Clock,
        *,
        region: str,
        in_use: UsageCheck | None = None,
    ) -> None:
        self._store = store
        self._model_store = model_store
        self._sources = sources
        self._promotions = promotions
        self._predict = predict
        self._clock = clock
        self.region = region
        self._in_use = in_use

    def handlers(self) -> dict[str, Callable[[JobContext], Any]]:
        """The job handlers by kind (the promotion gate's phases), for the worker pool."""
        return {JOB_PROMOTE: self._promotions.run}

    def group_arn(self, name: str) -> str:
        """The group's ARN."""
        return group_arn(self.region, name)

    def version_arn(self, version: ModelVersion) -> str:
        """The version's ARN, which endpoints name in CreateModel."""
        return version_arn(self.region, version.group_name, version.version)

    def artifact_location(self, version: ModelVersion) -> str:
        """Where the version's artifact lies in the lake (s3://alto-model-store/...)."""
        return self._model_store.location(version.artifact_key)

    # ---- groups -------------------------------------------------------------------------------------

    def create_group(
        self, name: str, *, actor: str, description: str = "", policy: Mapping[str, Any] | None = None
    ) -> ModelGroup:
        """A new, empty group; InvalidValue if the name is taken."""
        check_group_name("ModelPackageGroupName", name)
        if len(description) > MAX_GROUP_DESCRIPTION:
            raise InvalidValue(f"ModelPackageGroupDescription has {len(description)} characters; at most 1024")
        checked = self._checked_policy(policy) if policy is not None else None
        now = self._clock.now()
        with self._store.begin() as db:
            if records.find_group(db, name) is not None:
                raise InvalidValue(f"Model Package Group already exists: {self.group_arn(name)}")
            group = ModelGroup(name, description, checked, None, records.last_version_number(db, name) + 1, now, actor)
            records.insert_group(db, group)
            records.append_event(db, name, None, EventKind.GROUP_CREATED, now, actor, details=checked)
        return group

    def get_group(self, name: str) -> ModelGroup:
        """The group; DoesNotExist when there is none."""
        with self._store.read() as db:
            return self._group(db, name)

    def list_groups(self, query: ListQuery | None = None) -> Page[ModelGroup]:
        """Groups matching the query, one page."""
        with self._store.read() as db:
            return records.list_groups(db, _checked_query(query))

    def delete_group(self, name: str, *, actor: str) -> None:
        """Remove an empty group; InConflict while it holds versions (its history stays)."""
        with self._store.begin() as db:
            self._group(db, name)
            held = records.count_versions(db, name)
            if held:
                raise InConflict(f"ModelPackageGroup {name!r} holds {held} model package version(s); delete them first")
            records.delete_group(db, name)
            records.append_event(db, name, None, EventKind.GROUP_DELETED, self._clock.now(), actor)

    def set_policy(self, name: str, policy: Mapping[str, Any] | None, *, actor: str) -> GatePolicy | None:
        """Replace the group's gate policy (None: the default gate, see gates.py); the change is kept in the history."""
        checked = self._checked_policy(policy) if policy is not None else None
        with self._store.begin() as db:
            self._group(db, name)
            records.set_policy(db, name, checked)
            records.append_event(db, name, None, EventKind.POLICY_SET, self._clock.now(), actor, details=checked)
        return GatePolicy.from_mapping(checked) if checked is not None else None

    def get_policy(self, name: str) -> GatePolicy | None:
        """The group's gate policy, or None (the default gate judges its promotions)."""
        group = self.get_group(name)
        return GatePolicy.from_mapping(group.policy) if group.policy is not None else None

    # ---- versions -----------------------------------------------------------------------------------

    def register(
        self,
        group_name: str,
        source_uri: str,
        *,
        actor: str,
        description: str = "",
        customer_metadata: Mapping[str, str] | None = None,
        model_metrics: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Register what `source_uri` names as the group's next version, in `test`.

        The artifact is copied into the model store and checked there; the training data, parameters
        and evaluation metrics come from the source, and ModelMetrics' statistics document (a JSON object
        in the lake) adds its metrics.
        """
        self.get_group(group_name)
        registration = self._sources.read(source_uri)
        metrics = [*registration.metrics, *self._document_metrics(model_metrics)]
        with self._store.begin() as db:
            self._group(db, group_name)
            number = records.take_version_number(db, group_name)
        caller = Caller(actor)
        prefix = f"{group_name}/{number}"
        stored = self._model_store.put(
            artifact_key(group_name, number), [registration.data], caller, expected_sha256=registration.sha256
        )
        if model_metrics is None and metrics:
            model_metrics = self._metrics_document(f"{prefix}/metrics.json", metrics, caller)
        now = self._clock.now()
        version = ModelVersion(
            group_name=group_name,
            version=number,
            description=description,
            stage=Stage.TEST,
            source_uri=source_uri,
            source=registration.source,
            artifact_key=stored.key,
            artifact_sha256=stored.sha256,
            artifact_size=stored.size,
            training_data=registration.training_data,
            parameters=registration.parameters,
            metrics=metrics,
            model_metrics=model_metrics,
            customer_metadata=dict(customer_metadata or {}),
            **_fresh(now, actor),
        )
        try:
            with self._store.begin() as db:
                self._group(db, group_name)
                records.insert_version(db, version)
                records.append_event(
                    db, group_name, number, EventKind.REGISTERED, now, actor, to_stage=Stage.TEST, reason=source_uri
                )
        except BaseException:
            self._delete_artifacts(prefix, caller)
            raise
        return version

    def get_version(self, group_name: str, number: int) -> ModelVersion:
        """The version; DoesNotExist when there is none."""
        with self._store.read() as db:
            return self._version(db, group_name, number)

    def resolve(self, name_or_arn: str, field: str = "ModelPackageName") -> ModelVersion:
        """The version a model package ARN (or GROUP/VERSION) names."""
        return self.get_version(*parse_version(field, name_or_arn))

    def list_versions(
        self, group_name: str | None = None, *, stage: Stage | None = None, query: ListQuery | None = None
    ) -> Page[ModelVersion]:
        """Versions (of one group, in one stage) matching the query, one page."""
        with self._store.read() as db:
            return records.list_versions(db, group_name, stage, _checked_query(query))

    def prod_version(self, group_name: str) -> ModelVersion | None:
        """The group's production version, or None."""
        with self._store.read() as db:
            group = self._group(db, group_name)
            return records.find_version(db, group_name, group.prod_version) if group.prod_version else None

    def update(
        self,
        group_name: str,
        number: int,
        *,
        actor: str,
        approval_description: str | None = None,
        set_metadata: Mapping[str, str] | None = None,
        remove_metadata: Sequence[str] = (),
    ) -> ModelVersion:
        """Change a version's ApprovalDescription and CustomerMetadataProperties (not its stage)."""
        with self._store.begin() as db:
            version = self._version(db, group_name, number)
            metadata = {**version.customer_metadata, **(set_metadata or {})}
            for key in remove_metadata:
                metadata.pop(key, None)
            values: dict[str, Any] = {
                "customer_metadata": metadata,
                "updated_at": self._clock.now(),
                "updated_by": actor,
            }
            if approval_description is not None:
                values["approval_description"] = approval_description[:MAX_DESCRIPTION]
            records.update_version(db, group_name, number, values)
            return self._version(db, group_name, number)

    def delete_version(self, group_name: str, number: int, *, actor: str) -> None:
        """Remove a version that is not in production and not in use, and its artifacts (its history stays)."""
        version = self.get_version(group_name, number)
        user = self._in_use(self.version_arn(version)) if self._in_use else None
        if user:
            raise InConflict(f"ModelPackage {self.version_arn(version)} is in use by {user}")
        with self._store.begin() as db:
            version = self._version(db, group_name, number)
            if version.stage is Stage.PROD:
                raise InConflict(
                    f"ModelPackage {self.version_arn(version)} is in production; promote another version, "
                    "roll back or reject it first"
                )
            records.delete_version(db, group_name, number)
            records.append_event(
                db, group_name, number, EventKind.DELETED, self._clock.now(), actor, from_stage=version.stage
            )
        self._delete_artifacts(f"{group_name}/{number}", Caller(actor))

    # ---- stages -------------------------------------------------------------------------------------

    def request_promotion(self, group_name: str, number: int, *, actor: str, reason: str = "") -> ModelVersion:
        """Start the promotion gate for a version (a job); the version as it is now, its gate InProgress.

        Asking again while the gate runs changes nothing (and queues its first job again, should a crash
        have lost it); asking for the production version changes nothing.
        """
        now = self._clock.now()
        with self._store.begin() as db:
            version = self._version(db, group_name, number)
            if version.stage is Stage.PROD:
                return version
            if version.gate_status is GateStatus.IN_PROGRESS and version.promotion_id:
                step = Step(group_name, number, version.promotion_id)
            else:
                step = Step(group_name, number, short_id(12))
                values = {
                    "gate_status": GateStatus.IN_PROGRESS,
                    "promotion_id": step.promotion_id,
                    "gate_report": {"requested_by": actor, "reason": reason},
                    "approval_description": f"Promotion gate running (requested by {actor})",
                }
                change = records.Change(now, actor, reason)
                records.move(db, version, EventKind.PROMOTION_REQUESTED, version.stage, values, change)
        self._promotions.submit(step)
        return self.get_version(group_name, number)

    def promote(
        self, group_name: str, number: int, *, actor: str, reason: str = "", timeout: float = 600.0
    ) -> ModelVersion:
        """Request the promotion and wait for the gate: the version with its stage, gate status and report.

        The gate's phases are jobs: a caller that is itself a job should rather `request_promotion` and
        look again later, so it never holds a worker the gate needs.
        """
        self.request_promotion(group_name, number, actor=actor, reason=reason)
        return self.wait_for_gate(group_name, number, timeout=timeout)

    def wait_for_gate(self, group_name: str, number: int, *, timeout: float = 60.0) -> ModelVersion:
        """The version once its gate has finished (or as it is when `timeout` seconds have passed)."""
        return wait_for(
            lambda: self.get_version(group_name, number),
            lambda version: version.gate_status is not GateStatus.IN_PROGRESS,
            timeout=timeout,
            interval=0.05,
        )

    def reject(self, group_name: str, number: int, *, actor: str, reason: str = "") -> ModelVersion:
        """Archive a version (from test, or out of production, which is then left empty); its gate is cancelled."""
        now = self._clock.now()
        with self._store.begin() as db:
            version = self._version(db, group_name, number)
            if version.stage is Stage.ARCHIVED and version.gate_status is not GateStatus.IN_PROGRESS:
                return version
            if version.stage is Stage.PROD and not records.swap_prod(db, group_name, number, None):
                raise InConflict(f"version {number} of {group_name} left production meanwhile; try again")
            values = {
                "stage": Stage.ARCHIVED,
                "approval_description": (reason or f"Rejected by {actor}")[:MAX_DESCRIPTION],
                **_cancelled(version),
            }
            records.move(db, version, EventKind.REJECTED, Stage.ARCHIVED, values, records.Change(now, actor, reason))
            rejected = self._version(db, group_name, number)
        if version.stage is Stage.PROD:
            self._model_store.serve(None, group_name, number)
        return rejected

    def reopen(self, group_name: str, number: int, *, actor: str, reason: str = "") -> ModelVersion:
        """Make a version a plain candidate again (PendingManualApproval): an archived one returns to test,
        a running gate is cancelled; the production version cannot (promote another, roll back or reject)."""
        now = self._clock.now()
        with self._store.begin() as db:
            version = self._version(db, group_name, number)
            if version.stage is Stage.PROD:
                raise InvalidValue(
                    f"ModelPackage {self.version_arn(version)} is Approved (in production); it leaves production "
                    "by the promotion of another version, a rollback, or ModelApprovalStatus=Rejected"
                )
            running = version.gate_status is GateStatus.IN_PROGRESS
            if version.stage is Stage.TEST and not running:
                return version
            values = {"stage": Stage.TEST, **_cancelled(version)}
            if running:
                values["approval_description"] = f"Promotion cancelled by {actor}"
            kind = EventKind.REOPENED if version.stage is Stage.ARCHIVED else EventKind.PROMOTION_CANCELLED
            records.move(db, version, kind, Stage.TEST, values, records.Change(now, actor, reason))
            return self._version(db, group_name, number)

    def rollback(self, group_name: str, *, actor: str, reason: str = "") -> ModelVersion:
        """Put the previous production version back into production (the current one is archived); no gate.

        The restored version's artifact must still match its checksum.
        """
        current, previous = self._previous_prod(group_name)
        self.load_artifact(previous)
        now = self._clock.now()
        description = f"Restored to production by {actor} (rollback from version {current})"
        with self._store.begin() as db:
            if not records.swap_prod(db, group_name, current, previous.version):
                raise InConflict(f"production of {group_name!r} changed meanwhile; look again and retry")
            records.archive_prod(db, group_name, {"updated_at": now, "updated_by": actor})
            restored = self._version(db, group_name, previous.version)
            values = {
                "stage": Stage.PROD,
                "approval_description": description[:MAX_DESCRIPTION],
                **_cancelled(restored),
            }
            if current is not None:
                records.append_event(
                    db,
                    group_name,
                    current,
                    EventKind.ROLLED_BACK,
                    now,
                    actor,
                    from_stage=Stage.PROD,
                    to_stage=Stage.ARCHIVED,
                    reason=reason,
                )
            change = records.Change(now, actor, reason, details={"rolled_back_from": current})
            records.move(db, restored, EventKind.RESTORED, Stage.PROD, values, change)
            restored = self._version(db, group_name, previous.version)
        self._model_store.serve(restored.artifact_key, group_name, current)
        return restored

    def _previous_prod(self, group_name: str) -> tuple[int | None, ModelVersion]:
        """The production version now (or None), and the one in production before it."""
        with self._store.read() as db:
            group = self._group(db, group_name)
            timeline = prod_timeline(records.events(db, group_name))
        earlier = [interval.version for interval in timeline if interval.version != group.prod_version]
        if not earlier:
            raise InConflict(f"ModelPackageGroup {group_name!r} has had no production version before this one")
        return group.prod_version, self.get_version(group_name, earlier[-1])

    # ---- history ------------------------------------------------------------------------------------

    def history(self, group_name: str) -> list[Event]:
        """Everything that happened to the group and its versions, oldest first (it outlives deletions)."""
        with self._store.read() as db:
            found = records.events(db, group_name)
            if not found:
                self._group(db, group_name)
        return found

    def timeline(self, group_name: str) -> list[ProdInterval]:
        """Which version was in production when."""
        return prod_timeline(self.history(group_name))

    def prod_at(self, group_name: str, moment: dt.datetime) -> int | None:
        """The version that was in production at `moment`, or None."""
        return prod_at(self.timeline(group_name), moment)

    # ---- artifacts ----------------------------------------------------------------------------------

    def load_artifact(self, version: ModelVersion) -> bytes:
        """The version's artifact bytes from the model store; ArtifactRefused if they do not match the checksum."""
        return self._model_store.read(version.artifact_key, version.artifact_sha256)

    def load(self, package_arn: str) -> Predictor:
        """A Predictor for a registered predict model (ARN or GROUP/VERSION), from its checked artifact."""
        version = self.resolve(package_arn)
        return predictor_of(version.source, self.load_artifact(version), self.version_arn(version))

    def runner(self, package_arn: str) -> ModelRunner:
        """The runner that serves a registered model (ARN or GROUP/VERSION) from its checked artifact: a predict
        model or an image model, as its source says (model_loading.py)."""
        version = self.resolve(package_arn)
        return open_runner(version.source, self.load_artifact(version), self.version_arn(version))

    # ---- helpers ------------------------------------------------------------------------------------

    def _group(self, db: Any, name: str) -> ModelGroup:
        group = records.find_group(db, name)
        if group is None:
            raise DoesNotExist(f"ModelPackageGroup {self.group_arn(name)} does not exist.")
        return group

    def _version(self, db: Any, group_name: str, number: int) -> ModelVersion:
        version = records.find_version(db, group_name, number)
        if version is None:
            raise DoesNotExist(f"ModelPackage {version_arn(self.region, group_name, number)} does not exist.")
        return version

    def _checked_policy(self, policy: Mapping[str, Any]) -> dict[str, Any]:
        checked = GatePolicy.from_mapping(policy)
        if checked.evaluation_datasource is not None:
            try:
                self._predict.get_datasource(checked.evaluation_datasource)
            except NotFound:
                raise InvalidValue(
                    f"policy evaluation_datasource={checked.evaluation_datasource!r}: there is no such DataSource"
                ) from None
        return checked.to_dict()

    def _document_metrics(self, model_metrics: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        """The metric set in ModelMetrics' statistics document, if one is given."""
        statistics = (model_metrics or {}).get("ModelQuality", {}).get("Statistics")
        if not statistics:
            return []
        values = self._sources.metrics_document(statistics["S3Uri"], statistics.get("ContentDigest"))
        rows = values.get("records")
        return [{"source": statistics["S3Uri"], "records": int(rows) if rows else None, "values": values}]

    def _metrics_document(self, key: str, metrics: list[dict[str, Any]], caller: Caller) -> dict[str, Any]:
        """Write the metrics as a JSON object in the model store; ModelMetrics pointing at it."""
        body = json.dumps({"metrics": metrics}, indent=2).encode()
        stored = self._model_store.put(key, [body], caller, content_type="application/json")
        statistics = {
            "ContentType": "application/json",
            "S3Uri": self._model_store.location(stored.key),
            "ContentDigest": f"sha256:{hashlib.sha256(body).hexdigest()}",
        }
        return {"ModelQuality": {"Statistics": statistics}}

    def _delete_artifacts(self, prefix: str, caller: Caller) -> None:
        for name in ("artifact", "metrics.json"):
            self._model_store.delete(f"{prefix}/{name}", caller)


def _fresh(now: dt.datetime, actor: str) -> dict[str, Any]:
    """What a newly registered version starts with: no gate yet, made and changed now by the actor."""
    return {
        "approval_description": "",
        "gate_status": GateStatus.NOT_STARTED,
        "gate_report": None,
        "promotion_id": None,
        "created_at": now,
        "created_by": actor,
        "updated_at": now,
        "updated_by": actor,
    }


def _cancelled(version: ModelVersion) -> dict[str, Any]:
    """The values that cancel a version's running gate (none if no gate runs)."""
    if version.gate_status is not GateStatus.IN_PROGRESS:
        return {}
    return {"gate_status": GateStatus.NOT_STARTED, "promotion_id": None}


def _checked_query(query: ListQuery | None) -> ListQuery:
    query = query or ListQuery()
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidValue(f"MaxResults={query.limit!r}; expected 1 to {MAX_PAGE}")
    if query.offset < 0:
        raise InvalidValue(f"NextToken offset {query.offset}; expected 0 or more")
    return query
