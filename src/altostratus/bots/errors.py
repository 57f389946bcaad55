"""The bots service's errors, each with the code and status Lex V2 sends."""

from __future__ import annotations

from altostratus.core.errors import AltoError


class DependencyFailed(AltoError):
    """A code hook failed, timed out or answered something Lex cannot use."""

    code = "DependencyFailedException"
    status = 424
