"""A function's requirements.txt, checked before pip sees it: package requirements only, nothing pip would run.

pip runs as the server's user, outside any sandbox. So a requirements file may name packages (PEP 508, with
versions, extras, markers and `--hash` pins) and nothing else: no pip options (`-r /etc/shadow`, `--index-url`,
`-e`), no URLs or paths; and pip installs wheels only (`--only-binary=:all:`, see dependencies.py), so no
package's build code runs on the host either.
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

from altostratus.functions.errors import InvalidCode

FILE = "requirements.txt"
HASH_OPTION = re.compile(r"--hash[= ](sha256|sha384|sha512):[0-9a-fA-F]+")
COMMENT = re.compile(r"(^|\s)#.*$")  # pip's rule: '#' at the start or after whitespace


def check(text: str) -> None:
    """InvalidCode naming the first line that is not a plain package requirement."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = HASH_OPTION.sub("", COMMENT.sub("", raw)).strip()
        if not line:
            continue
        problem = _problem(line)
        if problem:
            shown = raw.strip()[:200]
            raise InvalidCode(
                f"{FILE} line {number} ({shown!r}) {problem}; expected a package requirement such as "
                "'requests==2.32.3' (pip options, URLs and paths are not allowed)"
            )


def _problem(line: str) -> str | None:
    if line.startswith("-") or line.endswith("\\"):
        return "is a pip option or a continued line"
    try:
        requirement = Requirement(line)
    except InvalidRequirement as error:
        return f"is not a requirement ({str(error).splitlines()[0]})"
    if requirement.url:
        return "names a URL or a path"
    return None
