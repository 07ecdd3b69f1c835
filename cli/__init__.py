"""The `pingyi` command: one parser, each subcommand registered by the module that owns it."""

from __future__ import annotations

import argparse
import os
import sys

from cli import (
    archive_cmd,
    paper_cmd,
    print_cmd,
    rehearsal_cmd,
    serve_cmd,
    status_cmd,
    tally_cmd,
    teller_keys,
)
from tally.errors import InputError

# Each module has `register(subparsers)` that adds its subcommands with `func` set.
COMMAND_MODULES = (
    tally_cmd,
    serve_cmd,
    print_cmd,
    teller_keys,
    paper_cmd,
    archive_cmd,
    status_cmd,
    rehearsal_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pingyi", description="Pingyi 评议: live voting and scoring for 述职评议 meetings."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `pingyi tally … | head`: the reader stopped reading
        # point stdout at nothing, so that flushing it at exit prints no traceback either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
