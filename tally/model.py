"""Plain data shared by the whole of Pingyi: the meeting, its rules and the ballots.

Everything here is a frozen dataclass with no behaviour beyond small lookups, so the
rules engine, the server and the printouts can all pass these around without I/O.
Numbers that take part in a comparison (weights, shares, limits, cutoffs) are kept as
`Fraction`, parsed from the decimal text the organisers wrote, so that "80 is 较好"
and "exactly 10% is not 差" hold without float surprises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # only for the annotations: these modules import this one
    from tally.composite import Composite
    from tally.experts import ExpertPanel
    from tally.indicators import Indicator
    from tally.items import ItemForm

ABSTAIN = ""  # a blank box: the voter abstained on this reporter (弃权)
SPOILED = "废"  # a spoiled mark (废票): unreadable, two boxes ticked, ...
NOT_ON_BALLOT = "-"  # CSV only: this reporter was not on this ballot (voting = "each")

DEFAULT_GRADES = ("好", "较好", "一般", "差")
DEFAULT_POINTS = (Fraction(100), Fraction(80), Fraction(60), Fraction(0))
DEFAULT_CUTOFFS = (Fraction(90), Fraction(80), Fraction(60))
# The other sources of the 综合评价 (依据述职评议和实地调研、平时了解以及年度基层党建督导调研情况)
DEFAULT_EVALUATION_SOURCES = ("实地调研", "平时了解", "督导调研")

ReportMode = Literal["onsite", "written"]
CommentMode = Literal["each", "together"]
JoinMode = Literal["cards", "open"]
VotingMode = Literal["end", "each"]

# The id of the virtual constituency of the supervising leaders (分管领导, `[supervision]`):
# their marks on the reporters they supervise are counted apart under it. A meeting that
# declares `[supervision]` may not give a real group this id (`tally.meeting_file`).
SUPERVISION_GROUP = "supervision"
DEFAULT_SUPERVISION_NAME = "分管领导"


@dataclass(frozen=True)
class Reporter:
    """One person who reports (述职): a party secretary and the organisation they lead."""

    id: str
    name: str
    org: str
    mode: ReportMode = "onsite"
    flags: tuple[str, ...] = ()
    # who comments on this report (点评, "结合工作分工"); () : the agenda's commenters
    commenters: tuple[str, ...] = ()

    @property
    def written(self) -> bool:
        return self.mode == "written"


@dataclass(frozen=True)
class Member:
    """A named voter (部分实名): one member of a named group, who votes with a personal card,
    and the reporters they supervise (分管), whose marks count in the 分管 constituency."""

    id: str
    name: str
    supervises: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """A voter group (e.g. 县级领导): how many ballots it was issued and its weight.

    A named group (`named`, 部分实名) lists its `members`; each ballot of it records who cast
    it (`Ballot.voter`), and its seats are its members."""

    id: str
    name: str
    seats: int
    weight: Fraction = Fraction(1)
    named: bool = False
    members: tuple[Member, ...] = ()


@dataclass(frozen=True)
class Supervision:
    """`[supervision]`: the supervising leaders' (分管领导) marks on the reporters they
    supervise form a constituency of their own, with this weight beside the groups'."""

    name: str
    weight: Fraction


@dataclass(frozen=True)
class Rules:
    """The organisers' rules that turn votes into the appraisal-vote grade (测评等次).

    That grade is one input of the 综合评价等次 the organisers (党组) decide later; it is
    not that grade."""

    grades: tuple[str, ...] = DEFAULT_GRADES  # best first; the last is the poor grade (差)
    points: tuple[Fraction, ...] = DEFAULT_POINTS
    base: Literal["score", "share"] = "score"
    score_cutoffs: tuple[Fraction, ...] = DEFAULT_CUTOFFS  # one fewer than grades
    share_threshold: Fraction = Fraction(3, 5)
    poor_share_limit: Fraction = Fraction(1, 10)
    poor_share_basis: Literal["valid", "cast"] = "valid"
    override_flags: tuple[str, ...] = ("重大失误", "问责")
    quorum: Fraction = Fraction(0)
    quota: tuple[tuple[str, Fraction], ...] = ()  # (grade, max share of reporters)
    # 倒排: the bottom reporters by rank, as a count or as a share of the reporters (rounded
    # up); at most one of the two is set, neither: no 倒排.
    bottom_count: int | None = None
    bottom_share: Fraction | None = None

    @property
    def poor_grade(self) -> str:
        """The grade of the poor-vote rule (差票) and the override flags: the last grade,
        which a meeting file with its own scale must name (`rules.poor_grade`)."""
        return self.grades[-1]

    def bottom_size(self, reporters: int) -> int:
        """How many reporters the 倒排 names (before ties): the count, or ⌈share × reporters⌉."""
        if self.bottom_count is not None:
            return min(self.bottom_count, reporters)
        if self.bottom_share is not None:
            return ceil(self.bottom_share * reporters)
        return 0


