"""The garbage collector stays out of an open vote, and catches up after the results."""

from __future__ import annotations

import asyncio
import gc

import pytest

from meeting import agenda
from meeting import events as e
from server import gc_policy
from testkit import write_meeting


@pytest.fixture(autouse=True)
def restore_collector():  # type: ignore[no-untyped-def]
    yield
    gc.unfreeze()
    gc.enable()


async def test_no_collection_while_a_round_is_open_and_one_after_the_reveal(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gc_policy, "COLLECT_AFTER", 0.05)
    kept = [[n] for n in range(1000)]  # long-lived objects, like the connections
    gc_policy.voting_opened()
    assert not gc.isenabled() and gc.get_freeze_count() >= len(kept)
    gc_policy.voting_closed()
    assert gc.isenabled() and gc.get_freeze_count() >= len(kept)
    cycle: list[object] = []
    cycle.append(cycle)
    gc_policy.results_revealed(lambda: False)
    del cycle
    await asyncio.sleep(0.2)
    assert gc.get_freeze_count() == 0  # unfrozen and collected
    assert not any(type(o) is list and o and o[0] is o for o in gc.get_objects())


async def test_a_round_opened_again_before_the_collection_keeps_it_frozen(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gc_policy, "COLLECT_AFTER", 0.05)
    gc_policy.voting_opened()
    gc_policy.voting_closed()
    gc_policy.results_revealed(lambda: True)  # the next round is open by then
    await asyncio.sleep(0.2)
    assert gc.get_freeze_count() > 0


async def test_the_observer_follows_the_meetings_events(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gc_policy, "COLLECT_AFTER", 0.05)
    _, meeting = write_meeting(tmp_path)
    state = agenda.initial_state(meeting)
    observe = gc_policy.observer(lambda: state)
    observe(e.StepEntered(0, 1.0), state)  # not a vote: nothing changes
    assert gc.isenabled() and gc.get_freeze_count() == 0
    observe(e.VotingOpened(1, ("r01",), 1.0, ""), state)
    assert not gc.isenabled() and gc.get_freeze_count() > 0
    observe(e.VotingClosed(1, 2.0), state)
    assert gc.isenabled()
    observe(e.ResultsRevealed(1, 3.0), state)  # no round open when it is due: collected
    await asyncio.sleep(0.2)
    assert gc.get_freeze_count() == 0
