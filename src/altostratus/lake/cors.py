"""A bucket's CORS configuration: S3's rules for one, and which rule lets a browser's cross-origin request in.

A configuration is 1 to 100 rules. A rule allows some of the methods GET, PUT, POST, DELETE and HEAD from some
origins, with the request headers it names; each origin and allowed header may hold one `*` wildcard (`*` alone:
any). A request is allowed by the first rule whose origins hold its Origin, whose methods hold its method, and
whose allowed headers hold every header it asks for (Access-Control-Request-Headers, compared without case).
Origins are compared as sent, with their case: browsers send them lower-case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, update

from altostratus.core.errors import AccessDenied, BadRequest, NotFound
from altostratus.lake import records
from altostratus.lake.errors import NoSuchBucket
from altostratus.lake.tables import buckets
from altostratus.storage.metadata import MetadataStore

METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_RULES = 100
MAX_ID_LENGTH = 255
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)


class NoSuchCORSConfiguration(NotFound):
    """The CORS configuration does not exist."""

    code = "NoSuchCORSConfiguration"


class InvalidCorsRule(BadRequest):
    """A CORS rule S3 would not take: a method it does not know, or a pattern with more than one wildcard."""

    code = "InvalidRequest"


class MalformedCors(BadRequest):
    """The CORS configuration is not one S3's schema allows (no rules, too many, a rule without methods)."""

    code = "MalformedXML"


class IncompletePreflight(BadRequest):
    """A preflight request without its Origin or Access-Control-Request-Method header."""

    code = "BadRequest"


class CorsForbidden(AccessDenied):
    """A preflight request that no rule of the bucket's CORS configuration allows."""

    code = "AccessForbidden"


@dataclasses.dataclass(frozen=True)
class CorsRule:
    """One rule: the methods it allows from which origins, with which request headers; the response headers a
    browser may show the page, and how long it may keep a preflight's answer."""

    allowed_methods: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    def allows(self, origin: str, method: str, request_headers: Sequence[str] = ()) -> bool:
        """Whether the rule lets this origin send this method with these headers."""
        return (
            method in self.allowed_methods
            and any(wildcard_match(pattern, origin) for pattern in self.allowed_origins)
            and all(
                any(wildcard_match(pattern.lower(), header.lower()) for pattern in self.allowed_headers)
                for header in request_headers
            )
        )

    @property
    def any_origin(self) -> bool:
        """Whether the rule lets every origin in (its answer names "*", not the origin)."""
        return "*" in self.allowed_origins

    def to_json(self) -> dict[str, Any]:
        """The rule as buckets.cors stores it."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> CorsRule:
        """A stored rule."""
        return cls(
            allowed_methods=tuple(stored["allowed_methods"]),
            allowed_origins=tuple(stored["allowed_origins"]),
            allowed_headers=tuple(stored.get("allowed_headers", ())),
            expose_headers=tuple(stored.get("expose_headers", ())),
            max_age_seconds=stored.get("max_age_seconds"),
            id=stored.get("id"),
        )


def wildcard_match(pattern: str, value: str) -> bool:
    """Whether value matches a pattern holding at most one `*` (any run of characters, the empty one too)."""
    if "*" not in pattern:
        return pattern == value
    prefix, _, suffix = pattern.partition("*")
    return len(value) >= len(prefix) + len(suffix) and value.startswith(prefix) and value.endswith(suffix)


def check_rules(rules: Iterable[CorsRule]) -> tuple[CorsRule, ...]:
    """The rules, if S3 would take them as a bucket's CORS configuration; MalformedCors or InvalidCorsRule."""
    checked = tuple(rules)
    if not 1 <= len(checked) <= MAX_RULES:
        raise MalformedCors(f"The CORS configuration holds {len(checked)} CORSRule elements; expected 1 to {MAX_RULES}")
    for number, rule in enumerate(checked, 1):
        _check_rule(number, rule)
    return checked


