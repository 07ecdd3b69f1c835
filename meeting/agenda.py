"""The meeting's agenda (一述一评) as a pure state machine.

`plan` lays out the steps from the meeting file; `decide(state, command, now)` returns the
events a chair action produces or raises `Refused` with a Chinese reason; `evolve(state,
event)` folds one event into the state, so replaying the stream rebuilds it. Nothing here
does I/O: a test checks that this module imports no redis, starlette or msgpack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import singledispatch
from typing import Literal

from meeting import commands as c
from meeting import evaluation
from meeting import events as e
from meeting.errors import BadField, ReasonNeeded, Refused, TooEarly
from meeting.panel import PanelState
from meeting.panel import evolve as evolve_panel
from meeting.text import has_unprintable, has_visible, one_line
from tally.model import Meeting

StepKind = Literal["report", "comment", "vote", "speech"]
RemarkKind = Literal["comment", "together", "speech"]
# A 点评 or 讲话 is kept by (kind, reporter id or "", who gave it)
RemarkKey = tuple[str, str, str]
RoundStatus = Literal["ready", "open", "closed", "revealed", "voided"]
# A close this soon after the open, or with no ballot in, is most likely a slip of the finger
# (a double click on 开启投票): refused with `too_early` unless the chair confirmed (`force`).
CLOSE_GUARD_SECONDS = 10.0


@dataclass(frozen=True)
class Step:
    kind: StepKind
    # one for report and comment; every onsite reporter for a 集中点评; the round's for vote;
    # none for the closing 讲话
    reporters: tuple[str, ...]
    commenters: tuple[str, ...] = ()  # who is to speak on a comment step; the speech's speaker

    @property
    def reporter(self) -> str | None:
        """The one reporter a report or comment step is about (None for any other)."""
        one = self.kind in ("report", "comment") and len(self.reporters) == 1
        return self.reporters[0] if one else None

    @property
    def remark_kind(self) -> RemarkKind | None:
        """What a 点评 saved on this step is: None where there is none to save."""
        if self.kind == "speech":
            return "speech"
        if self.kind == "comment":
            return "comment" if self.reporter is not None else "together"
        return None


def plan(meeting: Meeting) -> tuple[Step, ...]:
    """The steps of the day. A written report (书面述职) has no speaking phases; with 集中点评
    one comment step follows the last report; the closing 讲话, if any, comes last."""
    steps: list[Step] = []
    onsite = tuple(r.id for r in meeting.reporters if not r.written)
    for reporter in meeting.reporters:
        if not reporter.written:
            steps.append(Step("report", (reporter.id,)))
            if meeting.agenda.comments == "each":
                steps.append(Step("comment", (reporter.id,), meeting.commenters_of(reporter.id)))
        if meeting.voting == "each":
            steps.append(Step("vote", (reporter.id,)))
    if meeting.agenda.comments == "together" and onsite:
        steps.append(Step("comment", onsite, meeting.agenda.commenters))
    if meeting.voting == "end":
        steps.append(Step("vote", tuple(r.id for r in meeting.reporters)))
    if meeting.agenda.closing_speech:
        steps.append(Step("speech", (), (meeting.agenda.closing_speech,)))
    return tuple(steps)


@dataclass(frozen=True)
class Round:
    id: int  # its vote step's index for the step's first round; a new id when held again
    reporters: tuple[str, ...]
    status: RoundStatus = "open"
    cast: Mapping[str, int] = field(default_factory=dict)  # ballots per group
    meeting_digest: str = ""  # the meeting file it was opened under ("" before it was recorded)
    # Its seal (meeting.events.VotingOpened; "" for a round opened unsealed).
    sealing_key: str = ""
    key_for_teller: str = ""
    teller_key_id: str = ""
    awaiting_teller: bool = False  # closed, and only the 监票人's key can open its ballots
    opened_at: float = 0.0  # VotingOpened.at: the voting clock, and the `too_early` guard
    void_reason: str = ""  # 重新测评: why the chair voided it
    voided_at: float = 0.0
    step: int = -1  # the vote step it is held for (VotingOpened.step)
    # Rounds are held one after another: this one was the `seq`-th opened (0 first). With
    # voting = "each" a result counts every round closed before it, in this order.
    seq: int = 0
    paper: Mapping[str, int] = field(default_factory=dict)  # of `cast`, paper ballots per group
    # 回收 (the 计票台): paper ballots found in the box per group, as last typed, and by whom
    returned: Mapping[str, int] = field(default_factory=dict)
    returned_by: Mapping[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.cast.values())

    @property
    def counted(self) -> bool:
        """Closed and not voided: its ballots count in results."""
        return self.status in ("closed", "revealed")


@dataclass(frozen=True)
class MeetingState:
    steps: tuple[Step, ...]
    position: int = -1  # -1: not started; len(steps): finished
    version: int = 0  # every event
    agenda_version: int = 0  # events that move the agenda (what `expect` checks)
    # When the current step's clock started, moved back by the time the step already ran
    # before (后退 and 下一项 back into it): a step's time accumulates, it never restarts.
    step_started_at: float | None = None
    paused_at: float | None = None
    paused_total: float = 0.0
    rounds: Mapping[int, Round] = field(default_factory=dict)
    step_rounds: Mapping[int, int] = field(default_factory=dict)  # vote step -> its live round
    results: Mapping[int, dict] = field(default_factory=dict)
    # round id -> SHA-256 of the ballots its result counted, as exported ("" before recorded)
    ballot_digests: Mapping[int, str] = field(default_factory=dict)
    remarks: Mapping[RemarkKey, str] = field(default_factory=dict)  # 点评 and 讲话, as saved
    joined: Mapping[str, int] = field(default_factory=dict)  # open mode: tokens per group
    step_elapsed: Mapping[int, float] = field(default_factory=dict)  # time of steps left
    # SHA-256 of the meeting file this process runs with: each round records it when it opens.
    meeting_digest: str = ""
    # 综合评价: the organisers' decision after the meeting (meeting.evaluation)
    evaluation: evaluation.EvaluationState = field(default_factory=evaluation.EvaluationState)
    # 专家点评 and 项目指标 entered live (meeting.panel)
    panel: PanelState = field(default_factory=PanelState)

    @property
    def started(self) -> bool:
        return self.position >= 0

    @property
    def finished(self) -> bool:
        return self.position >= len(self.steps)

    @property
    def step(self) -> Step | None:
        return self.steps[self.position] if 0 <= self.position < len(self.steps) else None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def open_round(self) -> Round | None:
        return next((r for r in self.rounds.values() if r.status == "open"), None)

    @property
    def held_rounds(self) -> list[Round]:
        """Every round opened, in the order they were opened (voided ones too)."""
        return sorted(self.rounds.values(), key=lambda held: held.seq)

    @property
    def current_round(self) -> Round | None:
        """The round of the current vote step, or after the end the last round held."""
        step = self.step
        if step is not None:
            return self.round_at(self.position) if step.kind == "vote" else None
        live = [r for r in self.held_rounds if r.status != "voided"]
        return live[-1] if self.finished and live else None

    def round_at(self, position: int) -> Round | None:
        """The live round of the vote step at `position` (None: ready, or its round voided)."""
        round_id = self.step_rounds.get(position)
        return self.rounds.get(round_id) if round_id is not None else None

    def round_status(self, position: int) -> RoundStatus:
        held = self.round_at(position)
        return held.status if held else "ready"

    def next_round_id(self, position: int) -> int:
        """The id the step's next round opens with: the step's index the first time (as
        before 重新测评 existed), then a number no step and no earlier round has."""
        if not any(held.step == position for held in self.rounds.values()):
            return position
        return max(len(self.steps), max(self.rounds) + 1)

    def voided_rounds(self, position: int | None = None) -> list[Round]:
        """The rounds voided (重新测评), in order; only the step's with `position`."""
        return [
            r
            for r in self.held_rounds
            if r.status == "voided" and (position is None or r.step == position)
        ]

    def reporter_status(self, reporter_id: str) -> str:
        if not self.started:
            return "pending"
        step = self.step
        if step is not None and step.kind != "vote" and step.reporter == reporter_id:
            return "current"
        done = any(
            reporter_id in s.reporters and s.kind != "vote" for s in self.steps[: self.position]
        )
        voted = any(
            reporter_id in r.reporters for r in self.rounds.values() if r.status != "voided"
        )
        return "done" if done or voted or self.finished else "pending"


