"""The core stays channel-free: a scan of imports keeps the layers apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "domain": (
        "telegram",
        "sqlalchemy",
        "storage",
        "handlers",
        "bot",
        "babel",
        "alembic",
        "reports",
        "openpyxl",
        "aiohttp",
        "jinja2",
    ),
    "handlers": ("sqlalchemy", "storage", "alembic"),
    "storage": ("telegram", "handlers", "bot"),
    "charts": ("telegram", "sqlalchemy", "storage", "handlers", "bot"),
    "reports": ("telegram", "sqlalchemy", "storage", "handlers", "bot"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_do_not_import_what_they_must_not(package: str) -> None:
    offending = []
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no sources found under {package}/"
    for path in files:
        for module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                offending.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offending, offending
