"""The label hierarchy: ImageNet's 1000 classes and their ancestors as labels, with aliases and categories.

The data is labels.json in altostratus.vision.data, built once by scripts/build_label_hierarchy.py from WordNet 3.0
(its header names the sources and licences). A label's score is the summed probability of the classes at or
under it, so "Cat" gathers tabby, tiger cat, Egyptian cat and Persian cat.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from altostratus.core.errors import ConfigurationError

DATA_PACKAGE = "altostratus.vision.data"
DATA_FILE = "labels.json"


@dataclasses.dataclass(frozen=True)
class LabelNode:
    """A label of the hierarchy: its name, every ancestor (nearest first), its aliases and categories."""

    name: str
    parents: tuple[str, ...]
    aliases: tuple[str, ...]
    categories: tuple[str, ...]


class LabelHierarchy:
    """The labels, the classifier's classes among them, and the object detector's class names mapped onto them."""

    def __init__(self, classes: Sequence[str], nodes: Mapping[str, LabelNode], objects: Mapping[str, str]) -> None:
        unknown = sorted({*classes, *objects.values(), *(p for n in nodes.values() for p in n.parents)} - set(nodes))
        if unknown:
            raise ConfigurationError(f"The label hierarchy names labels it does not define: {unknown[:10]}")
        self.classes = tuple(classes)
        self.nodes = dict(nodes)
        self.objects = dict(objects)
        self.names = tuple(sorted(self.nodes))
        index = {name: i for i, name in enumerate(self.names)}
        # One (class, label) pair for each class and each label at or above it: a label's score is a bincount.
        pairs = [(c, index[label]) for c, name in enumerate(self.classes) for label in (name, *nodes[name].parents)]
        self._class_of_pair = np.array([c for c, _ in pairs], dtype=np.intp)
        self._label_of_pair = np.array([label for _, label in pairs], dtype=np.intp)

    def node(self, name: str) -> LabelNode:
        """The label called `name`."""
        return self.nodes[name]

    def scores(self, probabilities: NDArray[np.float32]) -> dict[str, float]:
        """Each label's summed probability (0-1) over the classes at or under it, for labels above zero."""
        if probabilities.shape != (len(self.classes),):
            raise ValueError(f"probabilities has shape {probabilities.shape}; expected ({len(self.classes)},)")
        weights = probabilities.astype(np.float64)[self._class_of_pair]
        sums = np.bincount(self._label_of_pair, weights=weights, minlength=len(self.names))
        return {self.names[i]: min(float(sums[i]), 1.0) for i in np.flatnonzero(sums > 0)}


def _node(name: str, value: Mapping[str, Any]) -> LabelNode:
    return LabelNode(name, tuple(value["parents"]), tuple(value["aliases"]), tuple(value["categories"]))


def parse_hierarchy(document: Mapping[str, Any]) -> LabelHierarchy:
    """A hierarchy from the labels.json document."""
    nodes = {name: _node(name, value) for name, value in document["labels"].items()}
    return LabelHierarchy(document["classes"], nodes, document["coco"])


@functools.cache
def default_hierarchy() -> LabelHierarchy:
    """The hierarchy shipped in the package, read once per process."""
    text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_hierarchy(json.loads(text))
