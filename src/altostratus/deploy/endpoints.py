"""EndpointService: hosted models, endpoint configs and endpoints, kept in the metadata store.

Creating or updating an endpoint records it Creating (Updating) and queues a job that loads every
variant's model; the job makes it InService, or Failed with the reason (an update that fails leaves the
old variants serving). An update swaps the variants in one transaction once the new models are loaded,
so requests never find the endpoint without a model. Every change of an endpoint's variants or weights
bumps its version, which servers compare to refresh their routes, and is audited with who and why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from altostratus.core.clock import Clock
from altostratus.core.ids import arn
from altostratus.deploy import hosting_records as records
from altostratus.deploy.errors import DoesNotExist, InUse, InvalidValue
from altostratus.deploy.hosting import (
    AuditEntry,
    Endpoint,
    EndpointConfig,
    EndpointStatus,
    HostedModel,
    Variant,
    VariantSpec,
    check_name,
    check_variants,
    check_weight,
)
from altostratus.deploy.runners import ModelLoader, ModelRunner
from altostratus.jobs import JobContext, JobQueue, JobWaitTimeout
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.paging import ListQuery, Page

SETTLE_JOB = "deploy.endpoint"
SETTLE_WAIT_SECONDS = 2.0


class ModelCache:
    """Loaded models by registry version: a version never changes, so each is loaded once per process."""

    def __init__(self, load: ModelLoader) -> None:
        self._load = load
        self._models: dict[str, ModelRunner] = {}
        self._lock = threading.Lock()

    def get(self, package_arn: str) -> ModelRunner:
        """The version's model, loaded on first use."""
        model = self._models.get(package_arn)
        if model is None:
            model = self._load(package_arn)
            with self._lock:
                model = self._models.setdefault(package_arn, model)
        return model


