"""IAM-style policy documents: the subset that says which actions a key may take on which resources.

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::raw/*"},
                   {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}

As IAM evaluates them: an explicit Deny wins, then any Allow, and anything else is denied. Action and Resource
take `*` and `?` wildcards (actions compared case-insensitively, resources exactly). Elements this subset does
not evaluate (Principal, NotAction, NotResource, Condition) are refused, never ignored.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from altostratus.core.errors import BadRequest

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_FIELDS = frozenset({"Sid", "Effect", "Action", "Resource"})
UNSUPPORTED_FIELDS = frozenset({"Principal", "NotPrincipal", "NotAction", "NotResource", "Condition"})
MAX_DOCUMENT_BYTES = 10240  # an IAM role's inline policies hold 10,240 characters


class MalformedPolicy(BadRequest):
    """The policy document is not one this subset can evaluate."""

    code = "MalformedPolicyDocument"


class Effect(enum.StrEnum):
    """What a matching statement does."""

    ALLOW = "Allow"
    DENY = "Deny"


@dataclasses.dataclass(frozen=True)
class Statement:
    """One rule: an effect on actions over resources (each a pattern with * and ?)."""

    effect: Effect
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def matches(self, action: str, resource: str) -> bool:
        """Whether the statement speaks of this action on this resource."""
        return any(_match(pattern, action, fold=True) for pattern in self.actions) and any(
            _match(pattern, resource, fold=False) for pattern in self.resources
        )


def allows(statements: Iterable[Statement], action: str, resource: str) -> bool:
    """IAM's verdict: False on an explicit Deny, True on an Allow, False when nothing matches."""
    allowed = False
    for statement in statements:
        if statement.matches(action, resource):
            if statement.effect is Effect.DENY:
                return False
            allowed = True
    return allowed


def allow(actions: Sequence[str], resources: Sequence[str]) -> Statement:
    """An Allow statement."""
    return Statement(Effect.ALLOW, tuple(actions), tuple(resources))


def parse(document: Any) -> tuple[Statement, ...]:
    """The statements of a policy document (a JSON text or an object); MalformedPolicy naming what is wrong."""
    if isinstance(document, str):
        if len(document.encode()) > MAX_DOCUMENT_BYTES:
            raise MalformedPolicy(f"the policy has {len(document.encode())} bytes; at most {MAX_DOCUMENT_BYTES}")
        try:
            document = json.loads(document)
        except ValueError as error:
            raise MalformedPolicy(f"the policy is not JSON: {error}") from None
    if not isinstance(document, Mapping):
        raise MalformedPolicy(f"the policy is {type(document).__name__}; expected a JSON object with a Statement")
    unknown = sorted(set(document) - {"Version", "Id", "Statement"})
    if unknown:
        raise MalformedPolicy(f"the policy has {unknown}; expected Version, Id and Statement")
    if document.get("Version", VERSIONS[0]) not in VERSIONS:
        raise MalformedPolicy(f"Version={document.get('Version')!r}; expected one of {list(VERSIONS)}")
    raw = document.get("Statement")
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list) or not items:
        raise MalformedPolicy("Statement must be a statement or a non-empty list of them")
    return tuple(_statement(item, number) for number, item in enumerate(items, start=1))


def _statement(item: Any, number: int) -> Statement:
    where = f"Statement {number}"
    if not isinstance(item, Mapping):
        raise MalformedPolicy(f"{where} is {type(item).__name__}; expected an object")
    unsupported = sorted(UNSUPPORTED_FIELDS & set(item))
    if unsupported:
        raise MalformedPolicy(
            f"{where} has {unsupported}, which this server does not evaluate; use Action and Resource"
        )
    unknown = sorted(set(item) - STATEMENT_FIELDS)
    if unknown:
        raise MalformedPolicy(f"{where} has {unknown}; expected some of {sorted(STATEMENT_FIELDS)}")
    try:
        effect = Effect(str(item.get("Effect")))
    except ValueError:
        raise MalformedPolicy(f"{where} Effect={item.get('Effect')!r}; expected 'Allow' or 'Deny'") from None
    return Statement(effect, _patterns(item, "Action", where), _patterns(item, "Resource", where))


def _patterns(item: Mapping[str, Any], field: str, where: str) -> tuple[str, ...]:
    value = item.get(field)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise MalformedPolicy(f"{where} {field}={value!r}; expected a string or a non-empty list of strings")
    if field == "Action":
        bad = [v for v in values if v != "*" and ":" not in v]
        if bad:
            raise MalformedPolicy(f"{where} Action {bad} lack a service prefix; expected e.g. 's3:GetObject'")
    return tuple(values)


def _match(pattern: str, value: str, *, fold: bool) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    # IAM's wildcards are * and ? only: every other character stands for itself.
    return _compiled(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)
