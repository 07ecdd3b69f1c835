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
class Pause(Command):
    ACTION = "pause"


@dataclass(frozen=True)
class Resume(Command):
    ACTION = "resume"


@dataclass(frozen=True)
class RecordComment(Command):
    ACTION = "comment"
    text: str = ""


# The order in which the console offers the actions that fit: the natural next one first.
ACTION_ORDER = ("start", "open", "close", "reveal", "next", "resume", "back", "pause")
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
    )
}
COMMENT_MAX_CHARS = 2000


def command_for(action: str, text: str | None = None, force: bool = False) -> Command:
    """The command for a chair action name; KeyError when there is none."""
    if action == RecordComment.ACTION:
        return RecordComment(text or "")
    if action == CloseVoting.ACTION:
        return CloseVoting(force)
    return SIMPLE_COMMANDS[action]
