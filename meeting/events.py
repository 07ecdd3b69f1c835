"""Events: the facts of a meeting, in the order they happened.

Each event is a frozen dataclass with a `TYPE` name and a `SCHEMA` version. They are stored
in a Redis Stream by `server.codec`; a format change adds a new schema number and an
upcaster there, never a rewrite of history. No ballot event ever carries a mark, a token or
a time: `BallotCast` says only which round, which group, and whether it came on paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    TYPE: ClassVar[str] = ""
    SCHEMA: ClassVar[int] = 1
    # Events that move the agenda bump the agenda version, which chair actions check.
    MOVES_AGENDA: ClassVar[bool] = True

    @property
    def moves_agenda(self) -> bool:
        """Whether this event bumps the agenda version (the store counted it when appending)."""
        return self.MOVES_AGENDA


@dataclass(frozen=True)
class CardsIssued(Event):
    TYPE = "CardsIssued"
    generation: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenJoined(Event):
    TYPE = "TokenJoined"
    MOVES_AGENDA = False
    group: str


@dataclass(frozen=True)
class MeetingStarted(Event):
    TYPE = "MeetingStarted"
    at: float


@dataclass(frozen=True)
class StepEntered(Event):
    TYPE = "StepEntered"
    step: int
    at: float


@dataclass(frozen=True)
class CommentRecorded(Event):
    """A 点评 or the closing 讲话 saved (the console autosaves as it is typed). It does not move
    the agenda: an autosave must never turn the chair's next click into a `conflict`.

    `kind`: "comment" (on `reporter`'s report), "together" (集中点评 on every report, reporter
    "") or "speech" (the closing 讲话, reporter ""); `by`: who gave it ("" where the meeting
    names nobody). The latest text for a (kind, reporter, by) is the one kept.

    Schema 2: before it, a comment did move the agenda, and the store's agenda version counted
    it; `moved_agenda` (True only for those, by the upcaster) keeps a replayed older record's
    agenda version equal to the store's, so its chair actions are not refused for ever.
    Schema 3 added `by` and `kind`: every earlier comment was one unnamed 点评 on one report.
    """

    TYPE = "CommentRecorded"
    SCHEMA = 3
    MOVES_AGENDA = False
    reporter: str
    text: str
    at: float
    moved_agenda: bool = False
    by: str = ""
    kind: str = "comment"

    @property
    def moves_agenda(self) -> bool:
        return self.moved_agenda


@dataclass(frozen=True)
class VotingOpened(Event):
    """Schema 2 added `meeting_digest`: the SHA-256 of the meeting file the round opened under.

    Schema 3 added the round's seal (server/sealing.py), all hex and "" in a round opened
    unsealed: `sealing_key`, the public key every process seals the round's marks with;
    `key_for_teller`, its private key sealed to the 监票人's public key; `teller_key_id`, which
    监票人 key that is. The agenda opens a round with them empty; the server fills them in.

    Schema 4 added `step`, the vote step the round is held for. A step's first round has the
    step's index as its id; a round opened again after a void (重新测评) has a new id. Before
    schema 4 every round was a step's first, so the upcaster sets `step` to the round's id.
    """

    TYPE = "VotingOpened"
    SCHEMA = 4
    round: int
    reporters: tuple[str, ...]
    at: float
    meeting_digest: str
    sealing_key: str = ""
    key_for_teller: str = ""
    teller_key_id: str = ""
    step: int = -1  # -1 only in code that builds the event by hand: the round's id


@dataclass(frozen=True)
class RoundVoided(Event):
    """重新测评: a closed round, not yet revealed, is voided with the chair's written reason.
    Its ballots stay stored and are reported (how many, why, when), but no result counts them
    and no view shows its result."""

    TYPE = "RoundVoided"
    round: int
    reason: str
    at: float


@dataclass(frozen=True)
class BallotCast(Event):
    """Schema 2 added `paper`: a paper ballot typed in by the secretariat or at the 计票台
    (older ballots read as phone ballots). Still never a mark, a token or a time."""

    TYPE = "BallotCast"
    SCHEMA = 2
    MOVES_AGENDA = False
    round: int
    group: str
    paper: bool = False


@dataclass(frozen=True)
class PaperReturned(Event):
    """回收: how many paper ballots of a voter group the 计票人 found in the ballot box for a
    round, as typed at the 计票台; a later one for the same round and group replaces it. `by`:
    who typed it ("" when not given)."""

    TYPE = "PaperReturned"
    MOVES_AGENDA = False
    round: int
    group: str
    count: int
    by: str
    at: float


@dataclass(frozen=True)
class VotingClosed(Event):
    TYPE = "VotingClosed"
    round: int
    at: float


@dataclass(frozen=True)
class TellerKeyNeeded(Event):
    """A closed round's sealed ballots cannot be opened by any running process (the one that
    opened the round has gone): the 监票人's key is needed to count them."""

    TYPE = "TellerKeyNeeded"
    MOVES_AGENDA = False
    round: int


