"""Writes docs/cli.md from the real `--help` of every `pingyi` command (so it cannot drift).

python -m cli.reference > docs/cli.md
"""

from __future__ import annotations

import argparse
import os

from cli import build_parser


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((name, sub))
                found += [(f"{name} {deeper}", p) for deeper, p in _subcommands(sub)]
    return found


def reference() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal: fix it for a stable file
    parser = build_parser()
    parts = [
        "# `pingyi` command reference",
        "",
        "Generated from the real `--help` by `python -m cli.reference > docs/cli.md`;",
        "a test fails when this file and the commands disagree.",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
    ]
    for name, sub in _subcommands(parser):
        parts += ["", f"## `pingyi {name}`", "", "```text", sub.format_help().rstrip(), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference(), end="")
