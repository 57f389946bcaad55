"""Function names, qualifiers and ARNs, in every form Lambda accepts them."""

from __future__ import annotations

import dataclasses
import re

from altostratus.core.ids import arn
from altostratus.functions.definitions import LATEST
from altostratus.functions.errors import InvalidFunctionParameter

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
ALIAS = re.compile(r"(?!\d+$)[A-Za-z0-9_-]{1,128}")
VERSION_NUMBER = re.compile(r"[1-9]\d{0,9}")
# arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], ACCOUNT:function:NAME[:QUALIFIER], NAME[:QUALIFIER]
_FULL_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:(?P<rest>.+)")
_PARTIAL_ARN = re.compile(r"\d{12}:function:(?P<rest>.+)")
FORMS = (
    "NAME, NAME:QUALIFIER, ACCOUNT:function:NAME[:QUALIFIER] or arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]"
)


@dataclasses.dataclass(frozen=True)
class FunctionRef:
    """A function name with an optional qualifier: $LATEST, a version number or an alias name."""

    name: str
    qualifier: str | None = None

    @property
    def is_alias(self) -> bool:
        """Whether the qualifier names an alias rather than a version."""
        return self.qualifier is not None and self.qualifier != LATEST and not self.qualifier.isdigit()


def check_name(name: str) -> str:
    """name when it is a valid function name; InvalidParameterValueException naming the rule otherwise."""
    if not NAME.fullmatch(name):
        raise InvalidFunctionParameter(
            f"FunctionName={name!r}; expected 1 to 64 letters, digits, hyphens and underscores"
        )
    return name


def check_qualifier(qualifier: str) -> str:
    """qualifier when it is $LATEST, a version number or an alias name."""
    if qualifier != LATEST and not VERSION_NUMBER.fullmatch(qualifier) and not ALIAS.fullmatch(qualifier):
        raise InvalidFunctionParameter(
            f"Qualifier={qualifier!r}; expected $LATEST, a version number or an alias name "
            "(1 to 128 letters, digits, hyphens and underscores, not all digits)"
        )
    return qualifier


def check_alias_name(alias: str) -> str:
    """alias when it is a valid alias name (not all digits, so it can never be mistaken for a version)."""
    if not ALIAS.fullmatch(alias):
        raise InvalidFunctionParameter(
            f"Name={alias!r}; expected 1 to 128 letters, digits, hyphens and underscores, not all digits"
        )
    return alias


def parse_ref(text: str, qualifier: str | None = None, *, qualified: bool = True) -> FunctionRef:
    """The function (and qualifier) named by a name, name:qualifier, partial ARN or ARN.

    `qualifier` is the separate Qualifier parameter; when the name carries one too, both must agree.
    With `qualified=False` (CreateFunction, aliases, PublishVersion) no qualifier is accepted in the name.
    """
    found = _FULL_ARN.fullmatch(text) or _PARTIAL_ARN.fullmatch(text)
    rest = found.group("rest") if found else text
    name, sep, in_name = rest.partition(":")
    if ":" in in_name or (sep and not in_name):
        raise InvalidFunctionParameter(f"FunctionName={text!r}; expected one of {FORMS}")
    check_name(name)
    if sep:
        if not qualified:
            raise InvalidFunctionParameter(f"FunctionName={text!r}; expected an unqualified name or ARN here")
        check_qualifier(in_name)
        if qualifier is not None and qualifier != in_name:
            raise InvalidFunctionParameter(
                f"The derived qualifier from the function name ({in_name!r}) does not match "
                f"the specified qualifier ({qualifier!r})."
            )
        return FunctionRef(name, in_name)
    return FunctionRef(name, check_qualifier(qualifier) if qualifier is not None else None)


def function_arn(region: str, name: str, qualifier: str | None = None) -> str:
    """arn:aws:lambda:REGION:000000000000:function:NAME[:QUALIFIER]."""
    return arn("lambda", region, f"function:{name}" + (f":{qualifier}" if qualifier else ""))
