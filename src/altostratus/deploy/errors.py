"""What the registry and the endpoints share: the errors SageMaker sends, with its codes and statuses.

SageMaker answers every client error with status 400. A resource that does not exist is a
ValidationException there ("... does not exist"), not a ResourceNotFound, for Describe*/Update*/Delete*.
"""

from __future__ import annotations

from altostratus.core.errors import BadRequest, Conflict, NotFound


class InvalidValue(BadRequest):
    """A parameter has a value that is not allowed."""

    code = "ValidationException"


class DoesNotExist(NotFound):
    """The named resource does not exist."""

    code = "ValidationException"
    status = 400


class InConflict(Conflict):
    """The request conflicts with the resource's current state."""

    code = "ConflictException"
    status = 400


class InUse(Conflict):
    """The resource is in use by another resource."""

    code = "ResourceInUse"
    status = 400
