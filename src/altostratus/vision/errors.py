"""The vision service's errors, each with the code Rekognition sends (every client error is a 400)."""

from __future__ import annotations

from altostratus.core.errors import AccessDenied, BadRequest, Conflict, NotFound


class InvalidParameter(BadRequest):
    """An input parameter violated a constraint."""

    code = "InvalidParameterException"


class InvalidImageFormat(BadRequest):
    """The provided image format is not supported."""

    code = "InvalidImageFormatException"


class ImageTooLarge(BadRequest):
    """The input image size exceeds the allowed limit."""

    code = "ImageTooLargeException"


class InvalidS3Object(BadRequest):
    """Rekognition is unable to access the S3 object specified in the request."""

    code = "InvalidS3ObjectException"


class ResourceNotFound(NotFound):
    """The resource specified in the request cannot be found."""

    code = "ResourceNotFoundException"
    status = 400


class ResourceAlreadyExists(Conflict):
    """A resource with the specified ID already exists."""

    code = "ResourceAlreadyExistsException"
    status = 400


class ResourceInUse(Conflict):
    """The specified resource is already being used."""

    code = "ResourceInUseException"
    status = 400


class ServiceQuotaExceeded(BadRequest):
    """The request would exceed a limit of this server."""

    code = "ServiceQuotaExceededException"


class ConflictingRequest(Conflict):
    """A request with this client token was made before with other parameters."""

    code = "IdempotentParameterMismatchException"
    status = 400


class VisionAccessDenied(AccessDenied):
    """You are not authorized to perform the action."""

    code = "AccessDeniedException"
    status = 400
