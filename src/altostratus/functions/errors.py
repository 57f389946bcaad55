"""The functions service's errors, each with Lambda's code and status."""

from __future__ import annotations

from altostratus.core.errors import AltoError, BadRequest, Conflict, NotFound, PreconditionFailed


class FunctionNotFound(NotFound):
    """The function does not exist."""

    code = "ResourceNotFoundException"


class FunctionExists(Conflict):
    """A function of that name exists already."""

    code = "ResourceConflictException"


class InvalidFunctionParameter(BadRequest):
    """A parameter of the function is not valid."""

    code = "InvalidParameterValueException"


class PayloadTooLarge(AltoError):
    """The request payload exceeded the Invoke request body JSON input quota."""

    code = "RequestTooLargeException"
    status = 413


class InvalidCode(BadRequest):
    """The code package is not a valid zip file or lacks the handler's module."""

    code = "InvalidParameterValueException"


class ResourceConflict(Conflict):
    """The function is not in a state that allows the operation (Pending, Failed, or in use by an alias)."""

    code = "ResourceConflictException"


class RevisionMismatch(PreconditionFailed):
    """The RevisionId given does not match the resource's current one (Lambda's name for a failed precondition)."""

    code = "PreconditionFailedException"


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


def revision_mismatch() -> RevisionMismatch:
    """Lambda's answer when a RevisionId is stale."""
    return RevisionMismatch(
        "The Revision Id provided does not match the latest Revision Id. "
        "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
    )
