"""Hosted models, endpoint configs, endpoints and their audit trail, as rows of the metadata store.

Every function takes a connection, so the endpoint service composes them into one transaction where a
change must be atomic (an update swaps an endpoint's variants, bumps its version and audits it together).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, insert, select, update

from altostratus.deploy.hosting import (
    AuditEntry,
    Endpoint,
    EndpointConfig,
    EndpointStatus,
    HostedModel,
    Variant,
    VariantSpec,
)
from altostratus.deploy.tables import (
    endpoint_audit,
    endpoint_canaries,
    endpoint_config_variants,
    endpoint_configs,
    endpoint_inferences,
    endpoint_stats,
    endpoint_variants,
    endpoints,
    hosted_models,
)
from altostratus.storage.paging import Listed, ListQuery, Page, fetch_page

AUDIT_LIMIT = 50


# ---- models --------------------------------------------------------------------------------------------


def insert_model(db: Connection, model: HostedModel) -> None:
    """Add a hosted model (IntegrityError if the name is taken)."""
    values = dataclasses.asdict(model)
    values["containers"] = list(values["containers"])
    values["primary_container"] = values.pop("primary")
    db.execute(insert(hosted_models).values(**values))


def find_model(db: Connection, name: str) -> HostedModel | None:
    """The hosted model, or None."""
    row = db.execute(select(hosted_models).where(hosted_models.c.name == name)).first()
    if row is None:
        return None
    values = dict(row._mapping)
    return HostedModel(
        name=values["name"],
        arn=values["arn"],
        package_arn=values["package_arn"],
        containers=tuple(values["containers"]),
        primary=values["primary_container"],
        created_at=values["created_at"],
    )


def list_models(db: Connection, query: ListQuery) -> Page[tuple[str, str, dt.datetime]]:
    """(name, ARN, creation time) of the hosted models the query selects."""
    return fetch_page(db, select(hosted_models), query, Listed(hosted_models), lambda r: (r.name, r.arn, r.created_at))


def model_users(db: Connection, name: str) -> tuple[list[str], list[str]]:
    """The endpoint configs and the endpoints whose variants run the model."""
    configs = db.execute(
        select(endpoint_config_variants.c.config_name).where(endpoint_config_variants.c.model_name == name).distinct()
    ).scalars()
    running = db.execute(
        select(endpoint_variants.c.endpoint_name).where(endpoint_variants.c.model_name == name).distinct()
    ).scalars()
    return sorted(configs), sorted(running)


def models_running(db: Connection, package_arns: Sequence[str]) -> list[str]:
    """The hosted models that run any of these registry versions."""
    statement = select(hosted_models.c.name).where(hosted_models.c.package_arn.in_(package_arns))
    return sorted(db.execute(statement.order_by(hosted_models.c.name)).scalars())


def delete_model(db: Connection, name: str) -> None:
    """Remove the hosted model's row."""
    db.execute(delete(hosted_models).where(hosted_models.c.name == name))


# ---- endpoint configs ------------------------------------------------------------------------------


def insert_config(db: Connection, config: EndpointConfig) -> None:
    """Add a config and its variants (IntegrityError if the name is taken or a model is missing)."""
    db.execute(insert(endpoint_configs).values(name=config.name, arn=config.arn, created_at=config.created_at))
    db.execute(
        insert(endpoint_config_variants),
        [
            {
                "config_name": config.name,
                "variant_name": spec.name,
                "position": position,
                "model_name": spec.model_name,
                "shadow": spec.shadow,
                "weight": spec.weight,
                "instance_count": spec.instance_count,
                "instance_type": spec.instance_type,
            }
            for position, spec in enumerate(config.variants)
        ],
    )


def find_config(db: Connection, name: str) -> EndpointConfig | None:
    """The endpoint config with its variants, or None."""
    row = db.execute(select(endpoint_configs).where(endpoint_configs.c.name == name)).first()
    if row is None:
        return None
    table = endpoint_config_variants
    specs = db.execute(select(table).where(table.c.config_name == name).order_by(table.c.position)).all()
    variants = tuple(
        VariantSpec(
            name=s.variant_name,
            model_name=s.model_name,
            weight=s.weight,
            instance_count=s.instance_count,
            instance_type=s.instance_type,
            shadow=s.shadow,
        )
        for s in specs
    )
    return EndpointConfig(row.name, row.arn, variants, row.created_at)


def list_configs(db: Connection, query: ListQuery) -> Page[tuple[str, str, dt.datetime]]:
    """(name, ARN, creation time) of the endpoint configs the query selects."""
    listed = Listed(endpoint_configs)
    return fetch_page(db, select(endpoint_configs), query, listed, lambda r: (r.name, r.arn, r.created_at))


def delete_config(db: Connection, name: str) -> None:
    """Remove the config and its variants."""
    db.execute(delete(endpoint_config_variants).where(endpoint_config_variants.c.config_name == name))
    db.execute(delete(endpoint_configs).where(endpoint_configs.c.name == name))


# ---- endpoints -------------------------------------------------------------------------------------


def insert_endpoint(db: Connection, endpoint: Endpoint) -> None:
    """Add an endpoint and its variants (IntegrityError if the name is taken)."""
    values = {f.name: getattr(endpoint, f.name) for f in dataclasses.fields(endpoint) if f.name != "variants"}
    db.execute(insert(endpoints).values(**values, job_id=None))
    _insert_variants(db, endpoint.name, endpoint.variants)


