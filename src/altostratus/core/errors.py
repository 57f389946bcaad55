"""The one error hierarchy: every error carries the AWS error code and HTTP status it maps to."""

from __future__ import annotations

from typing import Any


class AltoError(Exception):
    """Base of every error the platform raises on purpose."""

    code: str = "InternalError"
    status: int = 500

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details


class ConfigurationError(AltoError):
    """The settings are not valid."""

    code = "ConfigurationError"


class BadRequest(AltoError):
    """The request is not valid."""

    code = "InvalidRequest"
    status = 400


class InvalidArgument(BadRequest):
    """A parameter has a value that is not allowed."""

    code = "InvalidArgument"


class ValidationError(BadRequest):
    """A parameter failed validation (json and rest-json services)."""

    code = "ValidationException"


class NotFound(AltoError):
    """The named resource does not exist."""

    code = "ResourceNotFoundException"
    status = 404


class Conflict(AltoError):
    """The request conflicts with the current state of the resource."""

    code = "ConflictException"
    status = 409


class AccessDenied(AltoError):
    """The caller may not do this."""

    code = "AccessDenied"
    status = 403


class AuthError(AccessDenied):
    """The request's credentials or signature are not valid."""


class SignatureDoesNotMatch(AuthError):
    """The request signature we calculated does not match the signature you provided."""

    code = "SignatureDoesNotMatch"


class InvalidAccessKeyId(AuthError):
    """The AWS access key Id you provided does not exist in our records."""

    code = "InvalidAccessKeyId"


class RequestTimeTooSkewed(AuthError):
    """The difference between the request time and the server's time is too large."""

    code = "RequestTimeTooSkewed"


class RequestExpired(AuthError):
    """The presigned request has expired."""

    code = "AccessDenied"


class MissingAuthentication(AuthError):
    """The request carries no credentials."""

    code = "AccessDenied"


class RequestTooLarge(AltoError):
    """The request body is larger than allowed."""

    code = "EntityTooLarge"
    status = 413


class PreconditionFailed(AltoError):
    """At least one of the preconditions you specified did not hold (a service may name it its own way)."""

    code = "PreconditionFailed"
    status = 412


class NotImplementedOperation(AltoError):
    """The operation is not implemented."""

    code = "NotImplemented"
    status = 501


class MethodNotAllowed(AltoError):
    """The method is not allowed against this resource."""

    code = "MethodNotAllowed"
    status = 405


class UnknownOperation(BadRequest):
    """The request names no operation this server knows."""

    code = "UnknownOperationException"
