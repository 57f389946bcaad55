"""Documents read from the lake by location: a DataSchema or a Recipe kept as one object."""

from __future__ import annotations

from altostratus.predict.errors import InvalidInput
from altostratus.predict.locations import DataLocations

MAX_DOCUMENT_BYTES = 131_071  # Amazon ML's limit on a DataSchema or a Recipe


def read_document(locations: DataLocations, location: str, *, parameter: str, document: str) -> str:
    """The UTF-8 text of the one object at `location`; InvalidInput naming `parameter` when it is not one."""
    sources = locations.sources(location)
    if len(sources) != 1:
        raise InvalidInput(f"{parameter}={location!r} holds {len(sources)} objects; expected one {document} document")
    data = bytearray()
    for chunk in sources[0].open():
        data.extend(chunk.encode() if isinstance(chunk, str) else chunk)
        if len(data) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"{parameter}={location!r} is over {MAX_DOCUMENT_BYTES} bytes; expected a {document}")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise InvalidInput(f"{parameter}={location!r} is not UTF-8 text; expected a {document} JSON document") from None
