"""Events: the stored facts of a meeting. Their names, schema numbers and fields are the format
of the stream kept in Redis, so they are pinned here: a change of fields needs a new schema
number (and an upcaster in server.codec), never a silent rewrite."""

from __future__ import annotations

import dataclasses

import pytest

from meeting import events as e

FORMAT: dict[str, tuple[type[e.Event], int, tuple[str, ...], bool]] = {
    # TYPE: (class, SCHEMA, fields, moves the agenda)
    "CardsIssued": (e.CardsIssued, 1, ("generation", "counts"), True),
    "TokenJoined": (e.TokenJoined, 1, ("group",), False),
    "MeetingStarted": (e.MeetingStarted, 1, ("at",), True),
    "StepEntered": (e.StepEntered, 1, ("step", "at"), True),
    "CommentRecorded": (
        e.CommentRecorded,
        3,
        ("reporter", "text", "at", "moved_agenda", "by", "kind"),
        False,
    ),
    "VotingOpened": (
        e.VotingOpened,
        4,
        (
            "round",
            "reporters",
            "at",
            "meeting_digest",
            "sealing_key",
            "key_for_teller",
            "teller_key_id",
            "step",
        ),
        True,
    ),
    "BallotCast": (e.BallotCast, 2, ("round", "group", "paper"), False),
    "PaperReturned": (e.PaperReturned, 1, ("round", "group", "count", "by", "at"), False),
    "VotingClosed": (e.VotingClosed, 1, ("round", "at"), True),
    "RoundVoided": (e.RoundVoided, 1, ("round", "reason", "at"), True),
    "TellerKeyNeeded": (e.TellerKeyNeeded, 1, ("round",), False),
    "ResultComputed": (e.ResultComputed, 2, ("round", "result", "ballots_digest"), True),
    "ResultsRevealed": (e.ResultsRevealed, 1, ("round", "at"), True),
    "MeetingPaused": (e.MeetingPaused, 1, ("at",), True),
    "MeetingResumed": (e.MeetingResumed, 1, ("at",), True),
    "MeetingFinished": (e.MeetingFinished, 1, ("at",), True),
    "EvaluationEntered": (
        e.EvaluationEntered,
        1,
        (
            "reporter",
            "vote_grade",
            "sources",
            "grade",
            "opinion",
            "reason",
            "entered_by",
            "at",
        ),
        False,
    ),
    "EvaluationFixed": (
        e.EvaluationFixed,
        1,
        ("studied_on", "entered_by", "at", "rectify_by"),
        True,
    ),
    "ExpertScored": (
        e.ExpertScored,
        1,
        ("expert", "reporter", "score", "entered_by", "at"),
        False,
    ),
    "IndicatorsImported": (e.IndicatorsImported, 1, ("values", "name", "at"), False),
}


def test_every_event_type_is_registered_under_its_name() -> None:
    assert e.EVENT_TYPES == {name: cls for name, (cls, *_) in FORMAT.items()}


@pytest.mark.parametrize("name", FORMAT)
def test_each_event_s_stored_format(name: str) -> None:
    cls, schema, fields, moves_agenda = FORMAT[name]
    assert (cls.TYPE, cls.SCHEMA, cls.MOVES_AGENDA) == (name, schema, moves_agenda)
    assert tuple(f.name for f in dataclasses.fields(cls)) == fields
    assert issubclass(cls, e.Event)


def test_the_base_event_is_a_schema_1_agenda_move_with_no_name() -> None:
    assert (e.Event.TYPE, e.Event.SCHEMA, e.Event.MOVES_AGENDA) == ("", 1, True)
    assert dataclasses.fields(e.Event) == ()


def test_a_ballot_event_says_only_which_round_and_group_and_whether_on_paper() -> None:
    fields = {f.name for f in dataclasses.fields(e.BallotCast)}
    assert fields == {"round", "group", "paper"}  # never a mark, a token or a time
    assert e.BallotCast(4, "leaders").paper is False  # a phone's, unless said otherwise


def test_events_are_values() -> None:
    assert e.StepEntered(2, 1.0) == e.StepEntered(2, 1.0) != e.StepEntered(3, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.StepEntered(2, 1.0).step = 3  # type: ignore[misc]


def test_cards_issued_counts_none_unless_given_each_its_own() -> None:
    first, second = e.CardsIssued("g1"), e.CardsIssued("g2")
    assert first.counts == {} and first.counts is not second.counts
    assert e.CardsIssued("g1", {"leaders": 10}).counts == {"leaders": 10}
