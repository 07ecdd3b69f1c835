"""docs/cli.md is the real `--help` of every command: regenerate it when a command changes."""

from __future__ import annotations

from cli.reference import reference
from tests.helpers import ROOT


def test_the_cli_reference_matches_the_commands() -> None:
    documented = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert documented == reference(), "run: python -m cli.reference > docs/cli.md"