def initial_state(meeting: Meeting, meeting_digest: str = "") -> MeetingState:
    return MeetingState(steps=plan(meeting), meeting_digest=meeting_digest)


# ---- decide -------------------------------------------------------------------------------


def decide(state: MeetingState, command: c.Command, now: float) -> list[e.Event]:
    if state.paused and isinstance(command, c.Start | c.Next | c.Back | c.OpenVoting):
        raise Refused("会议已暂停，请先继续")
    match command:
        case c.Start():
            if state.started:
                raise Refused("会议已经开始")
            return [e.MeetingStarted(now), e.StepEntered(0, now)]
        case c.Next():
            step = _require_running(state)
            if step.kind == "vote" and state.round_status(state.position) in ("ready", "open"):
                raise Refused("本轮投票尚未结束，请先开启并结束投票")
            if state.position == len(state.steps) - 1:
                return [e.MeetingFinished(now)]
            return [e.StepEntered(state.position + 1, now)]
        case c.Back():
            step = _require_running(state)
            if state.position == 0:
                raise Refused("已是第一项，无法后退")
            if step.kind == "vote" and state.round_status(state.position) != "ready":
                raise Refused("本轮投票已开始，无法后退")
            previous = state.steps[state.position - 1]
            if previous.kind == "vote" and state.round_status(state.position - 1) != "ready":
                raise Refused("上一轮投票已进行，无法后退")
            return [e.StepEntered(state.position - 1, now)]
        case c.OpenVoting():
            step = _require_running(state)
            if step.kind != "vote":
                raise Refused("当前环节不是投票环节")
            if state.round_status(state.position) != "ready":
                raise Refused("本轮投票已经开启过")
            return [
                e.VotingOpened(
                    state.next_round_id(state.position),
                    step.reporters,
                    now,
                    state.meeting_digest,
                    step=state.position,
                )
            ]
        case c.CloseVoting():
            held = state.open_round
            if held is None:
                raise Refused("当前没有进行中的投票")
            if not command.force and held.total == 0:
                raise TooEarly("本轮还没有人投票；如确需结束投票，请确认后再操作")
            if not command.force and now - held.opened_at < CLOSE_GUARD_SECONDS:
                raise TooEarly(
                    f"投票开启不到{CLOSE_GUARD_SECONDS:.0f}秒，可能是误点；如确需结束，请确认后再操作"
                )
            return [e.VotingClosed(held.id, now)]
        case c.RevealResults():
            held = state.current_round
            if held is None or held.status not in ("closed", "revealed"):
                raise Refused("本轮投票尚未结束，不能公布结果")
            if held.status == "revealed":
                raise Refused("结果已经公布")
            if held.id not in state.results and held.awaiting_teller:
                raise Refused("本轮选票已密封，需由监票人输入监票人密钥开启后才能计票")
            if held.id not in state.results:
                raise Refused("计票尚未完成，请稍候")
            return [e.ResultsRevealed(held.id, now)]
        case c.VoidRound(reason=reason):
            return [_void(state, reason, now)]
        case c.Pause():
            if not state.started or state.finished:
                raise Refused("会议未在进行中，无法暂停")
            if state.paused:
                raise Refused("会议已经暂停")
            return [e.MeetingPaused(now)]
        case c.Resume():
            if not state.paused:
                raise Refused("会议没有暂停")
            return [e.MeetingResumed(now)]
        case c.RecordComment():
            return [_remark(state, command, now)]
    raise Refused("未知的操作")


