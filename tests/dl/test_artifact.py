"""The classifier archive: what `pack` writes `unpack` reads back, and a hostile archive is data, never code."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

from altostratus.dl import artifact
from altostratus.dl.families import UnknownFamily, load_classifier


class Explodes:
    """Would run code if unpickled."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("unpickled!",))


def test_an_archive_round_trips() -> None:
    data = artifact.pack("linear", {"k": 3, "classes": ["a", "b"]}, {"weights": np.arange(6.0).reshape(2, 3)})
    family, config, arrays = artifact.unpack(data)
    assert family == "linear" and config == {"k": 3, "classes": ["a", "b"]}
    np.testing.assert_array_equal(arrays["weights"], np.arange(6.0).reshape(2, 3))


def test_an_archive_holding_a_pickled_object_is_refused_unrun(capsys: pytest.CaptureFixture[str]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, __config__=np.array([Explodes()], dtype=object), weights=np.array([Explodes()], dtype=object))
    with pytest.raises(artifact.ArtifactInvalid):
        load_classifier(buffer.getvalue())
    assert "unpickled!" not in capsys.readouterr().out


@pytest.mark.parametrize("data", [b"", b"not a zip", pickle.dumps(Explodes())])
def test_bytes_that_are_no_archive_are_refused(data: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(artifact.ArtifactInvalid, match="not a classifier archive"):
        load_classifier(data)
    assert "unpickled!" not in capsys.readouterr().out


def test_an_archive_of_an_unknown_family_is_refused() -> None:
    with pytest.raises(UnknownFamily, match="Unknown family: 'forest'"):
        load_classifier(artifact.pack("forest", {}, {}))
