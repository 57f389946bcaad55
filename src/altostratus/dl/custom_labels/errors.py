"""The Rekognition error Custom Labels needs beyond vision's (src/altostratus/vision/errors.py has the others)."""

from __future__ import annotations

from altostratus.core.errors import Conflict


class ResourceNotReady(Conflict):
    """The requested resource isn't ready: a model that is not running, a dataset not created."""

    code = "ResourceNotReadyException"
    status = 400
