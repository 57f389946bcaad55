"""A policy statement's Condition block: the operators and keys a bucket policy may test, evaluated as IAM does.

    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "Bool": {"aws:SecureTransport": "false"}}

Every operator in the block must hold, every key under an operator must hold, and a key holds when the request's
value matches any of the listed values (for the negated operators: none of them). A key the request does not
carry fails every operator but the negated ones and Null. Operators and keys this module does not know, the
...IfExists forms and the ForAnyValue:/ForAllValues: set qualifiers are refused, never ignored: a condition
silently dropped would widen an Allow or void a Deny.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

# The request's value(s) of a condition key (keys lower-cased), None when the request carries none.
Context = Callable[[str], tuple[str, ...] | None]

KEYS = frozenset(
    {
        "s3:prefix",
        "s3:delimiter",
        "s3:max-keys",
        "aws:securetransport",
        "aws:sourceip",
        "aws:username",
        "aws:userid",
        "aws:principalaccount",
        "aws:principalarn",
    }
)
TAG_KEY_PREFIX = "s3:existingobjecttag/"
# Keys that name who asks: a condition that pins one of them to fixed values keeps a "*" principal from being public.
PRINCIPAL_KEYS = frozenset({"aws:sourceip", "aws:username", "aws:userid", "aws:principalaccount", "aws:principalarn"})


def _numeric(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _ip_in(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _like(value: str, pattern: str) -> bool:
    return _wildcard(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def _compare(test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(value: str, wanted: str) -> bool:
        number, limit = _numeric(value), _numeric(wanted)
        return number is not None and limit is not None and test(number, limit)

    return compare


# Operator -> (does one request value match one listed value, is the operator negated).
_MATCHERS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda v, w: v == w, False),
    "StringNotEquals": (lambda v, w: v == w, True),
    "StringEqualsIgnoreCase": (lambda v, w: v.casefold() == w.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda v, w: v.casefold() == w.casefold(), True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "NumericEquals": (_compare(lambda a, b: a == b), False),
    "NumericNotEquals": (_compare(lambda a, b: a == b), True),
    "NumericLessThan": (_compare(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_compare(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_compare(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_compare(lambda a, b: a >= b), False),
    "Bool": (lambda v, w: v.lower() == w.lower(), False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
}
OPERATORS = frozenset(_MATCHERS) | {"Null"}


@dataclasses.dataclass(frozen=True)
class Condition:
    """One key tested by one operator against listed values."""

    operator: str
    key: str  # lower-cased: IAM compares condition keys case-insensitively
    values: tuple[str, ...]

    def holds(self, context: Context) -> bool:
        """Whether the request's value of the key passes the operator."""
        found = context(self.key)
        if self.operator == "Null":
            return all((found is None) == (wanted.lower() == "true") for wanted in self.values)
        match, negated = _MATCHERS[self.operator]
        if found is None:
            return negated
        hit = any(match(value, wanted) for value in found for wanted in self.values)
        return not hit if negated else hit

    def pins_principal(self) -> bool:
        """Whether the condition lets only fixed principals or addresses in (so a "*" principal is not public)."""
        if self.key not in PRINCIPAL_KEYS:
            return False
        if self.operator == "IpAddress":
            return all(ipaddress.ip_network(v, strict=False).prefixlen > 0 for v in self.values)
        if self.operator in ("StringEquals", "StringEqualsIgnoreCase"):
            return True
        return self.operator == "StringLike" and not any("*" in v or "?" in v for v in self.values)


def parse_conditions(block: Any, where: str, malformed: Callable[[str], Exception]) -> tuple[Condition, ...]:
    """The conditions of a statement's Condition block; malformed(message) raised for anything not understood."""
    if not isinstance(block, Mapping) or not block:
        raise malformed(f"{where} Condition={block!r}; expected an object of operators, each an object of keys")
    found: list[Condition] = []
    for operator, tests in block.items():
        _check_operator(str(operator), where, malformed)
        if not isinstance(tests, Mapping) or not tests:
            raise malformed(f"{where} Condition {operator}={tests!r}; expected an object of condition keys")
        for key, raw in tests.items():
            name = _check_key(str(key), where, malformed)
            values = _values(raw, f"{where} Condition {operator} {key}", malformed)
            _check_values(operator, values, f"{where} Condition {operator} {key}", malformed)
            found.append(Condition(operator, name, values))
    return tuple(found)


def _check_operator(operator: str, where: str, malformed: Callable[[str], Exception]) -> None:
    if ":" in operator:
        raise malformed(
            f"{where} Condition operator {operator!r}: the set qualifiers ForAnyValue: and ForAllValues: are not "
            "supported by this server (every key it tests has one value); use the operator alone"
        )
    if operator.endswith("IfExists"):
        raise malformed(
            f"{where} Condition operator {operator!r}: the ...IfExists operators are not supported by this server; "
            "use the operator alone (a key the request lacks fails it) or add a Null test"
        )
    if operator not in OPERATORS:
        raise malformed(
            f"{where} Condition operator {operator!r} is not supported; expected one of {sorted(OPERATORS)}"
        )


def _check_key(key: str, where: str, malformed: Callable[[str], Exception]) -> str:
    name = key.lower()
    if name in KEYS or (name.startswith(TAG_KEY_PREFIX) and len(name) > len(TAG_KEY_PREFIX)):
        # A tag's key is case-sensitive: keep its case after the prefix.
        return name if name in KEYS else TAG_KEY_PREFIX + key[len(TAG_KEY_PREFIX) :]
    raise malformed(
        f"{where} Condition key {key!r} is not supported; expected one of {sorted(KEYS)} or s3:ExistingObjectTag/<key>"
    )


def _values(raw: Any, where: str, malformed: Callable[[str], Exception]) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(v, str | bool | int | float) for v in items):
        raise malformed(f"{where}={raw!r}; expected a string, number or boolean, or a non-empty list of them")
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in items)


def _check_values(operator: str, values: tuple[str, ...], where: str, malformed: Callable[[str], Exception]) -> None:
    if operator.startswith("Numeric") and any(_numeric(v) is None for v in values):
        raise malformed(f"{where}={list(values)}; {operator} compares numbers")
    if operator in ("Bool", "Null") and any(v.lower() not in ("true", "false") for v in values):
        raise malformed(f"{where}={list(values)}; {operator} takes true or false")
    if operator.endswith("IpAddress"):
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise malformed(f"{where}={value!r} is not an IP address or CIDR block") from None