def _remark(state: MeetingState, command: c.RecordComment, now: float) -> e.CommentRecorded:
    current = state.step if state.started else None
    if command.step is not None:
        current = _afterwards(state, command.step)
    kind = current.remark_kind if current is not None else None
    if current is None or kind is None:
        raise Refused("当前不在点评或讲话环节")
    what = "讲话" if kind == "speech" else "点评"
    text, by = command.text, command.by
    if len(text) > c.COMMENT_MAX_CHARS:
        raise Refused(f"{what}内容过长：最多{c.COMMENT_MAX_CHARS}字")
    by = one_line(by)
    if has_unprintable(by):
        raise BadField(f"{what}人姓名含有无法显示的字符，请重新输入", "by")
    if len(by) > c.COMMENTER_MAX_CHARS:
        raise BadField(f"{what}人姓名过长：最多{c.COMMENTER_MAX_CHARS}字", "by")
    if not has_visible(by):
        if current.commenters:  # the meeting names who speaks: say which of them
            raise BadField(f"请选择{what}人（{'、'.join(current.commenters)}）", "by")
        by = ""
    return e.CommentRecorded(current.reporter or "", text, now, by=by, kind=kind)


def _afterwards(state: MeetingState, position: int) -> Step:
    """The agenda step a 点评 is pasted in for after the meeting (补录)."""
    if not state.finished:
        raise Refused("会议结束后才能补录点评；会议进行中请在当前点评环节录入")
    if state.evaluation.fixed is not None:
        raise Refused("综合评价已经党组研究确定，不能再补录点评")
    if not 0 <= position < len(state.steps):
        raise BadField(f"议程没有第{position + 1}项", "step")
    return state.steps[position]


