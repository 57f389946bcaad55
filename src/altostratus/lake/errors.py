"""The lake's errors, each with the S3 error code and status AWS sends."""

from __future__ import annotations

from altostratus.core.errors import AltoError, BadRequest, Conflict, NotFound


class NoSuchBucket(NotFound):
    """The specified bucket does not exist."""

    code = "NoSuchBucket"


class NoSuchKey(NotFound):
    """The specified key does not exist."""

    code = "NoSuchKey"


class NoSuchUpload(NotFound):
    """The specified multipart upload does not exist."""

    code = "NoSuchUpload"


class BucketAlreadyOwnedByYou(Conflict):
    """Your previous request to create the named bucket succeeded and you already own it."""

    code = "BucketAlreadyOwnedByYou"


class BucketAlreadyExists(Conflict):
    """The requested bucket name is not available: it belongs to someone else."""

    code = "BucketAlreadyExists"


class BucketNotEmpty(Conflict):
    """The bucket you tried to delete is not empty."""

    code = "BucketNotEmpty"


class InvalidBucketName(BadRequest):
    """The specified bucket is not valid."""

    code = "InvalidBucketName"


class KeyTooLong(BadRequest):
    """Your key is too long."""

    code = "KeyTooLongError"


class InvalidKey(BadRequest):
    """The key is not valid."""

    code = "InvalidArgument"


class BadDigest(BadRequest):
    """The digest you specified did not match what we received."""

    code = "BadDigest"


class InvalidDigest(BadRequest):
    """The Content-MD5 or checksum value you specified is not valid."""

    code = "InvalidDigest"


class InvalidPart(BadRequest):
    """One or more of the specified parts could not be found."""

    code = "InvalidPart"


class InvalidPartOrder(BadRequest):
    """The list of parts was not in ascending order."""

    code = "InvalidPartOrder"


class EntityTooSmall(BadRequest):
    """Your proposed upload is smaller than the minimum allowed object size."""

    code = "EntityTooSmall"


class InvalidRange(AltoError):
    """The requested range is not satisfiable."""

    code = "InvalidRange"
    status = 416


class ConditionalRequestConflict(AltoError):
    """A conditional write raced another write of the same key; it may be retried."""

    code = "ConditionalRequestConflict"
    status = 409


class NotModified(AltoError):
    """The object was not modified since the given time or still has the given ETag."""

    code = "NotModified"
    status = 304


class NoSuchVersion(NotFound):
    """The version ID specified in the request does not match an existing version."""

    code = "NoSuchVersion"


class InvalidVersionId(BadRequest):
    """Invalid version id specified."""

    code = "InvalidArgument"


class MethodNotAllowed(AltoError):
    """The specified method is not allowed against this resource."""

    code = "MethodNotAllowed"
    status = 405


class InvalidTag(BadRequest):
    """The tag provided was not a valid tag."""

    code = "InvalidTag"


class TooManyTags(BadRequest):
    """A tag set holds more tags than its object or bucket may have (S3 names it a plain BadRequest)."""

    code = "BadRequest"


class NoSuchTagSet(NotFound):
    """There is no tag set associated with the bucket."""

    code = "NoSuchTagSet"


class OperationAborted(Conflict):
    """A conflicting conditional operation is currently in progress against this resource. Please try again."""

    code = "OperationAborted"