@dataclass(frozen=True)
class ResultComputed(Event):
    """Schema 2 added `ballots_digest`: the SHA-256 of the counted ballots as `pingyi export`
    writes them (every round closed so far, sorted by receipt), shown to the room at close so
    that no later change of a ballot goes unseen ("" for a result of an older version)."""

    TYPE = "ResultComputed"
    SCHEMA = 2
    round: int
    result: dict[str, Any]
    ballots_digest: str = ""


@dataclass(frozen=True)
class ResultsRevealed(Event):
    TYPE = "ResultsRevealed"
    round: int
    at: float


@dataclass(frozen=True)
class MeetingPaused(Event):
    TYPE = "MeetingPaused"
    at: float


@dataclass(frozen=True)
class MeetingResumed(Event):
    TYPE = "MeetingResumed"
    at: float


@dataclass(frozen=True)
class MeetingFinished(Event):
    TYPE = "MeetingFinished"
    at: float


@dataclass(frozen=True)
class EvaluationEntered(Event):
    """综合评价 (meeting.evaluation): one entry of the organisers' decision on a reporter. A
    revision is a later entry for the same reporter; none is ever overwritten.

    `vote_grade`: the 测评等次 the entry was made against ("" when the vote left it 待定);
    `sources`: the other sources' grade or note (实地调研, 平时了解, 督导调研, as configured);
    `grade`: the 综合评价等次; `opinion`: the 综合评价意见 in parts (成绩, 问题, 要求); `reason`:
    why the grade differs from the 测评等次 ("" when it does not); `entered_by`: who typed it.
    """

    TYPE = "EvaluationEntered"
    MOVES_AGENDA = False
    reporter: str
    vote_grade: str
    sources: dict[str, str]
    grade: str
    opinion: dict[str, str]
    reason: str
    entered_by: str
    at: float


@dataclass(frozen=True)
class EvaluationFixed(Event):
    """The 党组 studied the 综合评价 on `studied_on` (YYYY-MM-DD): the record is closed, with the
    date by which the reporters on the 约谈提醒 list are to have rectified (`rectify_by`). It
    moves the agenda version, so an entry decided before it and appended after it conflicts
    (the store checks that version) and is then refused."""

    TYPE = "EvaluationFixed"
    studied_on: str
    entered_by: str
    at: float
    rectify_by: str = ""  # 限期整改 by this date (YYYY-MM-DD; "" when nobody is to rectify)


@dataclass(frozen=True)
class ExpertScored(Event):
    """专家点评 (meeting.panel): a named expert's score of a reporter, on the panel's scale as
    an exact decimal ("" clears it). Not anonymous, by design: the panel signs its scores.
    `entered_by`: "" when the expert entered it on their own page, else who typed it in from
    the expert's paper."""

    TYPE = "ExpertScored"
    MOVES_AGENDA = False
    expert: str
    reporter: str
    score: str
    entered_by: str
    at: float


@dataclass(frozen=True)
class IndicatorsImported(Event):
    """项目指标 (meeting.panel): the actual values per reporter and indicator as imported,
    each an exact decimal or "" (none); a later import replaces the whole table. `name`: the
    file it came from."""

    TYPE = "IndicatorsImported"
    MOVES_AGENDA = False
    values: dict[str, dict[str, str]]
    name: str
    at: float


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        CardsIssued,
        TokenJoined,
        MeetingStarted,
        StepEntered,
        CommentRecorded,
        VotingOpened,
        BallotCast,
        PaperReturned,
        VotingClosed,
        RoundVoided,
        TellerKeyNeeded,
        ResultComputed,
        ResultsRevealed,
        MeetingPaused,
        MeetingResumed,
        ExpertScored,
        IndicatorsImported,
        MeetingFinished,
        EvaluationEntered,
        EvaluationFixed,
    )
}
