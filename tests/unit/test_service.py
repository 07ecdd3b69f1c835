"""The service's one pure decision: how the store's open-round key follows the agenda."""

from __future__ import annotations

from meeting import agenda
from meeting import commands as c
from server.service import _open_round_change
from testkit import write_meeting


def test_the_open_round_key_follows_opening_and_closing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, meeting = write_meeting(tmp_path, voting="each")
    state = agenda.initial_state(meeting)
    seen = []
    for command in [c.Start(), c.Next(), c.Next(), c.OpenVoting(), c.Pause(), c.Resume()]:
        events = agenda.decide(state, command, 1.0)
        after = agenda.fold(state, events)
        seen.append(_open_round_change(state, after))
        state = after
    round_id = str(state.position)
    assert seen == [("", ""), ("", ""), ("", ""), ("open", round_id), ("", ""), ("", "")]
    after = agenda.fold(state, agenda.decide(state, c.CloseVoting(force=True), 2.0))
    assert _open_round_change(state, after) == ("close", "")
    assert _open_round_change(after, after) == ("", "")
