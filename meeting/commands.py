"""Commands: what the chair asks for. `meeting.agenda.decide` turns one into events or refuses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    ACTION = ""


@dataclass(frozen=True)
class Start(Command):
    ACTION = "start"


@dataclass(frozen=True)
class Next(Command):
    ACTION = "next"


@dataclass(frozen=True)
class Back(Command):
    ACTION = "back"


@dataclass(frozen=True)
class OpenVoting(Command):
    ACTION = "open"


@dataclass(frozen=True)
class CloseVoting(Command):
    ACTION = "close"
    force: bool = False  # the chair confirmed closing early or with no ballot (`too_early`)


@dataclass(frozen=True)
class RevealResults(Command):
    ACTION = "reveal"


@dataclass(frozen=True)
class VoidRound(Command):
    """重新测评: the current step's round, closed and not yet revealed, is voided (its ballots
    kept, never counted) and the step can open a new round for the same reporters."""

    ACTION = "void"
    reason: str = ""


@dataclass(frozen=True)
class Pause(Command):
    ACTION = "pause"


@dataclass(frozen=True)
class Resume(Command):
    ACTION = "resume"


@dataclass(frozen=True)
class RecordComment(Command):
    """A 点评 (or, on the closing step, the 讲话) saved as typed: `by` names who gives it, one
    of the step's commenters or another name ("" only where the meeting names nobody). On the
    current step; or, once the meeting is over, on the agenda step `step` (补录: pasted in
    afterwards, until the 综合评价 is fixed)."""

    ACTION = "comment"
    text: str = ""
    by: str = ""
    step: int | None = None


# The order in which the console offers the actions that fit: the natural next one first.
ACTION_ORDER = ("start", "open", "close", "reveal", "next", "resume", "back", "pause", "void")
SIMPLE_COMMANDS: dict[str, Command] = {
    cmd.ACTION: cmd
    for cmd in (
        Start(),
        Next(),
        Back(),
        OpenVoting(),
        CloseVoting(),
        RevealResults(),
        Pause(),
        Resume(),
        VoidRound(),
    )
}
COMMENT_MAX_CHARS = 2000
COMMENTER_MAX_CHARS = 40  # a name with its post, as the meeting file allows
VOID_REASON_MAX_CHARS = 200


def command_for(
    action: str,
    text: str | None = None,
    force: bool = False,
    by: str = "",
    step: int | None = None,
) -> Command:
    """The command for a chair action name; KeyError when there is none."""
    if action == RecordComment.ACTION:
        return RecordComment(text or "", by, step)
    if action == CloseVoting.ACTION:
        return CloseVoting(force)
    if action == VoidRound.ACTION:
        return VoidRound(text or "")
    return SIMPLE_COMMANDS[action]