@dataclass(frozen=True)
class Agenda:
    """How the meeting runs beyond one report after another.

    The time budgets of the speaking steps are in minutes (None: no budget, the timer counts
    up). `commenters` comment on every report unless a reporter names their own; `comments`
    is "each" (一述一评: a 点评 after each report) or "together" (集中点评: one after the last
    report); `closing_speech` names who gives the closing 讲话 ("": no such step)."""

    report_minutes: Fraction | None = None
    comment_minutes: Fraction | None = None
    commenters: tuple[str, ...] = ()
    comments: CommentMode = "each"
    closing_speech: str = ""


@dataclass(frozen=True)
class Meeting:
    """A whole 述职评议 meeting as read from its TOML file."""

    title: str
    date: str
    reporters: tuple[Reporter, ...]
    groups: tuple[Group, ...]
    rules: Rules = field(default_factory=Rules)
    place: str = ""
    organizer: str = ""  # the issuing unit printed on the tally sheet (e.g. 中共某某县委组织部)
    join: JoinMode = "cards"
    voting: VotingMode = "end"
    agenda: Agenda = field(default_factory=Agenda)
    # what the 综合评价 records beside the vote: a grade or a note each ([evaluation] sources)
    evaluation_sources: tuple[str, ...] = DEFAULT_EVALUATION_SOURCES
    # forms, categories, the composite, experts and indicators (`tally.forms_file`); the
    # default, nothing declared, is today's meeting: one grade per reporter
    appraisal: Appraisal = field(default_factory=lambda: Appraisal())
    supervision: Supervision | None = None  # [supervision]; None: no 分管 constituency

    def commenters_of(self, reporter_id: str) -> tuple[str, ...]:
        """Who comments on this reporter's report: their own list, else the agenda's."""
        return self.reporter(reporter_id).commenters or self.agenda.commenters

    def reporter(self, reporter_id: str) -> Reporter:
        for reporter in self.reporters:
            if reporter.id == reporter_id:
                return reporter
        raise KeyError(reporter_id)

    def group(self, group_id: str) -> Group:
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    @property
    def seats(self) -> int:
        return sum(group.seats for group in self.groups)

    @property
    def measured_grades(self) -> tuple[str, ...]:
        """The scale of the 测评等次, on which the 党组 also chooses the 综合评价等次: in a 三评
        meeting the composite's (`[composite] grades`), else the rules'."""
        composite = self.appraisal.composite
        return composite.grades if composite is not None else self.rules.grades

    @property
    def named(self) -> bool:
        """Some group is named (部分实名): its ballots record their voter."""
        return any(group.named for group in self.groups)

    def member(self, member_id: str) -> Member:
        """A named group's member (member ids are unique across the meeting)."""
        for group in self.groups:
            for member in group.members:
                if member.id == member_id:
                    return member
        raise KeyError(member_id)

    def supervisors_of(self, reporter_id: str) -> frozenset[str]:
        """The ids of the members who supervise (分管) this reporter; empty without
        `[supervision]`."""
        if self.supervision is None:
            return frozenset()
        return frozenset(
            member.id
            for group in self.groups
            for member in group.members
            if reporter_id in member.supervises
        )

    @property
    def supervision_group(self) -> Group | None:
        """The 分管 constituency as a group (id SUPERVISION_GROUP, the `[supervision]` name and
        weight, a seat per supervising member), for the counts and weights that treat it like
        one; None without `[supervision]`. It is never one of `groups`: no ballot belongs to it."""
        if self.supervision is None:
            return None
        seats = sum(1 for g in self.groups for m in g.members if m.supervises)
        return Group(SUPERVISION_GROUP, self.supervision.name, seats, self.supervision.weight)


