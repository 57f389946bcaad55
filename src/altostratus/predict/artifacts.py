"""Model artifacts: a FittedModel as bytes and back, with a format version and a SHA-256 checksum.

Layout: one JSON header line ({"format": 1, "sha256": ..., "scikit-learn": ..., "numpy": ...}), then
the pickled model. Pickle is acceptable here because artifacts are only ever written by this server
into its own blob store; the checksum, also kept in the metadata store, catches corruption and
tampering before anything is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import sklearn

from altostratus.predict.errors import ArtifactCorrupt
from altostratus.predict.fitted import FittedModel

FORMAT_VERSION = 1


def dump_model(model: FittedModel) -> tuple[bytes, str]:
    """The artifact's bytes and the SHA-256 (hex) of its model payload."""
    payload = pickle.dumps(model, protocol=5)
    digest = hashlib.sha256(payload).hexdigest()
    header = {"format": FORMAT_VERSION, "sha256": digest, "scikit-learn": sklearn.__version__, "numpy": np.__version__}
    return json.dumps(header).encode() + b"\n" + payload, digest


def load_model(data: bytes, expected_sha256: str | None = None) -> FittedModel:
    """The model in an artifact; ArtifactCorrupt if the header, version or checksum does not hold."""
    line, _, payload = data.partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        raise ArtifactCorrupt("the model artifact has no valid header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
        raise ArtifactCorrupt(f"model artifact format {header!r}; this server reads format {FORMAT_VERSION}")
    digest = hashlib.sha256(payload).hexdigest()
    if digest != header.get("sha256") or (expected_sha256 is not None and digest != expected_sha256):
        raise ArtifactCorrupt(f"the model artifact's checksum {digest} does not match the one recorded")
    if header.get("scikit-learn") != sklearn.__version__:
        raise ArtifactCorrupt(
            f"the model was trained with scikit-learn {header.get('scikit-learn')}; this server runs "
            f"{sklearn.__version__}: train the model again"
        )
    model = pickle.loads(payload)
    if not isinstance(model, FittedModel):
        raise ArtifactCorrupt(f"the model artifact holds a {type(model).__name__}, not a model")
    return model
