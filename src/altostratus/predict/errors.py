"""The predict service's errors, each with the error code Amazon ML sends (it answers every client error with 400)."""

from __future__ import annotations

from altostratus.core.errors import AltoError, BadRequest, Conflict, NotFound


class InvalidInput(BadRequest):
    """An error on the client occurred: a parameter, a schema, a recipe or the data is not valid."""

    code = "InvalidInputException"


class ResourceNotFound(NotFound):
    """A specified resource cannot be located."""

    code = "ResourceNotFoundException"
    status = 400


class IdempotentParameterMismatch(Conflict):
    """A request with this id was made before with other parameters."""

    code = "IdempotentParameterMismatchException"
    status = 400


class LimitExceeded(BadRequest):
    """The data or request is larger than this server allows."""

    code = "LimitExceededException"


class PredictorNotMounted(BadRequest):
    """The model has no realtime endpoint: create one before asking it for predictions."""

    code = "PredictorNotMountedException"


class ArtifactCorrupt(AltoError):
    """A stored model artifact does not read back as it was written."""

    code = "InternalServerException"
    status = 500


class Cancelled(AltoError):
    """The work was cancelled before it finished."""

    code = "Cancelled"
    status = 409
