"""The garbage collector never walks what lives long while anyone is connected: it stays out
of an open vote, freezes what survives, and collects everything once the rooms have gone."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from meeting import agenda
from meeting import events as e
from server import gc_policy
from testkit import write_meeting


@pytest.fixture(autouse=True)
def restore_collector():  # type: ignore[no-untyped-def]
    thresholds = gc.get_threshold()
    yield
    gc_policy._voting.clear()
    if gc_policy.freeze_survivors in gc.callbacks:
        gc.callbacks.remove(gc_policy.freeze_survivors)
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    gc.enable()


class Node:
    """An object in a reference cycle with itself: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def a_cycle() -> weakref.ref[Node]:
    """A cycle nothing refers to any more: whether it was freed, seen through a weak one."""
    return weakref.ref(Node())


def test_no_collection_while_a_round_is_open_and_what_the_vote_left_is_frozen() -> None:
    kept = [[n] for n in range(1000)]  # long-lived objects, like the connections
    gc_policy.voting_opened()
    assert not gc.isenabled() and gc.get_freeze_count() >= len(kept)
    frozen_at_open = gc.get_freeze_count()
    during = [[n] for n in range(1000)]  # a vote's survivors: no first collection walks them
    gc_policy.voting_closed()
    assert gc.isenabled() and gc.get_freeze_count() >= frozen_at_open + len(during)


def test_collection_stays_off_until_the_last_open_round_of_the_process_closes() -> None:
    first, second = object(), object()
    gc_policy.voting_opened(first)
    gc_policy.voting_opened(second)
    gc_policy.voting_closed(first)
    assert not gc.isenabled()  # the other meeting still votes
    gc_policy.voting_closed(second)
    assert gc.isenabled()


def test_what_survives_a_middle_collection_is_frozen() -> None:
    gc.callbacks.append(gc_policy.freeze_survivors)
    gc.collect()
    gc.freeze()
    before = gc.get_freeze_count()
    kept = [[n] for n in range(1000)]
    gc.collect(1)
    assert gc.get_freeze_count() >= before + len(kept)
    assert not gc.get_objects(2)  # a full collection would walk nothing old


def test_a_young_collection_freezes_nothing() -> None:
    gc.callbacks.append(gc_policy.freeze_survivors)
    gc.collect()
    gc.freeze()
    before = gc.get_freeze_count()
    kept = [[n] for n in range(1000)]
    gc.collect(0)
    assert gc.get_freeze_count() < before + len(kept)


def test_idle_means_few_connections_left() -> None:
    assert gc_policy.idle(0) and gc_policy.idle(gc_policy.IDLE_CONNECTIONS)
    assert not gc_policy.idle(gc_policy.IDLE_CONNECTIONS + 1)


def test_the_frozen_cycles_are_collected_once_the_process_is_idle(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gc_policy, "_collected", 0)
    monkeypatch.setattr(gc_policy, "IDLE_GROWTH", 0)
    gc_policy.voting_opened()
    cycle = a_cycle()  # garbage left by the vote: frozen with it at the close
    gc_policy.voting_closed()
    gc.collect()
    assert cycle() is not None
    assert not gc_policy.collect_if_idle(gc_policy.IDLE_CONNECTIONS + 1)  # phones still here
    assert cycle() is not None
    assert gc_policy.collect_if_idle(0)
    assert cycle() is None
    assert gc.get_freeze_count() > 0  # what survives stays frozen


def test_no_full_collection_while_a_round_is_open_even_if_idle(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gc_policy, "_collected", 0)
    gc_policy.voting_opened()
    assert not gc_policy.collect_if_idle(0)


def test_no_full_collection_when_nothing_new_was_frozen(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gc.freeze()
    monkeypatch.setattr(gc_policy, "_collected", gc.get_freeze_count())
    assert not gc_policy.collect_if_idle(0)


async def test_the_observer_follows_the_meetings_events(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gc_policy, "_watching", asyncio.get_running_loop().create_future())
    _, meeting = write_meeting(tmp_path)
    state = agenda.initial_state(meeting)
    observe = gc_policy.observer(lambda: state)
    observe(e.StepEntered(0, 1.0), state)  # not a vote: nothing changes
    assert gc.isenabled() and gc.get_freeze_count() == 0
    observe(e.VotingOpened(1, ("r01",), 1.0, ""), state)
    assert not gc.isenabled() and gc.get_freeze_count() > 0
    observe(e.VotingClosed(1, 2.0), state)
    assert gc.isenabled()
    observe(e.ResultsRevealed(1, 3.0), state)  # no collection at the reveal any more
    assert gc.isenabled() and gc.get_freeze_count() > 0


async def test_the_idle_watch_collects_once_the_connections_are_gone(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(gc_policy, "IDLE_CHECK", 0.01)
    monkeypatch.setattr(gc_policy, "IDLE_GROWTH", 0)
    monkeypatch.setattr(gc_policy, "_collected", 0)
    connections = [gc_policy.IDLE_CONNECTIONS + 1]
    monkeypatch.setattr(gc_policy, "open_connections", lambda: connections[0])
    cycle = a_cycle()
    gc.freeze()
    watch = asyncio.create_task(gc_policy._watch_idle())
    try:
        await asyncio.sleep(0.05)
        assert cycle() is not None
        connections[0] = 0
        await asyncio.sleep(0.05)
        assert cycle() is None
    finally:
        watch.cancel()
