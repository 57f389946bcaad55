"""Code packages: zips checked as Lambda checks them, kept in the BlobStore, unpacked once per content hash."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import re
import shutil
import stat
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from altostratus.functions import requirements
from altostratus.functions.errors import InvalidCode, InvalidFunctionParameter, RequestEntityTooLarge
from altostratus.functions.sharing import share
from altostratus.storage.blobs import BlobStore, put_chunks

MAX_ZIPPED_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
REQUIREMENTS_FILE = requirements.FILE
BLOB_PREFIX = "functions/code/"
# Fixed entry times make a folder's zip depend on its contents only, so deploying unchanged code
# gives the same CodeSha256 and PublishVersion can tell that nothing changed.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SKIPPED_IN_FOLDERS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".mypy_cache", ".pytest_cache", ".venv"})
HANDLER = re.compile(r"(?P<module>[^\s]+)\.(?P<function>[A-Za-z_][A-Za-z0-9_]*)")
UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."


@dataclasses.dataclass(frozen=True)
class CodePackage:
    """A checked zip: its bytes, hashes, sizes and requirements.txt (None when it has none)."""

    data: bytes
    sha256_hex: str
    unzipped_size: int
    requirements: str | None

    @property
    def size(self) -> int:
        """The zip's size in bytes (Lambda's CodeSize)."""
        return len(self.data)

    @property
    def sha256(self) -> str:
        """The base64 SHA-256 of the zip, as Lambda reports CodeSha256."""
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode()


def sha256_hex(code_sha256: str) -> str:
    """The hex digest behind a base64 CodeSha256 (it names the unpacked folder, where '/' cannot appear)."""
    return base64.b64decode(code_sha256).hex()


def inspect_zip(data: bytes, *, max_zipped: int = MAX_ZIPPED_BYTES) -> CodePackage:
    """Check that data is a zip Lambda would accept: within the size limits, readable, with safe names."""
    if len(data) > max_zipped:
        raise RequestEntityTooLarge(
            f"Code.ZipFile has {len(data)} bytes; zipped code must be at most {max_zipped} bytes "
            "(upload larger packages to the lake and pass Code.S3Bucket and Code.S3Key)"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise InvalidCode(f"{UNZIP_FAILED} ({error})") from None
    with archive:
        unzipped = 0
        for info in archive.infolist():
            check_member_name(info.filename)
            unzipped += info.file_size
        if unzipped > MAX_UNZIPPED_BYTES:
            raise InvalidCode(
                f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes; this package unzips to {unzipped}"
            )
        try:
            broken = archive.testzip()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as error:
            raise InvalidCode(f"{UNZIP_FAILED} ({error})") from None
        if broken is not None:
            raise InvalidCode(f"{UNZIP_FAILED} (member {broken!r} is corrupt)")
        requirements = _requirements(archive)
    return CodePackage(data, hashlib.sha256(data).hexdigest(), unzipped, requirements)


def check_member_name(name: str) -> None:
    """InvalidParameterValueException for a zip member that would land outside the function's folder."""
    path = PurePosixPath(name)
    if (
        not name
        or "\x00" in name
        or "\\" in name
        or path.is_absolute()
        or ".." in path.parts
        or re.match(r"[A-Za-z]:", name)
    ):
        raise InvalidCode(
            f"Code package member {name!r} is not allowed; expected relative paths without '..', "
            "backslashes or drive letters"
        )


def _requirements(archive: zipfile.ZipFile) -> str | None:
    try:
        raw = archive.read(REQUIREMENTS_FILE)
    except KeyError:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidCode(f"{REQUIREMENTS_FILE} is not UTF-8 text") from None
    requirements.check(text)
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return text if any(lines) else None


def zip_folder(folder: Path) -> bytes:
    """The folder's files as a zip whose bytes depend only on their names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _folder_files(folder):
            entry = zipfile.ZipInfo(path.relative_to(folder).as_posix(), ZIP_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            executable = path.stat().st_mode & stat.S_IXUSR
            entry.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            archive.writestr(entry, path.read_bytes())
    return buffer.getvalue()


def _folder_files(folder: Path) -> Iterator[Path]:
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if f not in SKIPPED_IN_FOLDERS)
        for name in sorted(files):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(root, name)


def check_handler(handler: str) -> tuple[str, str]:
    """(module path, function name) of a MODULE.FUNCTION handler; InvalidParameterValueException otherwise."""
    found = HANDLER.fullmatch(handler)
    if found is None:
        raise InvalidFunctionParameter(
            f"Handler={handler!r}; expected MODULE.FUNCTION, such as app.handler or pkg/app.handler"
        )
    return found.group("module").replace(".", "/"), found.group("function")


def handler_problem(handler: str, folders: list[Path]) -> str | None:
    """Why the handler's module cannot be found in any of the folders; None when it is there."""
    module, _ = check_handler(handler)
    for folder in folders:
        base = folder / module
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return None
        if base.parent.is_dir() and any(base.parent.glob(f"{base.name}.*.so")):
            return None
    return (
        f"Handler {handler!r} names module {module.replace('/', '.')!r}, but the code package has neither "
        f"{module}.py nor {module}/__init__.py"
    )


class CodeStore:
    """Zips in the BlobStore under functions/code/, unpacked on demand under a folder named by their hash."""

    def __init__(self, blobs: BlobStore, root: Path, *, share_gid: int | None = None) -> None:
        self._blobs = blobs
        self._root = root
        self._share_gid = share_gid

    def put(self, package: CodePackage) -> str:
        """Store the zip under a fresh key (so deleting one version's blob never races another's)."""
        key = f"{BLOB_PREFIX}{package.sha256_hex[:2]}/{package.sha256_hex}-{uuid.uuid4().hex}.zip"
        put_chunks(self._blobs, key, [package.data])
        return key

    def delete(self, blob_key: str) -> None:
        """Drop a zip no version refers to any more."""
        self._blobs.delete(blob_key)

    def read(self, blob_key: str) -> bytes:
        """The zip's bytes."""
        return b"".join(self._blobs.read(blob_key))

    def folder(self, sha256_hex: str) -> Path:
        """Where the code of this hash is (or will be) unpacked."""
        return self._root / sha256_hex

    def remove(self, sha256_hex: str) -> None:
        """Remove the unpacked code of this hash, if this machine has it; the next use unpacks it again.

        The folder is first renamed out of the way (one atomic step), so a worker never finds it half
        removed: it finds it whole, or unpacks its own. A worker still running from it keeps its files open.
        """
        target = self.folder(sha256_hex)
        doomed = self._root / f".removed-{sha256_hex}.{uuid.uuid4().hex}"
        try:
            target.rename(doomed)
        except FileNotFoundError:
            return
        shutil.rmtree(doomed, ignore_errors=True)

    def unpacked(self, sha256_hex: str, blob_key: str) -> Path:
        """The unpacked code, unpacking it from the BlobStore first when this machine has not yet."""
        target = self.folder(sha256_hex)
        if target.is_dir():
            return target
        self._root.mkdir(parents=True, exist_ok=True)
        staging = self._root / f".{sha256_hex}.{uuid.uuid4().hex}"
        try:
            unpack(self.read(blob_key), staging)
            share(staging, self._share_gid)
            staging.rename(target)
        except OSError:
            # Another worker unpacked the same code first; its folder is as good as ours.
            if not target.is_dir():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target


def unpack(data: bytes, folder: Path) -> None:
    """Write the zip's files under folder, checking each name again (the zip came from storage)."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            check_member_name(info.filename)
            target = folder / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            if (info.external_attr >> 16) & stat.S_IXUSR:
                target.chmod(0o755)
