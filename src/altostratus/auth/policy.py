"""IAM-style policy documents: the subset that says which actions a key may take on which resources.

    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::raw/*"},
                   {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}

As IAM evaluates them: an explicit Deny wins, then any Allow, and anything else is denied. Action and Resource
take `*` and `?` wildcards (actions compared case-insensitively, resources exactly). Elements this subset does
not evaluate (Principal, NotAction, NotResource, Condition) are refused, never ignored.

A bucket policy is a resource policy: its statements also say whom they speak of (Principal), may name actions
and resources by exclusion (NotAction, NotResource) and may hold a Condition (auth/conditions.py). That richer
grammar is parse_bucket_policy's alone; `parse`, used for functions' access policies, keeps refusing it.

    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::site/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}

A principal is "*" (everyone, the anonymous included), or {"AWS": ...} naming "*", a user
(arn:aws:iam::000000000000:user/NAME), the account (arn:aws:iam::000000000000:root or the bare account id: every
signed principal of it), or an access key id (AKIA...: the requests signed with that one key), or a list of them.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from altostratus.auth.conditions import Condition, Context, parse_conditions
from altostratus.core.errors import BadRequest
from altostratus.core.ids import ACCOUNT_ID

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_FIELDS = frozenset({"Sid", "Effect", "Action", "Resource"})
UNSUPPORTED_FIELDS = frozenset({"Principal", "NotPrincipal", "NotAction", "NotResource", "Condition"})
MAX_DOCUMENT_BYTES = 10240  # an IAM role's inline policies hold 10,240 characters


BUCKET_STATEMENT_FIELDS = frozenset(
    {"Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
MAX_BUCKET_POLICY_BYTES = 20 * 1024  # S3's limit for a bucket policy
_ACCESS_KEY_ID = re.compile(r"AKIA[A-Z0-9]{16}")
_USER_ARN = re.compile(rf"arn:aws:iam::{ACCOUNT_ID}:user/[A-Za-z0-9+=,.@_-]{{1,64}}")


class MalformedPolicy(BadRequest):
    """The policy document is not one this subset can evaluate."""

    code = "MalformedPolicyDocument"


class MalformedBucketPolicy(MalformedPolicy):
    """The bucket policy is not valid (S3's name for the error)."""

    code = "MalformedPolicy"


class Verdict(enum.Enum):
    """What a policy says of a request: an explicit Deny, an Allow, or nothing."""

    DENY = "deny"
    ALLOW = "allow"
    NONE = "none"


@dataclasses.dataclass(frozen=True)
class Principals:
    """Whom a resource policy's statement speaks of: everyone, or principals by id (see PolicyRequest)."""

    everyone: bool
    ids: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class PolicyRequest:
    """A request as a resource policy sees it.

    principal_ids are the ids that name the requester: its user's ARN, its access key id and "account" for a
    signed request; none for the anonymous one. context gives condition keys their values.
    """

    action: str
    resource: str
    principal_ids: frozenset[str]
    context: Context


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
    not_action: bool = False  # the statement speaks of every action but `actions` (NotAction)
    not_resource: bool = False
    principals: Principals | None = None  # None: an identity policy's statement, which speaks of its holder
    conditions: tuple[Condition, ...] = ()

    def matches(self, action: str, resource: str) -> bool:
        """Whether the statement speaks of this action on this resource."""
        acts = any(_match(pattern, action, fold=True) for pattern in self.actions) != self.not_action
        return acts and any(_match(p, resource, fold=False) for p in self.resources) != self.not_resource

    def applies(self, request: PolicyRequest) -> bool:
        """Whether a resource policy's statement speaks of this request: its principal, action, resource and
        every condition."""
        principals = self.principals
        if principals is None or not (principals.everyone or principals.ids & request.principal_ids):
            return False
        return self.matches(request.action, request.resource) and all(c.holds(request.context) for c in self.conditions)

    def is_public(self) -> bool:
        """Whether the statement allows everyone, with no condition pinning who or where from (S3's rule)."""
        everyone = self.principals is not None and self.principals.everyone
        return self.effect is Effect.ALLOW and everyone and not any(c.pins_principal() for c in self.conditions)


def allows(statements: Iterable[Statement], action: str, resource: str) -> bool:
    """IAM's verdict: False on an explicit Deny, True on an Allow, False when nothing matches."""
    allowed = False
    for statement in statements:
        if statement.matches(action, resource):
            if statement.effect is Effect.DENY:
                return False
            allowed = True
    return allowed


def evaluate(statements: Iterable[Statement], request: PolicyRequest) -> Verdict:
    """A resource policy's verdict on a request: DENY on an explicit Deny, ALLOW on an Allow, else NONE."""
    verdict = Verdict.NONE
    for statement in statements:
        if statement.applies(request):
            if statement.effect is Effect.DENY:
                return Verdict.DENY
            verdict = Verdict.ALLOW
    return verdict


def allow(actions: Sequence[str], resources: Sequence[str]) -> Statement:
    """An Allow statement."""
    return Statement(Effect.ALLOW, tuple(actions), tuple(resources))


def parse(document: Any) -> tuple[Statement, ...]:
    """The statements of a policy document (a JSON text or an object); MalformedPolicy naming what is wrong."""
    items = _statement_items(document, MAX_DOCUMENT_BYTES, MalformedPolicy)
    return tuple(_statement(item, number) for number, item in enumerate(items, start=1))


def parse_bucket_policy(document: Any, bucket: str, known_actions: frozenset[str]) -> tuple[Statement, ...]:
    """The statements of a bucket's policy, in the resource-policy grammar; MalformedBucketPolicy naming what is
    wrong, including a resource outside the bucket or an s3 action not in known_actions (wildcards aside)."""
    items = _statement_items(document, MAX_BUCKET_POLICY_BYTES, MalformedBucketPolicy)
    return tuple(_bucket_statement(item, n, bucket, known_actions) for n, item in enumerate(items, start=1))


def _statement_items(document: Any, max_bytes: int, malformed: type[MalformedPolicy]) -> list[Any]:
    if isinstance(document, str):
        if len(document.encode()) > max_bytes:
            raise malformed(f"the policy has {len(document.encode())} bytes; at most {max_bytes}")
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as error:
            raise malformed(f"the policy is not JSON: {error}") from None
    if not isinstance(document, Mapping):
        raise malformed(f"the policy is {type(document).__name__}; expected a JSON object with a Statement")
    unknown = sorted(set(document) - {"Version", "Id", "Statement"})
    if unknown:
        raise malformed(f"the policy has {unknown}; expected Version, Id and Statement")
    if document.get("Version", VERSIONS[0]) not in VERSIONS:
        raise malformed(f"Version={document.get('Version')!r}; expected one of {list(VERSIONS)}")
    raw = document.get("Statement")
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list) or not items:
        raise malformed("Statement must be a statement or a non-empty list of them")
    return items


