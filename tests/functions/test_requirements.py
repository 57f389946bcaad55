"""A function's requirements.txt names packages only: pip never sees an option, a URL or a path from a user."""

from __future__ import annotations

import pytest

from altostratus.functions.errors import InvalidCode
from altostratus.functions.packaging import inspect_zip
from altostratus.functions.requirements import check
from tests.functions.wheels import make_zip


@pytest.mark.parametrize(
    "text",
    [
        "requests==2.32.3\n",
        "# pinned\nnumpy>=2,<3 ; python_version >= '3.10'  # inline comment\n\n",
        "boto3[crt]~=1.35\n",
        "altotiny==1.0 --hash=sha256:0123abcd\n",
    ],
)
def test_package_requirements_pass(text: str) -> None:
    check(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("-r /etc/shadow\n", "pip option"),
        ("--index-url http://127.0.0.1:9/simple\n", "pip option"),
        ("-e git+https://example.invalid/x.git\n", "pip option"),
        ("requests \\\n==2.0\n", "continued line"),
        ("evil @ file:///root/.ssh\n", "URL or a path"),
        ("evil @ https://example.invalid/evil.whl\n", "URL or a path"),
        ("./local/package\n", "not a requirement"),
        ("ok==1\nnot a requirement at all\n", "line 2"),
    ],
)
def test_anything_else_is_refused_naming_the_line(text: str, why: str) -> None:
    with pytest.raises(InvalidCode, match=why):
        check(text)


def test_a_package_with_a_hostile_requirements_file_is_refused_at_deploy() -> None:
    code = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "requirements.txt": "-r /etc/shadow\n"})
    with pytest.raises(InvalidCode, match=r"requirements.txt line 1 \('-r /etc/shadow'\)"):
        inspect_zip(code)
