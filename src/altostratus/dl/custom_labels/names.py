"""Custom Labels' names and ARNs, checked against the patterns of Rekognition's service model.

Rekognition forms the ARNs from the project's name and the creation time in milliseconds:
`arn:aws:rekognition:<region>:<account>:project/<name>/<ms>`, with `/dataset/<train|test>/<ms>` or
`/version/<version name>/<ms>` after the project's name for its datasets and versions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from altostratus.core.ids import arn
from altostratus.vision.errors import InvalidParameter

NAME = re.compile(r"[a-zA-Z0-9_.\-]{1,255}")
_ARN_HEAD = r"arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project/(?P<project>[a-zA-Z0-9_.\-]{1,255})"
PROJECT_ARN = re.compile(_ARN_HEAD + r"/[0-9]+")
DATASET_ARN = re.compile(_ARN_HEAD + r"/dataset/(?P<type>train|test)/[0-9]+")
VERSION_ARN = re.compile(_ARN_HEAD + r"/version/(?P<version>[a-zA-Z0-9_.\-]{1,255})/[0-9]+")
MAX_ARN = 2048


@dataclasses.dataclass(frozen=True)
class Arns:
    """Forms the ARNs of one region and account."""

    region: str
    account: str

    def project(self, name: str, created: dt.datetime) -> str:
        """A project's ARN."""
        return arn("rekognition", self.region, f"project/{name}/{_millis(created)}", self.account)

    def dataset(self, project_arn: str, dataset_type: str, created: dt.datetime) -> str:
        """A dataset's ARN, under its project's name."""
        return f"{_project_root(project_arn)}/dataset/{dataset_type.lower()}/{_millis(created)}"

    def version(self, project_arn: str, version_name: str, created: dt.datetime) -> str:
        """A project version's ARN, under its project's name."""
        return f"{_project_root(project_arn)}/version/{version_name}/{_millis(created)}"


def checked_name(member: str, value: str) -> str:
    """A project or version name: 1 to 255 letters, digits, '_', '.' or '-'."""
    if not NAME.fullmatch(value):
        raise InvalidParameter(f"{member}={value!r}; expected 1 to 255 of a-z, A-Z, 0-9, '_', '.' and '-'")
    return value


def project_of(member: str, value: str, pattern: re.Pattern[str] = PROJECT_ARN) -> str:
    """The project's name in an ARN that matches `pattern`; InvalidParameter naming the member otherwise."""
    found = pattern.fullmatch(value) if len(value) <= MAX_ARN else None
    if found is None:
        raise InvalidParameter(f"{member}={value!r}; expected an ARN matching {pattern.pattern}")
    return found["project"]


def _project_root(project_arn: str) -> str:
    # The project's ARN without its creation time: the prefix of its datasets' and versions' ARNs.
    return project_arn.rsplit("/", 1)[0]


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)