def _bucket_statement(item: Any, number: int, bucket: str, known_actions: frozenset[str]) -> Statement:
    where = f"Statement {number}"
    bad = MalformedBucketPolicy
    if not isinstance(item, Mapping):
        raise bad(f"{where} is {type(item).__name__}; expected an object")
    if "NotPrincipal" in item:
        raise bad(f"{where} has NotPrincipal, which this server does not evaluate; name the principals in Principal")
    unknown = sorted(set(item) - BUCKET_STATEMENT_FIELDS)
    if unknown:
        raise bad(f"{where} has {unknown}; expected some of {sorted(BUCKET_STATEMENT_FIELDS)}")
    try:
        effect = Effect(str(item.get("Effect")))
    except ValueError:
        raise bad(f"{where} Effect={item.get('Effect')!r}; expected 'Allow' or 'Deny'") from None
    if "Principal" not in item:
        raise bad(f"{where} has no Principal; a bucket policy's statements must name whom they speak of")
    action_field = _one_of(item, "Action", "NotAction", where)
    resource_field = _one_of(item, "Resource", "NotResource", where)
    actions = _patterns(item, action_field, where, bad)
    unknown_actions = [a for a in actions if not _known_action(a, known_actions)]
    if unknown_actions:
        raise bad(f"Policy has invalid action: {where} {action_field} {unknown_actions}; expected s3 actions")
    resources = _patterns(item, resource_field, where, bad)
    outside = [r for r in resources if not _in_bucket(r, bucket)]
    if outside:
        raise bad(f"Policy has invalid resource: {where} {resource_field} {outside} lie outside arn:aws:s3:::{bucket}")
    conditions = parse_conditions(item["Condition"], where, bad) if "Condition" in item else ()
    return Statement(
        effect,
        actions,
        resources,
        not_action=action_field == "NotAction",
        not_resource=resource_field == "NotResource",
        principals=_principals(item["Principal"], where),
        conditions=conditions,
    )