def _void(state: MeetingState, reason: str, now: float) -> e.RoundVoided:
    _require_running(state)
    held = state.round_at(state.position)  # None on a step that holds no round
    if held is None or held.status == "open":
        raise Refused("只有已结束投票、尚未公布结果的测评才能作废重测")
    if held.status == "revealed":
        raise Refused("结果已经公布，不能作废重测")
    reason = one_line(reason)  # as the sheet and the projector print it
    if not has_visible(reason):
        raise ReasonNeeded("请写明重新测评的原因（将记录在案并印在汇总表上）")
    if has_unprintable(reason):
        raise ReasonNeeded("重新测评的原因含有无法显示的字符，请重新输入")
    if len(reason) > c.VOID_REASON_MAX_CHARS:
        raise ReasonNeeded(f"重新测评的原因过长：最多{c.VOID_REASON_MAX_CHARS}字")
    return e.RoundVoided(held.id, reason, now)


def _require_running(state: MeetingState) -> Step:
    if not state.started:
        raise Refused("会议尚未开始")
    step = state.step
    if step is None:
        raise Refused("议程已全部完成")
    return step


def allowed_actions(state: MeetingState, now: float) -> list[str]:
    """The chair actions that fit now, the natural next one first."""
    allowed = []
    for action in c.ACTION_ORDER:
        try:
            decide(state, c.SIMPLE_COMMANDS[action], now)
        except (TooEarly, ReasonNeeded):
            pass  # it fits, once the chair confirms it (`force`) or writes why (`text`)
        except Refused:
            continue
        allowed.append(action)
    return allowed


# ---- evolve -------------------------------------------------------------------------------


def fold(state: MeetingState, events: Iterable[e.Event]) -> MeetingState:
    for event in events:
        state = evolve(state, event)
    return state


def evolve(state: MeetingState, event: e.Event) -> MeetingState:
    state = _apply(event, state)
    return replace(
        state,
        version=state.version + 1,
        agenda_version=state.agenda_version + (1 if event.moves_agenda else 0),
    )


@singledispatch
def _apply(event: e.Event, state: MeetingState) -> MeetingState:
    return state  # an event this version does not know changes nothing it shows


@_apply.register
def _(event: e.TokenJoined, state: MeetingState) -> MeetingState:
    joined = dict(state.joined)
    joined[event.group] = joined.get(event.group, 0) + 1
    return replace(state, joined=joined)


@_apply.register
def _(event: e.MeetingStarted, state: MeetingState) -> MeetingState:
    return state


@_apply.register
def _(event: e.StepEntered, state: MeetingState) -> MeetingState:
    return _enter(state, event.step, event.at)


@_apply.register
def _(event: e.MeetingFinished, state: MeetingState) -> MeetingState:
    return _enter(state, len(state.steps), event.at)


def _enter(state: MeetingState, position: int, at: float) -> MeetingState:
    """Leave the current step (keeping its time) and enter `position`, whose clock goes on
    from the time it already ran: going back to a step never restarts its timer."""
    spent = dict(state.step_elapsed)
    if state.step is not None and state.step_started_at is not None:
        end = state.paused_at if state.paused_at is not None else at
        spent[state.position] = max(0.0, end - state.step_started_at - state.paused_total)
    started = at - spent.get(position, 0.0)
    return replace(
        state, position=position, step_started_at=started, paused_total=0.0, step_elapsed=spent
    )


