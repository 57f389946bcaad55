"""`alto serve` where sandboxes cannot be made: it says so, refuses to run functions, and runs them only when told.

Sandboxes are made unavailable the way a machine without bubblewrap has them: the server's PATH lacks bwrap.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.api.errors import fails
from tests.api.function_tools import create_function
from tests.functions.wheels import make_zip
from tests.live_server import live_server

WHO = make_zip({"app.py": "import os\ndef handler(event, context):\n    return os.getuid()\n"})
NO_BWRAP = {"PATH": str(Path(sys.executable).parent)}


def test_without_bubblewrap_the_server_says_so_and_refuses_to_run_functions(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", env=NO_BWRAP) as server:
        banner = (tmp_path / "data.log").read_text()
        assert "Functions are DISABLED: their sandbox cannot be set up on this machine:" in banner
        assert "bubblewrap is not installed (Debian: apt-get install bubblewrap slirp4netns libseccomp2)" in banner
        lam = server.client("lambda")
        create_function(lam, "who", WHO)

        error = fails(lambda: lam.invoke(FunctionName="who"), "ServiceException", 503)

        assert "their sandbox cannot be set up here (bubblewrap is not installed" in error.response["Error"]["Message"]
        assert "--insecure-functions-unsandboxed" in error.response["Error"]["Message"]


def test_unsandboxed_only_when_asked_and_with_a_warning(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", "--insecure-functions-unsandboxed", env=NO_BWRAP) as server:
        banner = (tmp_path / "data.log").read_text()
        assert "WARNING: FUNCTIONS RUN UNSANDBOXED (--insecure-functions-unsandboxed)" in banner
        lam = server.client("lambda")
        create_function(lam, "who", WHO)
        assert json.loads(lam.invoke(FunctionName="who")["Payload"].read()) == os.getuid(), "as the server's user"