def _one_of(item: Mapping[str, Any], field: str, negated: str, where: str) -> str:
    if (field in item) == (negated in item):
        raise MalformedBucketPolicy(f"{where} must have exactly one of {field} and {negated}")
    return field if field in item else negated


def _known_action(pattern: str, known_actions: frozenset[str]) -> bool:
    if pattern == "*":
        return True
    service, _, name = pattern.partition(":")
    if service.lower() != "s3" or not name:
        return False
    return "*" in name or "?" in name or any(pattern.lower() == a.lower() for a in known_actions)


def _in_bucket(resource: str, bucket: str) -> bool:
    # A bucket policy speaks of its own bucket and its objects only, as S3 checks.
    if "${" in resource:
        return False  # policy variables are not evaluated here: refused rather than matched literally
    if not resource.startswith("arn:aws:s3:::"):
        return False
    name = resource[len("arn:aws:s3:::") :].partition("/")[0]
    return _compiled(name).fullmatch(bucket) is not None


def _principals(value: Any, where: str) -> Principals:
    if value == "*":
        return Principals(everyone=True)
    if not isinstance(value, Mapping) or set(value) != {"AWS"}:
        raise MalformedBucketPolicy(
            f'Invalid principal in policy: {where} Principal={value!r}; expected "*" or {{"AWS": ...}}'
        )
    raw = value["AWS"]
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise MalformedBucketPolicy(f"Invalid principal in policy: {where} AWS={raw!r}; expected a string or a list")
    if "*" in names:
        return Principals(everyone=True)
    return Principals(everyone=False, ids=frozenset(_principal_id(name, where) for name in names))


def _principal_id(name: str, where: str) -> str:
    if name in (ACCOUNT_ID, f"arn:aws:iam::{ACCOUNT_ID}:root"):
        return "account"
    if _USER_ARN.fullmatch(name) or _ACCESS_KEY_ID.fullmatch(name):
        return name
    raise MalformedBucketPolicy(
        f'Invalid principal in policy: {where} names {name!r}; expected "*", arn:aws:iam::{ACCOUNT_ID}:root, '
        f"{ACCOUNT_ID}, arn:aws:iam::{ACCOUNT_ID}:user/<name> or an access key id"
    )


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


def _patterns(
    item: Mapping[str, Any], field: str, where: str, malformed: type[MalformedPolicy] = MalformedPolicy
) -> tuple[str, ...]:
    value = item.get(field)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise malformed(f"{where} {field}={value!r}; expected a string or a non-empty list of strings")
    if field in ("Action", "NotAction"):
        bad = [v for v in values if v != "*" and ":" not in v]
        if bad:
            raise malformed(f"{where} {field} {bad} lack a service prefix; expected e.g. 's3:GetObject'")
    return tuple(values)


def _match(pattern: str, value: str, *, fold: bool) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    # IAM's wildcards are * and ? only: every other character stands for itself.
    return _compiled(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)