def find_endpoint(db: Connection, name: str) -> Endpoint | None:
    """The endpoint with its variants, or None."""
    row = db.execute(select(endpoints).where(endpoints.c.name == name)).first()
    if row is None:
        return None
    table = endpoint_variants
    rows = db.execute(select(table).where(table.c.endpoint_name == name).order_by(table.c.position)).all()
    variants = tuple(
        Variant(
            name=v.variant_name,
            model_name=v.model_name,
            package_arn=v.package_arn,
            shadow=v.shadow,
            current_weight=v.current_weight,
            desired_weight=v.desired_weight,
            instance_count=v.instance_count,
            instance_type=v.instance_type,
        )
        for v in rows
    )
    return Endpoint(
        name=row.name,
        arn=row.arn,
        config_name=row.config_name,
        status=EndpointStatus(row.status),
        failure_reason=row.failure_reason,
        version=row.version,
        variants=variants,
        created_at=row.created_at,
        updated_at=row.updated_at,
        pending_config=row.pending_config,
    )


def endpoint_version(db: Connection, name: str) -> int | None:
    """The endpoint's version (bumped by every change of its variants or weights), or None."""
    version: int | None = db.execute(select(endpoints.c.version).where(endpoints.c.name == name)).scalar()
    return version


def unsettled_endpoints(db: Connection) -> list[str]:
    """The endpoints that are Creating or Updating."""
    unsettled = (EndpointStatus.CREATING.value, EndpointStatus.UPDATING.value)
    return list(db.execute(select(endpoints.c.name).where(endpoints.c.status.in_(unsettled))).scalars())


def list_endpoints(
    db: Connection, query: ListQuery, status: EndpointStatus | None = None
) -> Page[tuple[str, str, dt.datetime, dt.datetime, EndpointStatus]]:
    """(name, ARN, created, modified, status) of the endpoints the query selects."""
    statement = select(endpoints) if status is None else select(endpoints).where(endpoints.c.status == status.value)
    return fetch_page(db, statement, query, Listed(endpoints), _endpoint_summary)


def _endpoint_summary(r: Row[Any]) -> tuple[str, str, dt.datetime, dt.datetime, EndpointStatus]:
    return r.name, r.arn, r.created_at, r.updated_at, EndpointStatus(r.status)


def update_endpoint(db: Connection, name: str, values: Mapping[str, Any], *, version: int | None = None) -> bool:
    """Change the endpoint's row (only at `version` when given); whether it changed."""
    condition = endpoints.c.name == name
    if version is not None:
        condition = and_(condition, endpoints.c.version == version)
    return db.execute(update(endpoints).where(condition).values(**values)).rowcount == 1


def replace_variants(db: Connection, name: str, variants: Sequence[Variant]) -> None:
    """Swap the endpoint's variants for these."""
    db.execute(delete(endpoint_variants).where(endpoint_variants.c.endpoint_name == name))
    _insert_variants(db, name, variants)


def set_weights(db: Connection, name: str, weights: Mapping[str, float]) -> None:
    """Make these the variants' current and desired weights."""
    table = endpoint_variants
    for variant, weight in weights.items():
        db.execute(
            update(table)
            .where(table.c.endpoint_name == name, table.c.variant_name == variant)
            .values(current_weight=weight, desired_weight=weight)
        )


def delete_endpoint(db: Connection, name: str) -> None:
    """Remove the endpoint, its variants and its experiment data (its audit trail stays)."""
    for table, column in (
        (endpoint_variants, endpoint_variants.c.endpoint_name),
        (endpoint_stats, endpoint_stats.c.endpoint_name),
        (endpoint_inferences, endpoint_inferences.c.endpoint_name),
        (endpoint_canaries, endpoint_canaries.c.endpoint_name),
    ):
        db.execute(delete(table).where(column == name))
    db.execute(delete(endpoints).where(endpoints.c.name == name))


def _insert_variants(db: Connection, name: str, variants: Sequence[Variant]) -> None:
    db.execute(
        insert(endpoint_variants),
        [
            {
                "endpoint_name": name,
                "variant_name": v.name,
                "position": position,
                "model_name": v.model_name,
                "package_arn": v.package_arn,
                "shadow": v.shadow,
                "current_weight": v.current_weight,
                "desired_weight": v.desired_weight,
                "instance_count": v.instance_count,
                "instance_type": v.instance_type,
            }
            for position, v in enumerate(variants)
        ],
    )


# ---- audit -----------------------------------------------------------------------------------------


def audit(
    db: Connection,
    endpoint: str,
    at: dt.datetime,
    actor: str,
    action: str,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry to the endpoint's audit trail."""
    db.execute(
        insert(endpoint_audit).values(
            endpoint_name=endpoint, at=at, actor=actor, action=action, reason=reason, details=details
        )
    )


def audit_trail(db: Connection, endpoint: str, limit: int = AUDIT_LIMIT) -> list[AuditEntry]:
    """The endpoint's latest audit entries, oldest first."""
    table = endpoint_audit
    rows = db.execute(
        select(table).where(table.c.endpoint_name == endpoint).order_by(table.c.id.desc()).limit(limit)
    ).all()
    return [AuditEntry(r.endpoint_name, r.at, r.actor, r.action, r.reason, r.details) for r in reversed(rows)]
