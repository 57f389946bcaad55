"""A classifier's archive: a zip of numpy arrays (.npz, loaded with allow_pickle=False) and one JSON document.

No pickle anywhere: an archive from the lake is data, never code, so a hostile one can at worst fail to load.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from altostratus.core.errors import InvalidArgument

FORMAT = "altostratus-dl/1"
CONFIG = "__config__"
MAX_CONFIG = 16 * 1024 * 1024  # bytes of JSON: parameters, classes and histories, never weights


class ArtifactInvalid(InvalidArgument, ValueError):
    """The bytes are not a classifier archive this version can read."""


def pack(family: str, config: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]) -> bytes:
    """An archive of `family`, its JSON `config` and its named arrays."""
    if CONFIG in arrays:
        raise ValueError(f"{CONFIG!r} is reserved")
    document = json.dumps({"format": FORMAT, "family": family, "config": config}, allow_nan=False)
    buffer = io.BytesIO()
    as_arrays = {name: np.asarray(value) for name, value in arrays.items()}
    as_arrays[CONFIG] = np.frombuffer(document.encode(), dtype=np.uint8)
    np.savez(buffer, allow_pickle=False, **as_arrays)
    return buffer.getvalue()


def unpack(data: bytes) -> tuple[str, dict[str, Any], dict[str, NDArray[Any]]]:
    """(family, config, arrays) of an archive; ArtifactInvalid when the bytes are not one."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if CONFIG not in archive.files:
                raise ArtifactInvalid("not a classifier archive: it has no configuration")
            raw = archive[CONFIG]
            if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_CONFIG:
                raise ArtifactInvalid("not a classifier archive: its configuration is not JSON text")
            document = json.loads(raw.tobytes())
            arrays = {name: archive[name] for name in archive.files if name != CONFIG}
    except ArtifactInvalid:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise ArtifactInvalid(f"not a classifier archive: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ArtifactInvalid(f"not a classifier archive of format {FORMAT!r}")
    family, config = document.get("family"), document.get("config")
    if not isinstance(family, str) or not isinstance(config, dict):
        raise ArtifactInvalid("not a classifier archive: it names no family or configuration")
    return family, config, arrays
