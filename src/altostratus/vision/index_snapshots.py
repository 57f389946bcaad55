"""Collections' HNSW graphs saved to files, so that a restart loads a graph instead of building it for minutes.

A snapshot is two files in a folder of the owner's only (0700, files 0600), named by a hash of the collection
id (safe whatever the id, and on case-insensitive file systems): `<name>.<token>.graph`, hnswlib's file, and
`<name>.json`, which names that graph file with its size and BLAKE2b digest, the collection's generation and
version it reflects, the graph's settings, and its tombstones. Each is written to a temporary file and renamed,
the JSON last, so a reader sees the old snapshot or the new one. A snapshot that does not load (another
generation or settings, missing, truncated or corrupt: the digest is checked before hnswlib reads the file) is
deleted, and the collection's index is built from its rows. A snapshot is only a head start: the metadata store
stays the truth, and the index is caught up with it after loading (collection_indexes.py).

One process writes a folder; two sharing one could delete each other's graph files, which costs a rebuild.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from altostratus.vision.vector_index import HnswSettings, Keys, VectorIndex

FORMAT = 1
DIGEST_CHUNK = 8 << 20
GRAPH_NAME = re.compile(r"[0-9a-f]{64}\.[0-9a-f]{32}\.graph")

logger = logging.getLogger(__name__)

OpenGraph = Callable[[Path, Keys], VectorIndex]


class _Unusable(Exception):
    """A snapshot that exists but cannot stand for the collection's index."""


@dataclasses.dataclass(frozen=True)
class Restored:
    """A collection's index loaded from its snapshot, and the collection's version the snapshot reflects."""

    index: VectorIndex
    version: int


class IndexSnapshots:
    """The snapshots of collections' graphs in one folder."""

    def __init__(self, folder: Path, *, dimension: int, hnsw: HnswSettings) -> None:
        self.folder = folder
        self.dimension = dimension
        self.hnsw = hnsw

    def save(self, collection_id: str, generation: str, version: int, index: VectorIndex) -> bool:
        """Save the index's graph as the collection's snapshot; False (nothing saved) when it has no graph yet."""
        folder = self._ready_folder()
        name = _name(collection_id)
        graph = folder / f"{name}.{uuid.uuid4().hex}.graph"
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")  # mode 0600
        os.close(handle)
        try:
            tombstones = index.save_graph(Path(temporary))
            if tombstones is None:
                return False
            size, digest = _digest(Path(temporary))
            os.replace(temporary, graph)
            description = {
                "format": FORMAT,
                "collection_id": collection_id,
                "generation": generation,
                "version": version,
                **self._settings(),
                "graph": graph.name,
                "graph_bytes": size,
                "graph_blake2b": digest,
                "tombstones": base64.b64encode(tombstones.astype("<u8").tobytes()).decode("ascii"),
            }
            _write_atomically(folder / f"{name}.json", json.dumps(description).encode())
        except BaseException:
            graph.unlink(missing_ok=True)
            raise
        finally:
            Path(temporary).unlink(missing_ok=True)
        self._remove_files(name, keep=graph.name)
        return True

    def load(self, collection_id: str, generation: str, open_graph: OpenGraph) -> Restored | None:
        """The collection's index from its snapshot of this generation; None (and the snapshot deleted) if unusable."""
        described = self.folder / f"{_name(collection_id)}.json"
        if not described.exists():
            return None
        try:
            description = json.loads(described.read_bytes())
            graph = self._checked_graph(description, collection_id, generation)
            tombstones = np.frombuffer(base64.b64decode(description["tombstones"], validate=True), dtype="<u8")
            index = open_graph(graph, tombstones.astype(np.uint64))
            return Restored(index, int(description["version"]))
        except (_Unusable, OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
            logger.warning("the index snapshot of collection %r is not used and is deleted: %s", collection_id, error)
            self.delete(collection_id)
            return None

    def delete(self, collection_id: str) -> None:
        """Delete the collection's snapshot, if it has one."""
        self._remove_files(_name(collection_id), keep=None)

    def _checked_graph(self, description: Any, collection_id: str, generation: str) -> Path:
        """The graph file a snapshot's description names, checked against it; _Unusable when it does not match."""
        if not isinstance(description, dict) or description.get("format") != FORMAT:
            raise _Unusable(f"format {description.get('format') if isinstance(description, dict) else None!r}")
        if (description.get("collection_id"), description.get("generation")) != (collection_id, generation):
            raise _Unusable(f"generation {description.get('generation')!r}; the collection's is {generation!r}")
        settings = {key: description.get(key) for key in self._settings()}
        if settings != self._settings():
            raise _Unusable(f"settings {settings}; expected {self._settings()}")
        name = description.get("graph")
        if not isinstance(name, str) or not GRAPH_NAME.fullmatch(name) or not name.startswith(_name(collection_id)):
            raise _Unusable(f"graph file {name!r}")
        graph = self.folder / name
        found = _digest(graph)
        if found != (description.get("graph_bytes"), description.get("graph_blake2b")):
            raise _Unusable(f"graph file {name} of {found[0]} bytes does not match its description")
        return graph

    def _settings(self) -> dict[str, int]:
        # The links per node and the build's breadth are in the graph; the search's breadth is set after loading.
        return {
            "dimension": self.dimension,
            "connectivity": self.hnsw.connectivity,
            "expansion_add": self.hnsw.expansion_add,
        }

    def _ready_folder(self) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # The graphs hold face embeddings: an existing folder is closed to others too.
        self.folder.chmod(0o700)
        return self.folder

    def _remove_files(self, name: str, *, keep: str | None) -> None:
        """Remove the collection's files (but `keep`): older graphs, leftovers of interrupted saves, the JSON."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            ours = path.name.startswith(f"{name}.") or path.name.startswith(f".{name}.")
            if ours and path.name != keep and (keep is None or path.suffix != ".json"):
                path.unlink(missing_ok=True)


def _name(collection_id: str) -> str:
    return hashlib.sha256(collection_id.encode()).hexdigest()


def _digest(path: Path) -> tuple[int, str]:
    """The file's size and BLAKE2b digest."""
    digest = hashlib.blake2b()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(DIGEST_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _write_atomically(path: Path, content: bytes) -> None:
    """Write a file (mode 0600) so that readers see the old content or the new, never a part."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
