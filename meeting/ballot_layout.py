"""What one voter group's ballot asks in a round, reporter by reporter (逐项测评 on the wire).

A meeting with `[[forms]]` (tally/forms_file.py) gives each group a form per reporter: the
grade, a checklist of items, or both. A ballot of that group carries, for each reporter of
the round, a grade where the form has one and an answer per item where it has a checklist.
`ballot_parts` lays that out once, in the round's order; `check_items` reads a client's
answers against it (a missing answer is 弃权, as a missing mark is); `answer_codes` and
`answers_from_codes` turn the answers into one byte each and back, stored after the grade
bytes of `server.stored_ballots`. A grade-only meeting has no item part: its ballots are
exactly what they were.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from meeting.errors import BadField, BadReporter
from tally.item_csv import checklist_of
from tally.model import ABSTAIN, SPOILED, Meeting

BLANK, SPOILED_CODE = 0xFE, 0xFF  # an answer's byte that is no option (as a grade's)


@dataclass(frozen=True)
class Part:
    """One reporter on one group's ballot: whether it is graded, and the items answered."""

    reporter: str
    graded: bool
    items: tuple[str, ...] = ()  # item ids in the checklist's order (): no checklist here
    options: tuple[str, ...] = ()  # the answers, best first


def ballot_parts(meeting: Meeting, group: str, reporters: tuple[str, ...]) -> tuple[Part, ...]:
    """The round's reporters as this group's form asks about them, in the round's order."""
    parts = []
    for reporter in reporters:
        form = meeting.appraisal.form_for(reporter, group)
        checklist = checklist_of(meeting, reporter) if form.has_items else None
        if checklist is None:
            parts.append(Part(reporter, form.has_grade))
            continue
        items = tuple(item.id for item in checklist.items)
        parts.append(Part(reporter, form.has_grade, items, checklist.options))
    return tuple(parts)


def asks_items(parts: tuple[Part, ...]) -> bool:
    return any(part.items for part in parts)


def item_count(parts: tuple[Part, ...]) -> int:
    return sum(len(part.items) for part in parts)


def check_items(
    items: Any, parts: tuple[Part, ...], allow_spoiled: bool
) -> dict[str, dict[str, str]]:
    """Every reporter with a checklist on this ballot, every item answered or ABSTAIN; `items`
    is the client's {reporter id: {item id: answer}} (None: the form asks for no items)."""
    asked = {part.reporter: part for part in parts if part.items}
    if items is None:
        if asked:
            raise BadField(
                "本组评议表含逐项测评：须提交 items（各项回答，未答的项视为弃权）", "items"
            )
        return {}
    if not isinstance(items, Mapping):
        raise BadField("items 应为“述职人编号 → {项目编号 → 回答}”的映射", "items")
    checked = {rid: dict.fromkeys(part.items, ABSTAIN) for rid, part in asked.items()}
    for reporter, answers in items.items():
        if reporter not in checked:
            raise BadReporter(f"述职人“{reporter}”在本组本轮的评议表上没有测评项目", "items")
        if not isinstance(answers, Mapping):
            raise BadField(f"items.{reporter} 应为“项目编号 → 回答”的映射", "items")
        part = asked[reporter]
        allowed = set(part.options) | ({SPOILED} if allow_spoiled else set())
        for item, answer in answers.items():
            if item not in checked[reporter]:
                raise BadField(f"述职人{reporter}的评议表没有项目“{item}”", "items")
            if answer is None or answer == ABSTAIN:
                continue
            if not isinstance(answer, str) or answer not in allowed:
                words = "/".join(part.options)
                raise BadField(f"{reporter}.{item}的回答“{answer}”无效：应为{words}或留空", "items")
            checked[reporter][item] = answer
    return checked


def answer_codes(answers: Mapping[str, Mapping[str, str]], parts: tuple[Part, ...]) -> bytes:
    """`check_items`' answers as one byte each, reporter by reporter in the round's order."""
    out = bytearray()
    for part in parts:
        if part.items:
            codes = _codes(part.options)
            row = answers[part.reporter]
            out += bytes(codes[row[item]] for item in part.items)
    return bytes(out)


def _codes(options: tuple[str, ...]) -> dict[str, int]:
    return {ABSTAIN: BLANK, SPOILED: SPOILED_CODE} | {o: i for i, o in enumerate(options)}


def answers_from_codes(codes: bytes, parts: tuple[Part, ...]) -> dict[str, dict[str, str]]:
    """The answers back from `answer_codes`' bytes; ValueError if they do not fit the parts."""
    if len(codes) != item_count(parts):
        raise ValueError(f"{len(codes)} item answers stored, the form asks {item_count(parts)}")
    out: dict[str, dict[str, str]] = {}
    at = 0
    for part in parts:
        if not part.items:
            continue
        answers = {}
        for item in part.items:
            answers[item] = _word(codes[at], part.options)
            at += 1
        out[part.reporter] = answers
    return out


def _word(code: int, options: tuple[str, ...]) -> str:
    if code == BLANK:
        return ABSTAIN
    if code == SPOILED_CODE:
        return SPOILED
    if code >= len(options):
        raise ValueError(f"stored answer {code}: no such option")
    return options[code]


def forms_info(meeting: Meeting) -> dict[str, Any]:
    """What a phone needs to lay out its ballot (`/api/meeting`): every form, and per group
    each reporter's form. {} for a meeting without forms."""
    appraisal = meeting.appraisal
    if not appraisal.forms:
        return {}
    by_group = {
        g.id: {r.id: appraisal.form_for(r.id, g.id) for r in meeting.reporters}
        for g in meeting.groups
    }
    used = {form.id: form for chosen in by_group.values() for form in chosen.values()}
    forms = {}
    for form in [*appraisal.forms, *used.values()]:  # a group without one: the grade form
        checklist = form.checklist
        forms[form.id] = {
            "name": form.name,
            "kind": form.kind,
            "options": list(checklist.options) if checklist else [],
            "items": [
                {"id": i.id, "text": i.text, "decisive": i.decisive}
                for i in (checklist.items if checklist else ())
            ],
        }
    ballot_forms = {g: {r: form.id for r, form in chosen.items()} for g, chosen in by_group.items()}
    return {"forms": forms, "ballot_forms": ballot_forms}


def parts_of(
    meeting: Meeting, reporters: tuple[str, ...]
) -> Callable[[str], tuple[Part, ...]] | None:
    """Each group's layout in a round of these reporters, for reading its stored ballots back
    (`server.stored_ballots.decode_ballots`); None for a meeting without forms."""
    if not meeting.appraisal.forms:
        return None
    laid: dict[str, tuple[Part, ...]] = {}

    def of(group: str) -> tuple[Part, ...]:
        if group not in laid:
            laid[group] = ballot_parts(meeting, group, reporters)
        return laid[group]

    return of
