"""`pingyi …` run as a user runs it: a child process from the source tree, its output kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1]


def pingyi(*args: str | Path, cwd: Path = SOURCE) -> subprocess.CompletedProcess[str]:
    """The command with these arguments (bounded at 5 minutes); never the test run's Redis."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "REDIS_CLUSTER_URLS")},
    )
