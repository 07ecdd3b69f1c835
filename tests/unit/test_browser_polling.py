"""Browser tests poll the page with functions, never with expression strings.

Playwright's `wait_for_function("expr")` re-evaluates the string with `eval` on each animation
frame. The pages forbid `eval` (`script-src 'self'`), and newer Chromium enforces that on every
poll after the first, so such a wait passes when the condition already holds and fails when it
has to wait: a test that breaks only on a slow machine. A function string is evaluated once,
from the DevTools side, and is then called.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = re.compile(r"^\s*(async\s+)?(\(|function\b|[A-Za-z_$][\w$]*\s*=>)")
SOURCES = sorted(
    path
    for folder in ("tests", "testkit", "bench")
    for path in (ROOT / folder).rglob("*.py")
    if "artifacts" not in path.parts
)


def string_value(node: ast.expr, assigned: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return assigned.get(node.id)
    return None


def expression_polls(tree: ast.AST) -> list[tuple[int, str]]:
    """The `wait_for_function` calls whose predicate is a string but not a function."""
    assigned = {
        target.id: node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "wait_for_function"
            and node.args
        ):
            predicate = string_value(node.args[0], assigned)
            if predicate is None or not FUNCTION.match(predicate):
                found.append((node.lineno, predicate or ast.unparse(node.args[0])))
    return found


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("page.wait_for_function(\"document.title == 'x'\")", True),
        ('page.wait_for_function("window.ready")', True),
        ("page.wait_for_function(WAIT)", True),  # a name that is not a string we can see
        ('page.wait_for_function("() => window.ready")', False),
        ('page.wait_for_function("(n) => window.count > n", arg=2)', False),
        ('page.wait_for_function("async () => await window.ready")', False),
        ('page.wait_for_function("function () { return window.ready }")', False),
        ('page.wait_for_function("n => window.count > n", arg=2)', False),
        ('moved = """(before) => window.x !== before"""\npage.wait_for_function(moved)', False),
        ('moved = "window.x"\npage.wait_for_function(moved)', True),
        ('page.evaluate("window.ready")', False),  # evaluated once, from DevTools: allowed
    ],
)
def test_the_check_tells_expressions_from_functions(source: str, flagged: bool) -> None:
    assert bool(expression_polls(ast.parse(source))) is flagged


def test_no_browser_test_polls_an_expression_string() -> None:
    found = {
        str(path.relative_to(ROOT)): polls
        for path in SOURCES
        if (polls := expression_polls(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert SOURCES and not found, f"wait_for_function needs a function: {found}"
