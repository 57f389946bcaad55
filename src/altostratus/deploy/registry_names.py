"""Names and ARNs of model package groups and their versions, as SageMaker spells them."""

from __future__ import annotations

import re

from altostratus.core.ids import arn
from altostratus.deploy.errors import InvalidValue

GROUP_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_ARN_PREFIX = re.compile(r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:(?P<kind>[a-z\-]+)/(?P<rest>.+)")


def check_group_name(field: str, name: str) -> str:
    """The name, if SageMaker allows it for a group; InvalidValue otherwise."""
    if not isinstance(name, str) or not GROUP_NAME.fullmatch(name):
        raise InvalidValue(
            f"{field}={name!r}; expected 1 to 63 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return name


def group_arn(region: str, name: str) -> str:
    """The group's ARN."""
    return arn("sagemaker", region, f"model-package-group/{name}")


def version_arn(region: str, name: str, version: int) -> str:
    """A version's ARN (a versioned model package)."""
    return arn("sagemaker", region, f"model-package/{name}/{version}")


def parse_group(field: str, text: str) -> str:
    """The group name in a name or a model-package-group ARN."""
    found = _ARN_PREFIX.fullmatch(text)
    if found is not None:
        if found["kind"] != "model-package-group":
            raise InvalidValue(f"{field}={text!r}; expected a model package group name or ARN")
        text = found["rest"]
    return check_group_name(field, text)


def parse_version(field: str, text: str) -> tuple[str, int]:
    """(group, version) in `group/version` or a model-package ARN."""
    found = _ARN_PREFIX.fullmatch(text)
    if found is not None:
        if found["kind"] != "model-package":
            raise InvalidValue(f"{field}={text!r}; expected a model package ARN")
        text = found["rest"]
    name, _, number = text.rpartition("/")
    if not name or not number.isdigit() or not 1 <= int(number) <= 999_999_999:
        raise InvalidValue(f"{field}={text!r}; expected a versioned model package: GROUP/VERSION or its ARN")
    return check_group_name(field, name), int(number)
