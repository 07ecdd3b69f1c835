"""The server's event-loop stalls of `bench/load.py`, phase by phase.

The server writes each stall it notices to a file (`server.loop_monitor`, started by the
bench with `PINGYI_LOOP_MONITOR`); the bench notes the wall time each of its phases starts
(`Phases`) and puts every stall in the phase that was under way when the stall ended. The gaps
between phases (the bench waiting for the room to settle) count for the phase before: no stall
goes uncounted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from server.loop_monitor import parse_stalls


class Phases:
    """The start of each phase, in order, on the wall clock the server's monitor uses."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, float]] = []

    def begin(self, name: str, at: float | None = None) -> None:
        self.starts.append((name, time.time() if at is None else at))


def longest_by_phase(
    stalls: list[tuple[float, str, float]], starts: list[tuple[str, float]], kind: str = "loop"
) -> dict[str, float]:
    """The longest stall of `kind` in each phase (0.0 in a phase without one); stalls before
    the first phase are not counted. `gc` stands for a collection of any generation."""
    longest = {name: 0.0 for name, _ in starts}
    for at, found, seconds in stalls:
        if found != kind and not (kind == "gc" and found.startswith("gc")):
            continue
        current = None
        for name, began in starts:
            if began <= at:
                current = name
        if current is not None:
            longest[current] = max(longest[current], seconds)
    return longest


def read_stalls(path: Path) -> list[tuple[float, str, float]]:
    return parse_stalls(path.read_text(encoding="utf-8")) if path.exists() else []


def longest_gc(stalls: list[tuple[float, str, float]], since: float) -> float:
    """The longest garbage collection the server noticed since `since`."""
    return max((s for at, kind, s in stalls if kind.startswith("gc") and at >= since), default=0.0)


def worst(
    stalls: list[tuple[float, str, float]], starts: list[tuple[str, float]], count: int = 5
) -> list[dict[str, Any]]:
    """The `count` longest loop stalls: their phase, when in it, wall time and the loop's own
    CPU (the `busy` line written with each), for a look at what caused them."""
    busy = {at: seconds for at, kind, seconds in stalls if kind == "busy"}
    found = []
    for at, kind, seconds in stalls:
        phase = [(name, began) for name, began in starts if began <= at]
        if kind == "loop" and phase:
            name, began = phase[-1]
            found.append(
                {"phase": name, "at": at - began, "wall": seconds, "busy": busy.get(at, 0.0)}
            )
    return sorted(found, key=lambda s: -s["wall"])[:count]
