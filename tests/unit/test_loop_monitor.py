"""The bench's event-loop monitor: off unless asked for, and it notes a stall when one comes;
the bench puts each stall in the phase it measured then."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from bench._load_meetings import meeting_ids, vote_windows
from bench._stalls import longest_by_phase, longest_gc, worst
from server import loop_monitor


def test_a_sleep_that_ends_on_time_is_not_late() -> None:
    assert loop_monitor.lateness(10.0, 10.004, tick=0.005) == 0.0
    assert loop_monitor.lateness(10.0, 10.105, tick=0.005) == pytest.approx(0.1)


def test_the_lines_it_writes_read_back() -> None:
    text = loop_monitor.stall_line("loop", 0.0623, 1000.5) + loop_monitor.stall_line(
        "gc1", 0.0031, 1001.0
    )
    text += "1002.0 loo"  # a line torn by a killed server
    assert loop_monitor.parse_stalls(text) == [
        (1000.5, "loop", pytest.approx(0.0623)),
        (1001.0, "gc1", pytest.approx(0.0031)),
    ]


async def test_off_unless_asked_for(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(loop_monitor.ENVIRONMENT, raising=False)
    monkeypatch.setattr(loop_monitor, "_task", None)
    loop_monitor.start_if_asked()
    assert loop_monitor._task is None


async def test_a_stalled_loop_is_written_down(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "stalls.txt"
    monkeypatch.setenv(loop_monitor.ENVIRONMENT, str(out))
    monkeypatch.setattr(loop_monitor, "_task", None)
    monkeypatch.setattr(loop_monitor, "_out", None)
    callbacks = list(gc.callbacks)
    try:
        loop_monitor.start_if_asked()
        await asyncio.sleep(0.02)
        time.sleep(0.06)  # the loop runs nothing else meanwhile
        await asyncio.sleep(0.02)
        stalls = loop_monitor.parse_stalls(out.read_text(encoding="utf-8"))
        assert any(kind == "loop" and seconds >= 0.04 for _, kind, seconds in stalls)
    finally:
        assert loop_monitor._task is not None and loop_monitor._out is not None
        loop_monitor._task.cancel()
        loop_monitor._out.close()
        gc.callbacks[:] = callbacks


def test_each_stall_counts_for_the_phase_under_way_when_it_ended() -> None:
    starts = [("join", 100.0), ("burst", 110.0), ("after", 120.0)]
    stalls = [
        (99.0, "loop", 0.5),  # before the first phase: the server starting
        (105.0, "loop", 0.02),
        (109.0, "loop", 0.03),
        (111.0, "gc1", 0.2),  # a collection is a stall's cause, not another stall
        (115.0, "loop", 0.09),
        (130.0, "loop", 0.01),  # after the last start: its phase still
    ]
    assert longest_by_phase(stalls, starts) == {"join": 0.03, "burst": 0.09, "after": 0.01}
    assert longest_by_phase(stalls, starts, kind="gc") == {"join": 0.0, "burst": 0.2, "after": 0.0}
    assert longest_gc(stalls, since=100.0) == 0.2


def test_the_worst_stalls_say_where_they_were_and_how_much_was_the_servers_own() -> None:
    starts = [("join", 100.0), ("vote", 110.0)]
    stalls = [
        (105.0, "loop", 0.02),
        (105.0, "busy", 0.018),
        (112.5, "loop", 0.3),
        (112.5, "busy", 0.01),  # the machine ran something else: not the server's doing
    ]
    assert worst(stalls, starts, count=1) == [
        {"phase": "vote", "at": 2.5, "wall": 0.3, "busy": 0.01}
    ]


def test_the_meetings_vote_windows_spread_over_the_minute() -> None:
    assert meeting_ids(3) == ["m01", "m02", "m03"]
    assert vote_windows(1, 20.0) == [0.0]
    starts = vote_windows(5, 20.0, minute=60.0)
    assert starts[0] == 0.0 and starts[-1] + 20.0 == 60.0
    assert starts == sorted(starts)
