"""House rules that keep the layers apart: services -> storage -> core, and no domain package sees the wire."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "altostratus"
WIRE = ("altostratus.api", "altostratus.console", "altostratus.cli", "starlette", "uvicorn", "click")
HTTP_FRAMEWORKS = ("starlette", "uvicorn")
# Each package under api/ is one domain service's wire handlers (lake/, functions/, ...); the modules at api/'s
# top level are the protocol layer, the only part of api/ that sees the HTTP framework.
HANDLER_PACKAGES = sorted(p for p in (SRC / "api").iterdir() if (p / "__init__.py").is_file())
# The wire and the composition root (app/: one wiring module per service) may import anything.
ADAPTERS = {"api", "console", "cli", "app"}
# What each layer may import from inside the package (beyond itself).
LAYERS = {
    "core": set(),
    "storage": {"core"},
    "auth": {"core", "storage"},
    "jobs": {"core", "storage"},
}
# Services whose tables live in their own tables.py, on storage's one MetaData.
SERVICES = ("auth", "bots", "deploy", "dl", "functions", "jobs", "lake", "pipelines", "predict", "speech", "vision")
TABLES = re.compile(r"altostratus\.(\w+)\.tables")
# The migrations build every table: this module alone imports every service's tables module.
MIGRATION_TARGET = SRC / "storage" / "migrations" / "target.py"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, and every name it takes from one as `module.name` (a submodule or not)."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def domain_files() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] not in ADAPTERS]


@pytest.mark.parametrize("path", domain_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_domain_never_imports_the_wire(path: Path) -> None:
    wire = sorted(m for m in imported_modules(path) if m.startswith(WIRE))
    assert not wire, f"{path.relative_to(SRC)} imports {wire}; only api/, console/, cli/ and app/ may"


def handler_files() -> list[Path]:
    return [path for package in HANDLER_PACKAGES for path in package.rglob("*.py")]


def test_handler_packages_are_found() -> None:
    assert {"lake", "functions"} <= {p.name for p in HANDLER_PACKAGES}


@pytest.mark.parametrize("path", handler_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_handlers_never_import_the_http_framework(path: Path) -> None:
    http = sorted(m for m in imported_modules(path) if m.split(".")[0] in HTTP_FRAMEWORKS)
    assert not http, (
        f"{path.relative_to(SRC)} imports {http}; handlers return dicts or Replies, and only the protocol layer "
        "(the modules at api/'s top level) turns them into HTTP"
    )


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_lower_layers_do_not_import_higher_ones(layer: str) -> None:
    allowed = {f"altostratus.{name}" for name in LAYERS[layer] | {layer}} | {"altostratus"}
    for path in (SRC / layer).rglob("*.py"):
        inner = {m for m in imported_modules(path) if m.startswith("altostratus.")}
        if path == MIGRATION_TARGET:
            inner = {m for m in inner if not TABLES.fullmatch(m)}
        bad = sorted(m for m in inner if not any(m == a or m.startswith(a + ".") for a in allowed))
        assert not bad, f"{path.relative_to(SRC)} imports {bad}; {layer} may import only {sorted(allowed)}"


def test_no_module_is_too_long() -> None:
    long = [f"{p.relative_to(SRC)} ({n})" for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > 600]
    assert not long, f"modules past 600 lines, asking to be split: {long}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_services_tables(service: str) -> None:
    for path in (SRC / service).rglob("*.py"):
        owners = {match[1] for name in imported_names(path) if (match := TABLES.fullmatch(name))}
        others = sorted(owners - {service})
        assert not others, f"{path.relative_to(SRC)} imports the tables of {others}; a service reads only its own"


def test_the_migration_target_imports_every_services_tables() -> None:
    declared = {path.parent.name for path in SRC.glob("*/tables.py")}
    imported = {match[1] for name in imported_names(MIGRATION_TARGET) if (match := TABLES.fullmatch(name))}
    assert declared == imported == set(SERVICES)