def _check_rule(number: int, rule: CorsRule) -> None:
    if not rule.allowed_methods or not rule.allowed_origins:
        raise MalformedCors(
            f"CORSRule {number} must name at least one AllowedMethod and one AllowedOrigin; it names "
            f"{len(rule.allowed_methods)} and {len(rule.allowed_origins)}"
        )
    for method in rule.allowed_methods:
        if method not in METHODS:
            raise InvalidCorsRule(
                f"Found unsupported HTTP method in CORS config. Unsupported method is {method}; expected one of "
                f"{', '.join(METHODS)}"
            )
    for kind, patterns in (("AllowedOrigin", rule.allowed_origins), ("AllowedHeader", rule.allowed_headers)):
        for pattern in patterns:
            if pattern.count("*") > 1:
                raise InvalidCorsRule(f'{kind} "{pattern}" can not have more than one wildcard.')
    for header in rule.expose_headers:
        if "*" in header:
            raise InvalidCorsRule(
                f'ExposeHeader "{header}" contains wildcard. We currently do not support wildcard for ExposeHeader.'
            )
    if rule.max_age_seconds is not None and rule.max_age_seconds < 0:
        raise MalformedCors(f"CORSRule {number}: MaxAgeSeconds={rule.max_age_seconds}; expected 0 or more")
    if rule.id is not None and len(rule.id) > MAX_ID_LENGTH:
        raise MalformedCors(f"CORSRule {number}: its ID has {len(rule.id)} characters; expected at most 255")


def first_allowing(
    rules: Sequence[CorsRule], origin: str, method: str, request_headers: Sequence[str] = ()
) -> CorsRule | None:
    """The first rule that allows the request, or None."""
    return next((rule for rule in rules if rule.allows(origin, method, request_headers)), None)


class BucketCors:
    """Reads and replaces buckets' CORS configurations, and answers browsers' preflight requests with them."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def rules(self, bucket: str) -> tuple[CorsRule, ...]:
        """The bucket's rules (none: it has no configuration); NoSuchBucket when there is no such bucket."""
        with self._store.read() as db:
            found = db.execute(select(buckets.c.cors).where(buckets.c.name == bucket)).first()
        if found is None:
            raise NoSuchBucket(f"Bucket={bucket!r} does not exist", bucket=bucket)
        return tuple(CorsRule.from_json(rule) for rule in found.cors or ())

    def configuration(self, bucket: str) -> tuple[CorsRule, ...]:
        """The bucket's rules; NoSuchCORSConfiguration when it has none."""
        found = self.rules(bucket)
        if not found:
            raise NoSuchCORSConfiguration(
                f"The CORS configuration does not exist: Bucket={bucket!r} has none", bucket=bucket
            )
        return found

    def set_configuration(self, bucket: str, rules: Iterable[CorsRule]) -> None:
        """Replace the bucket's configuration with these rules, checked."""
        self._store_rules(bucket, [rule.to_json() for rule in check_rules(rules)])

    def delete_configuration(self, bucket: str) -> None:
        """Remove the bucket's configuration (nothing happens if it has none, as S3 answers)."""
        self._store_rules(bucket, None)

    def preflight(
        self, bucket: str, origin: str | None, method: str | None, request_headers: Sequence[str]
    ) -> CorsRule:
        """The rule that lets a browser send this request; IncompletePreflight without an origin or method,
        CorsForbidden when no rule allows it, or the bucket has no configuration or does not exist."""
        if origin is None:
            raise IncompletePreflight("Insufficient information. Origin request header needed.")
        if method is None:
            raise IncompletePreflight("Invalid Access-Control-Request-Method: null")
        try:
            rules = self.rules(bucket)
        except NoSuchBucket:
            raise CorsForbidden("CORSResponse: Bucket not found", bucket=bucket) from None
        if not rules:
            raise CorsForbidden("CORSResponse: CORS is not enabled for this bucket.", bucket=bucket)
        rule = first_allowing(rules, origin, method, request_headers)
        if rule is None:
            raise CorsForbidden(NOT_ALLOWED, bucket=bucket)
        return rule

    def _store_rules(self, bucket: str, stored: list[dict[str, Any]] | None) -> None:
        with self._store.begin() as db:
            if not db.execute(update(buckets).where(buckets.c.name == bucket).values(cors=stored)).rowcount:
                records.get_bucket(db, bucket)