class EndpointService:
    """SageMaker hosting's nouns: models, endpoint configs and endpoints with weighted variants."""

    def __init__(
        self,
        metadata: MetadataStore,
        models: ModelCache,
        jobs: JobQueue,
        clock: Clock,
        *,
        region: str,
        settle_wait_seconds: float = SETTLE_WAIT_SECONDS,
    ) -> None:
        self._metadata = metadata
        self.models = models
        self._jobs = jobs
        self._clock = clock
        self._region = region
        self._settle_wait = settle_wait_seconds
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call listener(endpoint name) after every change this service makes to an endpoint."""
        self._listeners.append(listener)

    def _changed(self, name: str) -> None:
        for listener in self._listeners:
            listener(name)

    def handlers(self) -> dict[str, Any]:
        """The job handlers by job kind (deploy.endpoint)."""
        return {SETTLE_JOB: self.settle}

    def arn(self, kind: str, name: str) -> str:
        """The ARN of a model, endpoint-config or endpoint (SageMaker writes names lower-case in ARNs)."""
        return arn("sagemaker", self._region, f"{kind}/{name.lower()}")

    # ---- models -----------------------------------------------------------------------------------

    def create_model(
        self, name: str, package_arn: str, *, containers: Sequence[Mapping[str, Any]], primary: bool
    ) -> HostedModel:
        """A model that runs a registry version; the version is loaded (and its checksum checked) now."""
        check_name("ModelName", name)
        self.models.get(package_arn)
        model = HostedModel(name, self.arn("model", name), package_arn, tuple(containers), primary, self._clock.now())
        duplicate = InvalidValue(f'Cannot create already existing model "{model.arn}".')
        try:
            with self._metadata.begin() as db:
                if records.find_model(db, name) is not None:
                    raise duplicate
                records.insert_model(db, model)
        except IntegrityError:
            raise duplicate from None
        return model

    def get_model(self, name: str) -> HostedModel:
        """The hosted model; DoesNotExist if there is none."""
        with self._metadata.read() as db:
            model = records.find_model(db, name)
        if model is None:
            raise DoesNotExist(f'Could not find model "{self.arn("model", name)}".')
        return model

    def list_models(self, query: ListQuery) -> Page[tuple[str, str, dt.datetime]]:
        """(name, ARN, creation time) of the models the query selects."""
        with self._metadata.read() as db:
            return records.list_models(db, query)

    def package_user(self, version_arn: str) -> str | None:
        """What runs a registry version ("model NAME"), or None: the registry refuses to delete it then."""
        # A model may name the version by its ARN or as GROUP/VERSION.
        short = version_arn.split(":model-package/", 1)[-1]
        with self._metadata.read() as db:
            names = records.models_running(db, [version_arn, short])
        return f"model {names[0]}" if names else None

    def delete_model(self, name: str) -> None:
        """Delete the model; refused (InUse) while an endpoint config or an endpoint runs it."""
        try:
            with self._metadata.begin() as db:
                if records.find_model(db, name) is None:
                    raise DoesNotExist(f'Could not find model "{self.arn("model", name)}".')
                configs, running = records.model_users(db, name)
                if configs or running:
                    raise InUse(_in_use_message(name, configs, running))
                records.delete_model(db, name)
        except IntegrityError:
            # A config naming the model was committed between the check and the delete.
            raise InUse(f"Cannot delete model {name!r}: an endpoint config began to use it just now") from None

    # ---- endpoint configs -------------------------------------------------------------------------

    def create_config(self, name: str, variants: Sequence[VariantSpec]) -> EndpointConfig:
        """A config of production and shadow variants, each running an existing model."""
        check_name("EndpointConfigName", name)
        config = EndpointConfig(name, self.arn("endpoint-config", name), check_variants(variants), self._clock.now())
        try:
            with self._metadata.begin() as db:
                if records.find_config(db, name) is not None:
                    raise InvalidValue(f'Cannot create already existing endpoint configuration "{config.arn}".')
                for spec in config.variants:
                    if records.find_model(db, spec.model_name) is None:
                        raise InvalidValue(
                            f'Could not find model "{self.arn("model", spec.model_name)}" (variant {spec.name!r}).'
                        )
                records.insert_config(db, config)
        except IntegrityError:
            raise InvalidValue(f"endpoint configuration {name!r} or one of its models changed meanwhile") from None
        return config

    def get_config(self, name: str) -> EndpointConfig:
        """The endpoint config; DoesNotExist if there is none."""
        with self._metadata.read() as db:
            config = records.find_config(db, name)
        if config is None:
            raise DoesNotExist(f'Could not find endpoint configuration "{self.arn("endpoint-config", name)}".')
        return config

    def list_configs(self, query: ListQuery) -> Page[tuple[str, str, dt.datetime]]:
        """(name, ARN, creation time) of the endpoint configs the query selects."""
        with self._metadata.read() as db:
            return records.list_configs(db, query)

    def delete_config(self, name: str) -> None:
        """Delete the config (endpoints created from it keep running, as in SageMaker)."""
        with self._metadata.begin() as db:
            if records.find_config(db, name) is None:
                raise DoesNotExist(f'Could not find endpoint configuration "{self.arn("endpoint-config", name)}".')
            records.delete_config(db, name)

    # ---- endpoints --------------------------------------------------------------------------------

    def create_endpoint(self, name: str, config_name: str, *, actor: str) -> Endpoint:
        """An endpoint running the config's variants: Creating until their models are loaded."""
        check_name("EndpointName", name)
        now = self._clock.now()
        with self._metadata.begin() as db:
            config = records.find_config(db, config_name)
            if config is None:
                raise InvalidValue(
                    f'Could not find endpoint configuration "{self.arn("endpoint-config", config_name)}".'
                )
            if records.find_endpoint(db, name) is not None:
                raise InvalidValue(f'Cannot create already existing endpoint "{self.arn("endpoint", name)}".')
            variants = self._variants(db, config)
            endpoint = Endpoint(
                name, self.arn("endpoint", name), config_name, EndpointStatus.CREATING, "", 1, variants, now, now
            )
            records.insert_endpoint(db, endpoint)
            records.audit(db, name, now, actor, "create", f"created from endpoint config {config_name!r}")
        self._queue_settle(name)
        return self.get_endpoint(name)

    def get_endpoint(self, name: str) -> Endpoint:
        """The endpoint; DoesNotExist if there is none."""
        with self._metadata.read() as db:
            endpoint = records.find_endpoint(db, name)
        if endpoint is None:
            raise DoesNotExist(f'Could not find endpoint "{self.arn("endpoint", name)}".')
        return endpoint

    def find_endpoint(self, name: str) -> Endpoint | None:
        """The endpoint, or None."""
        with self._metadata.read() as db:
            return records.find_endpoint(db, name)

    def endpoint_version(self, name: str) -> int | None:
        """The endpoint's version, or None if it does not exist (one indexed read)."""
        with self._metadata.read() as db:
            return records.endpoint_version(db, name)

    def list_endpoints(
        self, query: ListQuery, status: EndpointStatus | None = None
    ) -> Page[tuple[str, str, dt.datetime, dt.datetime, EndpointStatus]]:
        """(name, ARN, created, modified, status) of the endpoints the query selects."""
        with self._metadata.read() as db:
            return records.list_endpoints(db, query, status)

    def update_endpoint(self, name: str, config_name: str, *, actor: str, retain_weights: bool = False) -> Endpoint:
        """Move the endpoint to another config with no downtime; `retain_weights` keeps same-named variants' weights."""
        now = self._clock.now()
        with self._metadata.begin() as db:
            endpoint = self._serving(db, name, "update")
            if records.find_config(db, config_name) is None:
                raise InvalidValue(
                    f'Could not find endpoint configuration "{self.arn("endpoint-config", config_name)}".'
                )
            values = {
                "status": EndpointStatus.UPDATING.value,
                "pending_config": config_name,
                "version": endpoint.version + 1,
                "updated_at": now,
            }
            records.update_endpoint(db, name, values)
            records.audit(
                db,
                name,
                now,
                actor,
                "update",
                f"update to endpoint config {config_name!r} requested",
                {"from": endpoint.config_name, "to": config_name, "retain_weights": retain_weights},
            )
        self._changed(name)
        self._queue_settle(name, retain_weights=retain_weights)
        return self.get_endpoint(name)

    def set_weights(
        self, name: str, weights: Mapping[str, float], *, actor: str, reason: str = "", action: str = "weights"
    ) -> Endpoint:
        """Give production variants new weights, at once; audited with who and why."""
        if not weights:
            raise InvalidValue("DesiredWeightsAndCapacities is empty; name at least one variant")
        now = self._clock.now()
        with self._metadata.begin() as db:
            endpoint = self._serving(db, name, "update the weights of")
            checked = {v: check_weight(f"DesiredWeight of variant {v!r}", w) for v, w in weights.items()}
            for variant in checked:
                endpoint.variant(variant)
            after = {v.name: checked.get(v.name, v.current_weight) for v in endpoint.production}
            if sum(after.values()) <= 0:
                raise InvalidValue(f"the weights {after} leave every production variant at 0; one must be above 0")
            before = {v.name: v.current_weight for v in endpoint.production}
            records.set_weights(db, name, checked)
            records.update_endpoint(db, name, {"version": endpoint.version + 1, "updated_at": now})
            records.audit(db, name, now, actor, action, reason, {"before": before, "after": after})
        self._changed(name)
        return self.get_endpoint(name)

    def delete_endpoint(self, name: str, *, actor: str) -> None:
        """Delete the endpoint and its experiment data (its audit trail stays)."""
        now = self._clock.now()
        with self._metadata.begin() as db:
            if records.find_endpoint(db, name) is None:
                raise DoesNotExist(f'Could not find endpoint "{self.arn("endpoint", name)}".')
            records.delete_endpoint(db, name)
            records.audit(db, name, now, actor, "delete", "endpoint deleted")
        self._changed(name)

    def audit_trail(self, name: str) -> list[AuditEntry]:
        """The endpoint's latest changes, oldest first."""
        with self._metadata.read() as db:
            return records.audit_trail(db, name)

    # ---- settling (the job) -----------------------------------------------------------------------

    def resume(self) -> None:
        """Queue the settling of endpoints a stopped server left Creating or Updating."""
        with self._metadata.read() as db:
            names = records.unsettled_endpoints(db)
        for name in names:
            self._jobs.submit(SETTLE_JOB, {"endpoint": name, "retain_weights": False}, max_attempts=1)

    def settle(self, context: JobContext) -> dict[str, Any]:
        """Load a Creating or Updating endpoint's models, then make it InService (or Failed)."""
        name = str(context.payload["endpoint"])
        endpoint = self.find_endpoint(name)
        if endpoint is None or endpoint.status not in (EndpointStatus.CREATING, EndpointStatus.UPDATING):
            return {"endpoint": name, "skipped": True}
        if endpoint.status is EndpointStatus.CREATING:
            return self._settle_creation(endpoint)
        return self._settle_update(endpoint, retain_weights=bool(context.payload.get("retain_weights")))

    def _settle_creation(self, endpoint: Endpoint) -> dict[str, Any]:
        problem = self._load_all(endpoint.variants)
        status = EndpointStatus.FAILED if problem else EndpointStatus.IN_SERVICE
        with self._metadata.begin() as db:
            values = {
                "status": status.value,
                "failure_reason": problem,
                "version": endpoint.version + 1,
                "updated_at": self._clock.now(),
            }
            records.update_endpoint(db, endpoint.name, values, version=endpoint.version)
        self._changed(endpoint.name)
        return {"endpoint": endpoint.name, "status": status.value}

    def _settle_update(self, endpoint: Endpoint, *, retain_weights: bool) -> dict[str, Any]:
        assert endpoint.pending_config is not None
        now = self._clock.now()
        with self._metadata.read() as db:
            config = records.find_config(db, endpoint.pending_config)
            variants = self._variants(db, config) if config is not None else ()
        problem = self._load_all(variants) if config else f"endpoint config {endpoint.pending_config!r} was deleted"
        if retain_weights:
            kept = {v.name: v.current_weight for v in endpoint.variants}
            variants = tuple(
                dataclasses.replace(v, current_weight=kept[v.name], desired_weight=kept[v.name])
                if v.name in kept
                else v
                for v in variants
            )
        with self._metadata.begin() as db:
            values: dict[str, Any] = {
                "status": EndpointStatus.IN_SERVICE.value,
                "pending_config": None,
                "version": endpoint.version + 1,
            }
            if problem:
                reason = f"update to endpoint config {endpoint.pending_config!r} failed: {problem}"
                values.update(failure_reason=reason, updated_at=now)
                records.update_endpoint(db, endpoint.name, values, version=endpoint.version)
                records.audit(db, endpoint.name, now, "alto", "update-failed", reason)
            else:
                values.update(config_name=endpoint.pending_config, failure_reason="", updated_at=now)
            if not problem and records.update_endpoint(db, endpoint.name, values, version=endpoint.version):
                records.replace_variants(db, endpoint.name, variants)
                records.audit(
                    db,
                    endpoint.name,
                    now,
                    "alto",
                    "updated",
                    f"now runs endpoint config {endpoint.pending_config!r}",
                    {"variants": {v.name: v.current_weight for v in variants}},
                )
        self._changed(endpoint.name)
        return {"endpoint": endpoint.name, "status": "InService", "failure": problem}

    def _load_all(self, variants: Sequence[Variant]) -> str:
        for variant in variants:
            try:
                self.models.get(variant.package_arn)
            except Exception as error:
                message = getattr(error, "message", None) or str(error) or type(error).__name__
                return f"variant {variant.name!r} could not load {variant.package_arn}: {message}"
        return ""

    def _queue_settle(self, name: str, *, retain_weights: bool = False) -> None:
        job = self._jobs.submit(SETTLE_JOB, {"endpoint": name, "retain_weights": retain_weights}, max_attempts=1)
        with self._metadata.begin() as db:
            records.update_endpoint(db, name, {"job_id": job.job_id})
        # Small models load in milliseconds: waiting a moment lets a client's first DescribeEndpoint (boto3's
        # endpoint_in_service waiter) find the endpoint InService rather than sleep its 30 s delay.
        with contextlib.suppress(JobWaitTimeout):
            self._jobs.wait(job.job_id, self._settle_wait, poll_interval=0.01)

    def _serving(self, db: Any, name: str, doing: str) -> Endpoint:
        endpoint = records.find_endpoint(db, name)
        if endpoint is None:
            raise DoesNotExist(f'Could not find endpoint "{self.arn("endpoint", name)}".')
        if endpoint.status is not EndpointStatus.IN_SERVICE:
            raise InvalidValue(
                f'Cannot {doing} endpoint "{endpoint.arn}" while it is {endpoint.status.value}; wait for InService'
            )
        return endpoint

    def _variants(self, db: Any, config: EndpointConfig) -> tuple[Variant, ...]:
        variants = []
        for spec in config.variants:
            model = records.find_model(db, spec.model_name)
            if model is None:
                raise InvalidValue(f'Could not find model "{self.arn("model", spec.model_name)}".')
            variants.append(
                Variant(
                    spec.name,
                    spec.model_name,
                    model.package_arn,
                    spec.shadow,
                    spec.weight,
                    spec.weight,
                    spec.instance_count,
                    spec.instance_type,
                )
            )
        return tuple(variants)


def _in_use_message(name: str, configs: Sequence[str], running: Sequence[str]) -> str:
    users = []
    if running:
        users.append(f"endpoints {running}")
    if configs:
        users.append(f"endpoint configs {configs}")
    return (
        f"Cannot delete model {name!r}: {' and '.join(users)} use it. Deleting a model that an endpoint uses is "
        "refused; update or delete the endpoints and delete the endpoint configs first"
    )