@_apply.register
def _(event: e.CommentRecorded, state: MeetingState) -> MeetingState:
    key = (event.kind, event.reporter, event.by)
    return replace(state, remarks={**state.remarks, key: event.text})


@_apply.register
def _(event: e.VotingOpened, state: MeetingState) -> MeetingState:
    step = event.step if event.step >= 0 else event.round
    held = Round(
        event.round,
        tuple(event.reporters),
        step=step,
        seq=len(state.rounds),
        meeting_digest=event.meeting_digest,
        sealing_key=event.sealing_key,
        key_for_teller=event.key_for_teller,
        teller_key_id=event.teller_key_id,
        opened_at=event.at,
    )
    return replace(
        state,
        rounds={**state.rounds, event.round: held},
        step_rounds={**state.step_rounds, step: event.round},
    )


@_apply.register
def _(event: e.BallotCast, state: MeetingState) -> MeetingState:
    held = state.rounds.get(event.round)
    if held is None:
        return state
    cast = dict(held.cast)
    cast[event.group] = cast.get(event.group, 0) + 1
    paper = dict(held.paper)
    if event.paper:
        paper[event.group] = paper.get(event.group, 0) + 1
    counted = replace(held, cast=cast, paper=paper)
    return replace(state, rounds={**state.rounds, event.round: counted})


@_apply.register
def _(event: e.PaperReturned, state: MeetingState) -> MeetingState:
    held = state.rounds.get(event.round)
    if held is None:
        return state
    returned = {**held.returned, event.group: event.count}
    returned_by = {**held.returned_by, event.group: event.by}
    typed = replace(held, returned=returned, returned_by=returned_by)
    return replace(state, rounds={**state.rounds, event.round: typed})


@_apply.register
def _(event: e.VotingClosed, state: MeetingState) -> MeetingState:
    return _set_round_status(state, event.round, "closed")


@_apply.register
def _(event: e.RoundVoided, state: MeetingState) -> MeetingState:
    held = state.rounds.get(event.round)
    if held is None:
        return state
    voided = replace(held, status="voided", void_reason=event.reason, voided_at=event.at)
    live = {step: rid for step, rid in state.step_rounds.items() if rid != event.round}
    return replace(state, rounds={**state.rounds, event.round: voided}, step_rounds=live)


@_apply.register
def _(event: e.TellerKeyNeeded, state: MeetingState) -> MeetingState:
    held = state.rounds.get(event.round)
    if held is None:
        return state
    return replace(state, rounds={**state.rounds, event.round: replace(held, awaiting_teller=True)})


@_apply.register
def _(event: e.ResultComputed, state: MeetingState) -> MeetingState:
    digests = {**state.ballot_digests, event.round: event.ballots_digest}
    return replace(
        state, results={**state.results, event.round: event.result}, ballot_digests=digests
    )


@_apply.register
def _(event: e.ResultsRevealed, state: MeetingState) -> MeetingState:
    return _set_round_status(state, event.round, "revealed")


@_apply.register(e.EvaluationEntered)
@_apply.register(e.EvaluationFixed)
def _(event: e.Event, state: MeetingState) -> MeetingState:
    return replace(state, evaluation=evaluation.evolve(state.evaluation, event))


@_apply.register(e.ExpertScored)
@_apply.register(e.IndicatorsImported)
def _(event: e.Event, state: MeetingState) -> MeetingState:
    return replace(state, panel=evolve_panel(state.panel, event))


@_apply.register
def _(event: e.MeetingPaused, state: MeetingState) -> MeetingState:
    return replace(state, paused_at=event.at)


@_apply.register
def _(event: e.MeetingResumed, state: MeetingState) -> MeetingState:
    paused_for = event.at - state.paused_at if state.paused_at is not None else 0.0
    return replace(state, paused_at=None, paused_total=state.paused_total + paused_for)


def _set_round_status(state: MeetingState, round_id: int, status: RoundStatus) -> MeetingState:
    held = state.rounds.get(round_id)
    if held is None:
        return state
    return replace(state, rounds={**state.rounds, round_id: replace(held, status=status)})
