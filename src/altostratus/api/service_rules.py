"""Which service a request is for, by rules written down once: signing name, then X-Amz-Target or path prefix.

AWS clients address every service on one endpoint here, so the gateway tells them apart as AWS's own front
ends do (and as LocalStack's service-name rules do): first by the service name in the request's SigV4
credential scope, then, where several services share a signing name, by the json protocol's X-Amz-Target
prefix or by a path prefix. The rules say which service owns what; no service's correctness depends on the
order in which services are listed, and a request is never tried against one service after another.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from altostratus.api.operations import service_model
from altostratus.core.errors import UnknownOperation

# Rest services whose signing name another service shares, and the path prefixes that are theirs. SageMaker
# Runtime signs as "sagemaker" and serves /endpoints/{name}/invocations (and /async-endpoints/...); every
# SageMaker operation is json, named by X-Amz-Target, so the two never meet. Lex V2's runtime will join here.
SHARED_SIGNING_PATHS: Mapping[str, tuple[str, ...]] = {
    "sagemaker-runtime": ("/endpoints/", "/async-endpoints/", "/inference-components/"),
}
# Rest services sharing a signing name whose paths differ below a variable segment: Lex's runtime talks to
# /bots/{botId}/botAliases/{aliasId}/botLocales/{localeId}/sessions/..., its models API to every other /bots/ path
# (its aliases are "botaliases", in lower case).
SHARED_SIGNING_PATTERNS: Mapping[str, tuple[str, ...]] = {
    "lexv2-runtime": (r"/bots/[^/]+/botAliases/[^/]+/botLocales/[^/]+/sessions/[^/]+(?:/|$)",),
}
# The service an unsigned request goes to when no HTTP handler claims it: S3, whose anonymous requests
# (public objects, browser uploads) are the only unsigned AWS calls.
UNSIGNED_SERVICE = "s3"


class Addressed(Protocol):
    """What the rules need to know of a service: its botocore name, protocol, signing name and target prefix."""

    service: str
    protocol: str
    signing_name: str
    target_prefix: str | None


class HttpRoute(Protocol):
    """An HTTP handler that is not an AWS API (functions' routes, the console, edge): what it owns."""

    path_prefix: str
    # The signing names it takes (None: unsigned); a request signed for an AWS service is that service's.
    signing_names: frozenset[str | None]


@dataclasses.dataclass(frozen=True)
class ServiceRule:
    """How one service's requests are recognised among those that share its signing name."""

    service: str
    signing_name: str
    target_prefix: str | None = None  # json protocol: the X-Amz-Target before its "."
    path_prefixes: tuple[str, ...] = ()  # rest protocols sharing a signing name: the paths that are theirs
    # Unsigned requests carry no signing name: a rest service's are told by the literal first path segments of
    # its operations in its model (Lambda's "/2015-03-31/..."), so they get that service's own errors.
    unsigned_roots: frozenset[str] = frozenset()
    path_patterns: tuple[str, ...] = ()  # regular expressions a path of this service's matches from its start

    def owns(self, raw_path: str) -> bool:
        """Whether the path is under one of the service's prefixes or matches one of its patterns."""
        return any(under(raw_path, p) for p in self.path_prefixes) or any(
            re.match(pattern, raw_path) for pattern in self.path_patterns
        )


def rule_for(service: Addressed) -> ServiceRule:
    """The rule of one service, from its model's metadata and SHARED_SIGNING_PATHS."""
    target = service.target_prefix if service.protocol == "json" else None
    paths = SHARED_SIGNING_PATHS.get(service.service, ())
    roots = literal_roots(service.service) if service.protocol != "json" and service.service != UNSIGNED_SERVICE else ()
    patterns = SHARED_SIGNING_PATTERNS.get(service.service, ())
    if patterns:  # its paths start as another's do: an unsigned request goes to that one
        roots = ()
    return ServiceRule(service.service, service.signing_name, target, paths, frozenset(roots), patterns)


def literal_roots(service: str) -> set[str]:
    """The first path segments of the service's operations that are literal ("2015-03-31", not "{Bucket}")."""
    operations = service_model(service)["operations"].values()
    segments = {op["http"]["requestUri"].partition("?")[0].split("/")[1] for op in operations}
    return {segment for segment in segments if segment and "{" not in segment}


def under(path: str, prefix: str) -> bool:
    """Whether path is prefix or below it ("/api" holds "/api" and "/api/x", not "/apis")."""
    bare = prefix.rstrip("/")
    return path == bare or path.startswith(bare + "/")


class ServiceRules:
    """The rules of the services behind one gateway, checked for overlaps when they are made."""

    def __init__(self, services: Iterable[Addressed], http_routes: Sequence[HttpRoute] = ()) -> None:
        self._by_signing: dict[str, list[ServiceRule]] = {}
        self._services: dict[str, Addressed] = {}
        for service in services:
            if service.service in self._services:
                raise ValueError(f"two handlers for the service {service.service!r}")
            self._services[service.service] = service
            self._by_signing.setdefault(service.signing_name, []).append(rule_for(service))
        _check_apart([rule for rules in self._by_signing.values() for rule in rules])
        _check_http_routes(http_routes)
        self._http_routes = list(http_routes)

    @property
    def services(self) -> list[str]:
        """The services served, by botocore name."""
        return list(self._services)

    def http_route(self, signing: str | None, raw_path: str) -> HttpRoute | None:
        """The HTTP handler that owns the request, if one does."""
        for route in self._http_routes:
            if signing in route.signing_names and under(raw_path, route.path_prefix):
                return route
        return None

    def service(self, signing: str | None, target: str | None, raw_path: str) -> Addressed:
        """The service the request is for; UnknownOperation when no rule names one."""
        if signing is None:
            return self._unsigned(target, raw_path)
        rules = self._by_signing.get(signing)
        if not rules:
            raise UnknownOperation(f"This server does not offer the service {signing!r} (it offers {self.services})")
        return self._services[_choose(signing, rules, target, raw_path).service]

    def _unsigned(self, target: str | None, raw_path: str) -> Addressed:
        everything = [rule for rules in self._by_signing.values() for rule in rules]
        named = [rule for rule in everything if target is not None and rule.target_prefix == target.partition(".")[0]]
        owned = [rule for rule in everything if any(under(raw_path, p) for p in rule.path_prefixes)]
        root = raw_path.split("/")[1] if raw_path.count("/") >= 1 else ""
        rooted = [rule for rule in everything if root in rule.unsigned_roots]
        for found in (named, owned, rooted):  # at most one rule in each (see _check_apart)
            if found:
                return self._services[found[0].service]
        if UNSIGNED_SERVICE not in self._services:
            raise UnknownOperation("The request is not signed, and unsigned requests go to S3, which is not served")
        return self._services[UNSIGNED_SERVICE]


def _choose(signing: str, rules: list[ServiceRule], target: str | None, raw_path: str) -> ServiceRule:
    if len(rules) == 1:
        return rules[0]
    named = [rule for rule in rules if target is not None and rule.target_prefix == target.partition(".")[0]]
    owned = [rule for rule in rules if rule.owns(raw_path)]
    unmarked = [
        rule for rule in rules if rule.target_prefix is None and not rule.path_prefixes and not rule.path_patterns
    ]
    json_rules = [rule for rule in rules if rule.target_prefix is not None]
    # The checks in ServiceRules leave at most one rule in each list.
    for found in (named, owned, unmarked, json_rules):
        if len(found) == 1:
            return found[0]
    names = sorted(rule.service for rule in rules)
    raise UnknownOperation(
        f"The request is signed for {signing!r}, which {names} share, and names none of them: "
        f"X-Amz-Target={target!r}, path {raw_path!r}"
    )


def _check_apart(rules: list[ServiceRule]) -> None:
    """Every rule must be told from the others: target prefixes unique, path prefixes apart, and at most one
    service of a signing name with neither (the one its requests go to when they name no other)."""
    targets = [rule.target_prefix for rule in rules if rule.target_prefix is not None]
    if len(targets) != len(set(targets)):
        raise ValueError(f"two services share an X-Amz-Target prefix: {sorted(targets)}")
    paths = [(p, rule.service) for rule in rules for p in rule.path_prefixes]
    for i, (path, service) in enumerate(paths):
        for other, other_service in paths[i + 1 :]:
            if under(path, other) or under(other, path):
                raise ValueError(f"{service} and {other_service} both claim paths under {path!r} and {other!r}")
    roots = [root for rule in rules for root in rule.unsigned_roots]
    if len(roots) != len(set(roots)):
        raise ValueError(f"two services' paths start alike: {sorted(roots)}")
    signings = [
        r.signing_name for r in rules if r.target_prefix is None and not r.path_prefixes and not r.path_patterns
    ]
    if len(signings) != len(set(signings)):
        raise ValueError(f"services signed alike cannot be told apart: {[r.service for r in rules]}")


def _check_http_routes(routes: Sequence[HttpRoute]) -> None:
    for i, route in enumerate(routes):
        for other in routes[i + 1 :]:
            nested = under(route.path_prefix, other.path_prefix) or under(other.path_prefix, route.path_prefix)
            if nested and route.signing_names & other.signing_names:
                raise ValueError(f"HTTP handlers under {route.path_prefix!r} and {other.path_prefix!r} overlap")
