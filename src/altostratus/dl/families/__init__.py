"""The four classifier families, by the name an experiment gives them, and the loader of any family's archive.

Families are imported when asked for: nearest neighbour and linear need no torch, so serving them (or their
ONNX export) never pays torch's import.
"""

from __future__ import annotations

import importlib
from typing import Any

from altostratus.dl import artifact

FAMILIES = {
    "nearest": ("altostratus.dl.families.nearest", "NearestNeighbour"),
    "linear": ("altostratus.dl.families.linear", "LinearClassifier"),
    "cnn": ("altostratus.dl.families.cnn", "ConvNet"),
    "transfer": ("altostratus.dl.families.transfer", "TransferClassifier"),
}


class UnknownFamily(artifact.ArtifactInvalid):
    """No classifier family has this name."""


def family_class(name: str) -> Any:
    """The class of the family called `name`; UnknownFamily listing the families otherwise."""
    try:
        module, attribute = FAMILIES[name]
    except KeyError:
        raise UnknownFamily(f"Unknown family: {name!r}; expected one of {list(FAMILIES)}") from None
    return getattr(importlib.import_module(module), attribute)


def load_classifier(data: bytes) -> Any:
    """The fitted classifier an archive holds, whatever its family."""
    family, _, _ = artifact.unpack(data)
    return family_class(family).load(data)