@dataclass(frozen=True)
class Ballot:
    """One ballot (述职评议表): anonymous, or of a named group and then signed by its `voter`.

    `marks` maps reporter id to a grade word, ABSTAIN ("") or SPOILED ("废"). A reporter
    missing from `marks` was not on this ballot at all (with voting = "each" every round's
    ballot lists only that round's reporters); it counts neither as cast nor as abstained
    for that reporter.

    `paper` is True for a paper ballot typed in by the tellers (through the server's `paper`
    entry, or a CSV row whose `via` cell says 纸质), False for a phone ballot or one of which
    it is not known how it came (a CSV without a `via` column, see `tally.ballot_csv`).
    """

    id: str
    group: str
    marks: dict[str, str]
    paper: bool = False
    # 逐项测评 (item forms): {reporter id: {item id: answer}}, answer an option, ABSTAIN or
    # SPOILED; a reporter missing was not on this ballot's checklist (`tally.item_csv`).
    # `marks` keeps the grade part (forms of kind "grade" and "both").
    items: dict[str, dict[str, str]] = field(default_factory=dict)
    # 部分实名: the member id of who cast a ballot of a named group; "" for an anonymous one.
    voter: str = ""

    @property
    def spoiled_as_a_whole(self) -> bool:
        """整张作废: at least one mark, and every mark 废 (a ballot not counted as 有效票)."""
        return bool(self.marks) and all(mark == SPOILED for mark in self.marks.values())


FormKind = Literal["grade", "items", "both"]


@dataclass(frozen=True)
class Form:
    """A ballot form ([[forms]]): one grade per reporter (`grade`, today's ballot), a
    checklist of items (`items`, 逐项测评) or both, whose two parts weigh `grade_weight` and
    `items_weight` (summing to 1) in the voter group's score of the reporter."""

    id: str
    name: str
    kind: FormKind = "grade"
    checklist: ItemForm | None = None  # kind "items" and "both"
    grade_weight: Fraction = Fraction(1)
    items_weight: Fraction = Fraction(0)

    @property
    def has_grade(self) -> bool:
        return self.kind in ("grade", "both")

    @property
    def has_items(self) -> bool:
        return self.kind in ("items", "both")


# The form of a group that names none: one grade per reporter, as every meeting had before.
GRADE_FORM = Form("grade", "等次测评")


@dataclass(frozen=True)
class GroupForms:
    """What one voter group fills in and weighs, per reporter category ([[groups]] `form`,
    `forms`, `weights`): a category's own entry first, then the group's `form` / `weight`."""

    group: str
    form: str = ""  # "": the built-in GRADE_FORM
    by_category: tuple[tuple[str, str], ...] = ()  # (category, form id)
    weights: tuple[tuple[str, Fraction], ...] = ()  # (category, weight)


@dataclass(frozen=True)
class Appraisal:
    """Everything beyond one grade per reporter: forms, reporter categories, the composite
    (综合得分) and its sources' settings. Nothing declared: today's meeting, unchanged."""

    forms: tuple[Form, ...] = ()
    categories: tuple[tuple[str, str], ...] = ()  # (reporter id, category), categorised only
    group_forms: tuple[GroupForms, ...] = ()
    # The composite: the meeting file's [composite], or, with forms and no [composite], one
    # source "vote" graded by the rules' scale (see `tally.forms_file`); None: neither.
    composite: Composite | None = None
    composite_declared: bool = False  # [composite] written in the meeting file
    experts: ExpertPanel | None = None  # [experts]; None: the defaults
    indicators: tuple[Indicator, ...] = ()  # [[indicators]]

    @property
    def configured(self) -> bool:
        """Anything beyond today's meeting: then `tally.appraisal` computes more."""
        return bool(self.forms) or self.composite_declared

    def category_of(self, reporter_id: str) -> str:
        return dict(self.categories).get(reporter_id, "")

    def form(self, form_id: str) -> Form:
        for form in self.forms:
            if form.id == form_id:
                return form
        raise KeyError(form_id)

    def form_for(self, reporter_id: str, group_id: str) -> Form:
        """The form `group_id` fills in for this reporter."""
        category = self.category_of(reporter_id)
        for entry in self.group_forms:
            if entry.group == group_id:
                chosen = dict(entry.by_category).get(category, entry.form)
                return self.form(chosen) if chosen else GRADE_FORM
        return GRADE_FORM

    def weight_for(self, reporter_id: str, group: Group) -> Fraction:
        """The group's weight for this reporter: its category's entry, else the group's."""
        category = self.category_of(reporter_id)
        for entry in self.group_forms:
            if entry.group == group.id:
                return dict(entry.weights).get(category, group.weight)
        return group.weight
