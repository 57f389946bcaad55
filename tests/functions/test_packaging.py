"""Code packages: Lambda's zip checks, deterministic folder zips, handler lookup, unpacking, and real pip installs."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from altostratus.functions.dependencies import DependencyInstaller
from altostratus.functions.errors import (
    DependencyInstallFailed,
    InvalidCode,
    InvalidFunctionParameter,
    RequestEntityTooLarge,
)
from altostratus.functions.packaging import (
    MAX_UNZIPPED_BYTES,
    CodeStore,
    check_handler,
    handler_problem,
    inspect_zip,
    unpack,
    zip_folder,
)
from altostratus.storage.local_blobs import LocalBlobStore
from tests.functions.wheels import build_wheel, make_zip


def test_a_valid_zip_reports_lambdas_hashes_and_sizes() -> None:
    data = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "lib/util.py": "X = 1\n"})

    package = inspect_zip(data)

    assert package.size == len(data)
    assert package.sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert package.sha256_hex == hashlib.sha256(data).hexdigest()
    assert package.unzipped_size == len("def handler(e, c):\n    return 1\n") + len("X = 1\n")
    assert package.requirements is None


@pytest.mark.parametrize("data", [b"", b"not a zip at all", make_zip({"a.py": "x"})[:-30]])
def test_bytes_that_are_not_a_zip_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidCode, match="Could not unzip uploaded file"):
        inspect_zip(data)


def test_a_corrupt_member_is_refused() -> None:
    data = bytearray(make_zip({"app.py": "x = 1\n" * 100}))
    offset = data.index(b"app.py") + len("app.py") + 2  # inside the compressed bytes
    data[offset] ^= 0xFF
    with pytest.raises(InvalidCode, match="Could not unzip"):
        inspect_zip(bytes(data))


@pytest.mark.parametrize(
    "name", ["../evil.py", "a/../../evil.py", "/etc/passwd", "C:/evil.py", "dir\\..\\evil.py", "a/../b.py"]
)
def test_member_names_that_leave_the_folder_are_refused(name: str) -> None:
    with pytest.raises(InvalidCode, match="is not allowed"):
        inspect_zip(make_zip({"app.py": "", name: "pwned"}))


def test_zipped_size_limit() -> None:
    data = make_zip({"app.py": "x" * 1000})
    with pytest.raises(RequestEntityTooLarge, match=f"has {len(data)} bytes; zipped code must be at most 100"):
        inspect_zip(data, max_zipped=100)


def test_unzipped_size_limit_uses_lambdas_message() -> None:
    buffer = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("big.bin", "w") as member:
        for _ in range(MAX_UNZIPPED_BYTES // len(chunk) + 1):
            member.write(chunk)
    with pytest.raises(InvalidCode, match=f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"):
        inspect_zip(buffer.getvalue())


def test_requirements_are_found_and_comment_only_files_ignored() -> None:
    assert inspect_zip(make_zip({"requirements.txt": "six==1.16\n"})).requirements == "six==1.16\n"
    assert inspect_zip(make_zip({"requirements.txt": "# nothing\n\n"})).requirements is None
    with pytest.raises(InvalidCode, match="not UTF-8"):
        inspect_zip(make_zip({"requirements.txt": b"\xff\xfe"}))


def test_folder_zips_depend_only_on_names_and_contents(tmp_path: Path) -> None:
    for root in ("a", "b"):
        (tmp_path / root / "pkg" / "__pycache__").mkdir(parents=True)
        (tmp_path / root / "app.py").write_text("print(1)\n")
        (tmp_path / root / "pkg" / "__init__.py").write_text("")
        (tmp_path / root / "pkg" / "__pycache__" / "x.pyc").write_bytes(b"junk" + root.encode())
    (tmp_path / "b" / "app.py").touch()  # a newer modification time changes nothing

    first, second = zip_folder(tmp_path / "a"), zip_folder(tmp_path / "b")

    assert first == second
    assert zipfile.ZipFile(io.BytesIO(first)).namelist() == ["app.py", "pkg/__init__.py"]


@pytest.mark.parametrize("handler", ["app", "app.", ".handler", "app.1handler", "app.handler-x", "my app.handler"])
def test_handlers_must_be_module_dot_function(handler: str) -> None:
    with pytest.raises(InvalidFunctionParameter, match=r"expected MODULE\.FUNCTION"):
        check_handler(handler)


def test_handler_modules_are_looked_up_as_lambdas_python_runtime_does(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "app.py").write_text("")
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "sub" / "mod.py").write_text("")

    for handler in ("app.handler", "pkg.handler", "pkg/sub/mod.handler", "pkg.sub.mod.handler"):
        assert handler_problem(handler, [tmp_path]) is None, handler
    problem = handler_problem("missing.handler", [tmp_path])
    assert problem is not None and "neither missing.py nor missing/__init__.py" in problem


def test_code_is_stored_as_a_blob_and_unpacked_again_when_the_folder_is_gone(tmp_path: Path) -> None:
    store = CodeStore(LocalBlobStore(tmp_path / "blobs", fsync=False), tmp_path / "code")
    package = inspect_zip(make_zip({"app.py": "X = 1\n", "data/readme.txt": "hi"}))
    key = store.put(package)

    folder = store.unpacked(package.sha256_hex, key)
    assert (folder / "app.py").read_text() == "X = 1\n"
    assert (folder / "data" / "readme.txt").read_text() == "hi"
    assert key.startswith("functions/code/")

    shutil.rmtree(folder)
    assert (store.unpacked(package.sha256_hex, key) / "app.py").read_text() == "X = 1\n"


def test_removing_unpacked_code_leaves_nothing_and_the_next_use_unpacks_again(tmp_path: Path) -> None:
    store = CodeStore(LocalBlobStore(tmp_path / "blobs", fsync=False), tmp_path / "code")
    package = inspect_zip(make_zip({"app.py": "X = 1\n", "lib/util.py": "Y = 2\n"}))
    key = store.put(package)
    folder = store.unpacked(package.sha256_hex, key)

    store.remove(package.sha256_hex)
    assert list((tmp_path / "code").iterdir()) == []  # nor any half-removed folder beside it
    store.remove(package.sha256_hex)  # removing what is not there is no error
    assert (store.unpacked(package.sha256_hex, key) / "lib" / "util.py").read_text() == "Y = 2\n"
    assert folder.is_dir()


def test_unpack_checks_names_again(tmp_path: Path) -> None:
    with pytest.raises(InvalidCode):
        unpack(make_zip({"../x.py": ""}), tmp_path / "out")


def test_pip_installs_from_a_local_wheelhouse_once_per_requirements(tmp_path: Path) -> None:
    build_wheel(tmp_path / "wheels", "altotiny", "1.0", "VALUE = 42\n")
    installer = DependencyInstaller(
        tmp_path / "deps", pip_args=["--no-index", "--find-links", str(tmp_path / "wheels")]
    )
    key = installer.key("altotiny==1.0\n")

    folder = installer.install(key, "altotiny==1.0\n")

    assert (folder / "altotiny.py").read_text() == "VALUE = 42\n"
    assert installer.is_installed(key)
    assert "Successfully installed altotiny-1.0" in installer.log_path(key).read_text()
    assert installer.install(key, "altotiny==1.0\n") == folder  # shared, not installed again
    assert installer.key("altotiny==1.0\n") != installer.key("altotiny==2.0\n")


def test_a_failed_pip_install_reports_pips_error_and_leaves_nothing(tmp_path: Path) -> None:
    installer = DependencyInstaller(tmp_path / "deps", pip_args=["--no-index", "--find-links", str(tmp_path)])
    key = installer.key("no-such-package-anywhere\n")

    with pytest.raises(DependencyInstallFailed, match="No matching distribution found for no-such-package-anywhere"):
        installer.install(key, "no-such-package-anywhere\n")

    assert not installer.is_installed(key)
    assert [p.name for p in (tmp_path / "deps").iterdir()] == [f"{key}.log"]
