"""Subcommands of `pingyi` (filled in by the issue that owns them)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: ARG001
    return None
