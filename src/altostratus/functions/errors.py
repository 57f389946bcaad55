"""The functions service's errors beyond the shared ones in model.py, each with Lambda's code and status."""

from __future__ import annotations

from altostratus.core.errors import AltoError, BadRequest, Conflict


class ResourceConflict(Conflict):
    """The function is not in a state that allows the operation (Pending, Failed, or in use by an alias)."""

    code = "ResourceConflictException"


class PreconditionFailed(AltoError):
    """The RevisionId given does not match the resource's current one."""

    code = "PreconditionFailedException"
    status = 412


class InvalidRequestContent(BadRequest):
    """The Invoke payload or client context is not valid JSON."""

    code = "InvalidRequestContentException"


class RequestEntityTooLarge(AltoError):
    """The code package is larger than Lambda accepts in a request."""

    code = "RequestEntityTooLargeException"
    status = 413


class RecursiveInvocation(BadRequest):
    """The invocation would extend a chain of triggered invocations past its limit (a loop)."""

    code = "RecursiveInvocationException"


class DependencyInstallFailed(Exception):
    """pip could not install a function's requirements.txt; the message ends with pip's output."""


def revision_mismatch() -> PreconditionFailed:
    """Lambda's answer when a RevisionId is stale."""
    return PreconditionFailed(
        "The Revision Id provided does not match the latest Revision Id. "
        "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
    )
