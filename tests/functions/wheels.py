"""Tiny pure-Python wheels written by hand, so tests install requirements with pip and no network."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(wheelhouse: Path, name: str, version: str, module_source: str) -> Path:
    """Write NAME-VERSION-py3-none-any.whl holding the module NAME into wheelhouse; its path."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": module_source.encode(),
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: altostratus-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    target = wheelhouse / f"{name}-{version}-py3-none-any.whl"
    target.write_bytes(buffer.getvalue())
    return target


def make_zip(files: dict[str, str | bytes]) -> bytes:
    """A zip of the given names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
