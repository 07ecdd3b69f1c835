"""The one event envelope: every event type round-trips through a stream entry, and entries
written with an older schema are read through the upcasters, never rewritten."""

from __future__ import annotations

import dataclasses

import pytest

from meeting import events as e
from server.codec import UPCASTERS, decode_entry, event_fields, pack

SAMPLES: list[e.Event] = [
    e.CardsIssued("gen-1", {"leaders": 2, "cadres": 3}),
    e.TokenJoined("cadres"),
    e.MeetingStarted(1.5),
    e.StepEntered(3, 2.5),
    e.CommentRecorded("r01", "抓党建有实招", 3.5),
    e.VotingOpened(4, ("r01", "r02"), 4.5, "ab" * 32),
    e.VotingOpened(4, ("r01", "r02"), 4.5, "ab" * 32, "cd" * 32, "ef" * 80, "12" * 8, step=4),
    e.VotingOpened(9, ("r01", "r02"), 4.5, "ab" * 32, step=4),  # held again: 重新测评
    e.BallotCast(4, "cadres"),
    e.BallotCast(4, "cadres", paper=True),
    e.PaperReturned(4, "cadres", 12, "王五", 5.0),
    e.VotingClosed(4, 5.5),
    e.TellerKeyNeeded(4),
    e.RoundVoided(4, "表决器故障，重新测评", 5.75),
    e.ResultComputed(4, {"reporters": [{"id": "r01", "final_grade": "好"}]}),
    e.ResultsRevealed(4, 6.5),
    e.MeetingPaused(7.5),
    e.MeetingResumed(8.5),
    e.MeetingFinished(9.5),
    e.EvaluationEntered(
        "r01",
        "好",
        {"实地调研": "较好"},
        "较好",
        {"成绩": "扎实", "问题": "短板"},
        "调研",
        "李",
        10.5,
    ),
    e.EvaluationFixed("2026-12-30", "李", 11.5),
    e.ExpertScored("e1", "r01", "92.5", "", 12.0),
    e.IndicatorsImported({"r01": {"income": "12.5", "members": ""}}, "项目指标.xlsx", 13.0),
]


def entry(version: int, type_name: str, schema: int, payload: dict) -> dict[bytes, bytes]:
    return {
        b"v": b"%d" % version,
        b"t": type_name.encode(),
        b"s": b"%d" % schema,
        b"p": pack(payload),
    }


def test_every_event_type_has_a_sample() -> None:
    assert {type(event) for event in SAMPLES} == set(e.EVENT_TYPES.values())


@pytest.mark.parametrize("event", SAMPLES, ids=lambda ev: ev.TYPE)
def test_every_event_round_trips(event: e.Event) -> None:
    type_name, schema, payload = event_fields(event)
    assert (type_name, schema) == (event.TYPE, event.SCHEMA)
    fields = {b"v": b"7", b"t": type_name.encode(), b"s": str(schema).encode(), b"p": payload}
    assert decode_entry(fields) == (7, event)


def test_a_round_opened_before_the_digest_was_recorded_reads_with_an_unknown_digest() -> None:
    old = entry(12, "VotingOpened", 1, {"round": 3, "reporters": ["r01", "r03"], "at": 100.0})
    assert decode_entry(old) == (12, e.VotingOpened(3, ("r01", "r03"), 100.0, "", step=3))


def test_a_comment_from_when_comments_moved_the_agenda_still_counts_as_moving_it() -> None:
    old = entry(5, "CommentRecorded", 1, {"reporter": "r01", "text": "好", "at": 1.0})
    version, event = decode_entry(old)
    assert event == e.CommentRecorded("r01", "好", 1.0, moved_agenda=True) and event.moves_agenda
    assert not e.CommentRecorded("r01", "好", 1.0).moves_agenda  # one recorded today


def test_a_comment_from_before_named_commenters_is_one_unnamed_comment_on_its_report() -> None:
    old = entry(6, "CommentRecorded", 2, {"reporter": "r03", "text": "好", "at": 2.0})
    assert decode_entry(old) == (6, e.CommentRecorded("r03", "好", 2.0, False, "", "comment"))


def test_a_result_counted_before_the_ballots_digest_was_recorded_reads_with_none() -> None:
    old = entry(9, "ResultComputed", 1, {"round": 4, "result": {"valid": True}})
    assert decode_entry(old) == (9, e.ResultComputed(4, {"valid": True}, ""))


def test_a_round_opened_before_ballots_were_sealed_reads_as_unsealed() -> None:
    old = entry(
        12, "VotingOpened", 2, {"round": 3, "reporters": ["r01"], "at": 1.0, "meeting_digest": "d"}
    )
    assert decode_entry(old) == (12, e.VotingOpened(3, ("r01",), 1.0, "d", "", "", "", 3))


def test_a_round_opened_before_rounds_could_be_held_again_is_its_step_s_first() -> None:
    payload = {"round": 5, "reporters": ["r01"], "at": 1.0, "meeting_digest": "d"}
    seal = {"sealing_key": "k", "key_for_teller": "t", "teller_key_id": "i"}
    old = entry(12, "VotingOpened", 3, {**payload, **seal})
    assert decode_entry(old) == (12, e.VotingOpened(5, ("r01",), 1.0, "d", "k", "t", "i", step=5))


def test_every_schema_below_the_current_one_has_an_upcaster() -> None:
    for cls in e.EVENT_TYPES.values():
        for schema in range(1, cls.SCHEMA):
            assert (cls.TYPE, schema) in UPCASTERS, (cls.TYPE, schema)
    assert all(e.EVENT_TYPES[name].SCHEMA > schema for name, schema in UPCASTERS)


def test_an_event_type_this_version_does_not_know_is_read_as_none() -> None:
    assert decode_entry(entry(5, "SomethingNew", 1, {"x": 1})) == (5, None)


def test_fields_a_newer_writer_added_are_ignored() -> None:
    payload = {**dataclasses.asdict(e.StepEntered(2, 1.0)), "added_later": True}
    assert decode_entry(entry(9, "StepEntered", 1, payload)) == (9, e.StepEntered(2, 1.0))
