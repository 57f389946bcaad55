"""The deep-learning layer's dataset errors: each is an InvalidArgument (400) that names what is wrong and where."""

from __future__ import annotations

from altostratus.core.errors import InvalidArgument


class DatasetError(InvalidArgument, ValueError):
    """A dataset cannot be read or split as asked."""


class MissingObject(DatasetError):
    """A manifest (or the source itself) names an object that is not in the lake."""


class InvalidManifest(DatasetError):
    """A manifest line cannot be read: bad JSON or CSV, no source-ref or label, or a key that is not allowed."""


class EmptyClass(DatasetError):
    """A class has no example left to train on."""


class DatasetTooSmall(DatasetError):
    """The source holds no image, or none of its images could be decoded."""


class DatasetTooLarge(DatasetError):
    """The source names more images than a dataset may hold."""


class UnreadableImage(DatasetError):
    """One image cannot be used: missing, over the size limit, or not decodable; loaders skip it."""
