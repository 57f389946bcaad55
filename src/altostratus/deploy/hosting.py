"""What hosting serves: models (a registry version to run), endpoint configs (variants) and endpoints.

A hosted model names one registry version (a model package version's ARN) and keeps the container
definition it was created with, to describe it back. An endpoint config lists production variants
(each a model and a weight) and shadow variants (each a model that sees every request and answers
none). An endpoint runs one config: its variants carry the weights traffic is split by now, which
weight updates and canary steps change without touching the config.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.deploy.errors import InvalidValue

NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
MAX_VARIANTS = 10


class EndpointStatus(enum.StrEnum):
    """SageMaker's endpoint states that this server goes through."""

    CREATING = "Creating"
    UPDATING = "Updating"
    IN_SERVICE = "InService"
    FAILED = "Failed"
    DELETING = "Deleting"

    @property
    def serves(self) -> bool:
        """Whether the endpoint answers invocations (an update keeps the old variants serving)."""
        return self in (EndpointStatus.IN_SERVICE, EndpointStatus.UPDATING)


def check_name(field: str, value: str) -> str:
    """A resource name as SageMaker allows it: 1-63 letters, digits and inner hyphens."""
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InvalidValue(f"{field}={value!r}; expected 1 to 63 letters, digits or hyphens, not starting with one")
    return value


@dataclasses.dataclass(frozen=True)
class HostedModel:
    """A model an endpoint can run: the registry version it serves and how it was defined."""

    name: str
    arn: str
    package_arn: str
    containers: tuple[Mapping[str, Any], ...]
    primary: bool
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class VariantSpec:
    """One variant of an endpoint config: its model, initial weight and (nominal) capacity."""

    name: str
    model_name: str
    weight: float = 1.0
    instance_count: int = 1
    instance_type: str | None = None
    shadow: bool = False

    def __post_init__(self) -> None:
        check_name("VariantName", self.name)
        check_name("ModelName", self.model_name)
        check_weight(f"InitialVariantWeight of variant {self.name!r}", self.weight)


@dataclasses.dataclass(frozen=True)
class EndpointConfig:
    """Named variants: production ones first, then shadow ones."""

    name: str
    arn: str
    variants: tuple[VariantSpec, ...]
    created_at: dt.datetime

    @property
    def production(self) -> tuple[VariantSpec, ...]:
        """The variants that answer requests."""
        return tuple(v for v in self.variants if not v.shadow)

    @property
    def shadows(self) -> tuple[VariantSpec, ...]:
        """The variants that see every request and answer none."""
        return tuple(v for v in self.variants if v.shadow)


@dataclasses.dataclass(frozen=True)
class Variant:
    """A variant as an endpoint runs it: its model's registry version and its current weight."""

    name: str
    model_name: str
    package_arn: str
    shadow: bool
    current_weight: float
    desired_weight: float
    instance_count: int = 1
    instance_type: str | None = None


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """An endpoint, its config, status and the variants it runs now."""

    name: str
    arn: str
    config_name: str
    status: EndpointStatus
    failure_reason: str
    version: int
    variants: tuple[Variant, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    pending_config: str | None = None

    @property
    def production(self) -> tuple[Variant, ...]:
        """The variants that answer requests."""
        return tuple(v for v in self.variants if not v.shadow)

    @property
    def shadows(self) -> tuple[Variant, ...]:
        """The variants that see every request and answer none."""
        return tuple(v for v in self.variants if v.shadow)

    def variant(self, name: str) -> Variant:
        """The production variant called name; InvalidValue naming the ones there are."""
        for variant in self.production:
            if variant.name == name:
                return variant
        names = [v.name for v in self.production]
        raise InvalidValue(f"VariantName={name!r} is not a production variant of endpoint {self.name!r}; has {names}")


def check_weight(field: str, weight: float) -> float:
    """A variant weight: a finite number, 0 or more."""
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
        raise InvalidValue(f"{field}={weight!r}; expected a number of 0 or more")
    return float(weight)


def check_variants(specs: Sequence[VariantSpec]) -> tuple[VariantSpec, ...]:
    """A config's variants, checked: 1-10 production ones, at most 10 shadows, unique names, some weight."""
    production = [v for v in specs if not v.shadow]
    shadows = [v for v in specs if v.shadow]
    if not 1 <= len(production) <= MAX_VARIANTS:
        raise InvalidValue(f"ProductionVariants has {len(production)} variants; expected 1 to {MAX_VARIANTS}")
    if len(shadows) > MAX_VARIANTS:
        raise InvalidValue(f"ShadowProductionVariants has {len(shadows)} variants; expected at most {MAX_VARIANTS}")
    names = [v.name for v in specs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InvalidValue(f"VariantName {repeated} is used more than once; variant names must be unique in a config")
    if sum(v.weight for v in production) <= 0:
        raise InvalidValue("every production variant has InitialVariantWeight 0; at least one must be above 0")
    return tuple(production + shadows)


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    """One change to an endpoint: when, by whom (an access key, or "canary"), what and why."""

    endpoint_name: str
    at: dt.datetime
    actor: str
    action: str
    reason: str
    details: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data."""
        return {**dataclasses.asdict(self), "at": self.at.isoformat()}
