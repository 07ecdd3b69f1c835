"""The whole appraisal of a meeting with forms: grades, item checklists, experts, indicators
and the composite (综合得分), each step explained in Chinese.

`appraise(meeting, ballots, experts, indicators)` returns the JSON form of the result. For a
meeting that declares no forms and no `[composite]` it is `engine.result_to_json(tally(…))`,
the very same dict, so that such meetings are tallied exactly as they always were.

Otherwise, for each reporter:

1. **The grade part** (forms of kind ``grade`` or ``both``, and groups without a form) is
   tallied by `tally.engine` as today: counts, score, 差票, flags, quotas, ranks, 倒排; its
   JSON keys are today's. Reporters no group grades get no grade there (a step says so).
2. **The item part** (kind ``items`` or ``both``): `tally.items.item_scores_by_group` over the
   groups that answer items on this reporter, with the weights of the reporter's category:
   each group's result and the item shares combined (JSON `items`, decisive items).
3. **Each group's score** of the reporter (JSON `by_group`): the grade part's score in that
   group brought to 0–100 (score ÷ the best points × 100), the item score in that group, or
   both weighted by the form's `grade_weight` / `items_weight` (one missing: the other alone).
4. **The vote score** (群众测评, JSON `vote_score`): the groups' scores weighted by the weights
   of the reporter's category (`weights`, else the group's `weight`), renormalised among the
   groups that gave one.
5. **Experts and indicators** (`tally.experts`, `tally.indicators`) from their tables.
6. **The composite** (`tally.composite`): the sources weighted, graded by the cutoffs; the
   grade part's 差票 and flag steps and the decisive items' majorities force their grade.
   Without `[composite]` the vote is the one source, graded by the rules' scale.
7. **The quorum** counts the ballots that carry a reporter in either part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from fractions import Fraction

from tally.composite import Composite, CompositeResult, composite
from tally.engine import ReporterResult, Step, result_to_json, round_half_up, tally
from tally.errors import InputError
from tally.experts import ExpertPanel, expert_score
from tally.indicators import indicator_score
from tally.item_csv import checklist_of, grade_columns
from tally.items import GroupedItemResult, ItemTally, item_scores_by_group
from tally.model import GRADE_FORM, SUPERVISION_GROUP, Ballot, Group, Meeting, Reporter
from tally.numbers import pct, pct_against, short
from tally.report import pad, width
from tally.scoring import renormalise, shown, steps_to_json, weighted_mean

Table = Mapping[str, Mapping[str, Fraction | None]]
HUNDRED = Fraction(100)
FORCING_RULES = ("poor_share", "override")  # the grade part's steps that force a grade


def appraise(
    meeting: Meeting,
    ballots: Iterable[Ballot],
    experts: Table | None = None,
    indicators: Table | None = None,
) -> dict:
    """The result as JSON: today's keys, and for meetings with forms or a composite, per
    reporter `category`, `by_group`, `vote_score`, `items`, `item_score`, `sources`, `weights`,
    `composite_*`, and at the top `appraisal` (the forms and the composite's sources)."""
    ballots = list(ballots)
    config = meeting.appraisal
    if not config.configured:
        if experts is not None or indicators is not None:
            raise InputError("[composite]", "会议文件未设[composite]，不能使用专家评分或项目指标")
        return result_to_json(tally(meeting, ballots))
    assert config.composite is not None  # parse_forms sets one whenever configured
    used = {s.id for s in config.composite.sources}
    for name, table, flag in (
        ("experts", experts, "--experts"),
        ("indicators", indicators, "--indicators"),
    ):
        if table is not None and name not in used:
            raise InputError(flag, f"会议文件[composite] sources中没有{name}来源，不能使用此文件")

    _refuse_marks_off_the_form(meeting, ballots)
    _refuse_more_ballots_than_seats(meeting, ballots)
    # The quorum counts ballots carrying a reporter in either part (below), not grades alone.
    everyone = replace(meeting, rules=replace(meeting.rules, quorum=Fraction(0)))
    with_grade = set(grade_columns(meeting))
    full = tally(everyone, ballots)
    result = full
    if with_grade and len(with_grade) < len(meeting.reporters):
        # Quotas, ranks and 倒排 among the reporters that have a grade part.
        kept = tuple(r for r in meeting.reporters if r.id in with_grade)
        result = tally(replace(everyone, reporters=kept), ballots)
    out = result_to_json(result)
    graded = {rr.reporter.id: rr for rr in result.reporters}
    rows_of = {row["id"]: row for row in out["reporters"]}
    full_rows = result_to_json(full)["reporters"]
    casts = _casts(meeting, ballots)

    out["reporters"] = []
    exact: dict[str, tuple[str | None, Fraction | None]] = {}
    for reporter, everyone_rr, full_row in zip(
        meeting.reporters, full.reporters, full_rows, strict=True
    ):
        rid = reporter.id
        rr = graded.get(rid, everyone_rr)
        row = rows_of.get(rid, full_row)
        if rid not in with_grade:
            _no_grade_part(out, row, casts[rid])
        else:
            _graders_only(meeting, rid, row)
        done = _appraise_one(
            meeting, reporter, rr, ballots, experts, indicators, row, rid in with_grade
        )
        exact[rid] = (done.grade, done.score)
        out["reporters"].append(row)
    _quorum(meeting, out, casts)
    _composite_ranks(config.composite, out["reporters"], exact)
    out["appraisal"] = {
        "forms": [{"id": f.id, "name": f.name, "kind": f.kind} for f in config.forms],
        "declared": config.composite_declared,
        "sources": [
            {"id": s.id, "name": s.name, "weight": _num(s.weight, 4)}
            for s in config.composite.sources
        ],
        "grades": list(config.composite.grades),
        "cutoffs": [_num(c, 4) for c in config.composite.cutoffs],
    }
    return out


def _refuse_marks_off_the_form(meeting: Meeting, ballots: list[Ballot]) -> None:
    """A grade for a reporter the ballot's group does not grade, or items it does not answer,
    cannot be counted: refused, naming the ballot (the item CSV never makes such ballots)."""
    config = meeting.appraisal
    known = {r.id for r in meeting.reporters}
    groups = {g.id for g in meeting.groups}
    for ballot in ballots:
        if ballot.group not in groups:
            continue  # the engine names it
        for rid, part in [
            *((r, "grade") for r in ballot.marks),
            *((r, "items") for r in ballot.items),
        ]:
            if rid not in known:
                raise InputError(f"选票{ballot.id}", f"述职人“{rid}”不在本次会议中")
            form = config.form_for(rid, ballot.group)
            if (form.has_grade if part == "grade" else form.has_items) is False:
                what = "等次测评" if part == "grade" else "逐项测评"
                raise InputError(
                    f"选票{ballot.id} {rid}",
                    f"分组“{meeting.group(ballot.group).name}”对该述职人不作{what}（用表“{form.name}”）",
                )


def _refuse_more_ballots_than_seats(meeting: Meeting, ballots: list[Ballot]) -> None:
    """The engine's check, for ballots carrying a reporter in either part."""
    for group in meeting.groups:
        mine = [b for b in ballots if b.group == group.id]
        for reporter in meeting.reporters:
            count = sum(1 for b in mine if reporter.id in b.marks or reporter.id in b.items)
            if count > group.seats:
                raise InputError(
                    f"分组{group.id}",
                    f"“{group.name}”：{group.seats}个席位，却有{count}张选票评议{reporter.name}；"
                    "选票多于发出的席位，不能计票",
                )


def _casts(meeting: Meeting, ballots: list[Ballot]) -> dict[str, int]:
    return {
        r.id: sum(1 for b in ballots if r.id in b.marks or r.id in b.items)
        for r in meeting.reporters
    }


def _no_grade_part(out: dict, row: dict, cast: int) -> None:
    """A reporter no group grades: no grade, no 待定 for want of grade votes."""
    why = "本会议对该述职人只作逐项测评，无等次测评"
    row["cast"] = cast
    row["steps"] = [{"rule": "base", "grade": None, "why": why}]
    row["decided_by"] = why
    out["undecided"] = [u for u in out["undecided"] if u["reporters"] != [row["id"]]]


def _graders_only(meeting: Meeting, rid: str, row: dict) -> None:
    """The engine names the groups without grade votes; of those, name only the groups whose
    form grades this reporter (the others were never asked for a grade)."""
    config = meeting.appraisal
    groups = _constituencies(meeting, row["counts_by_group"])
    missing = [g for g in groups if not sum(row["counts_by_group"][g.id].values())]
    if not missing:
        return
    old = f"（{'、'.join(g.name for g in missing)}无有效票，权重在其余组间按比例折算）"
    # the 分管 constituency gives grades only: it is asked for one whenever it exists
    kept = [
        g.name for g in missing if g.id == SUPERVISION_GROUP or config.form_for(rid, g.id).has_grade
    ]
    new = f"（{'、'.join(kept)}无有效票，权重在其余组间按比例折算）" if kept else ""
    for step in row["steps"]:
        step["why"] = step["why"].replace(old, new)
    row["decided_by"] = row["decided_by"].replace(old, new)


def _constituencies(meeting: Meeting, counts_by_group: Mapping[str, object]) -> list[Group]:
    """The groups, and the 分管 constituency for a reporter that has one (the engine's order)."""
    extra = meeting.supervision_group if SUPERVISION_GROUP in counts_by_group else None
    return list(meeting.groups) if extra is None else [*meeting.groups, extra]


def _quorum(meeting: Meeting, out: dict, casts: dict[str, int]) -> None:
    required = meeting.rules.quorum
    seats = meeting.seats
    cast_min = min(casts.values())
    met = Fraction(cast_min, seats) >= required
    out["valid"] = met
    out["quorum"] = {"cast": cast_min, "seats": seats, "required": float(required), "met": met}
    if met:
        return
    why = (
        f"实到{cast_min}/应到{seats}={pct_against(Fraction(cast_min, seats), required)}"
        f" < {pct(required)} → 测评无效"
    )
    for row in out["reporters"]:
        row["steps"].append({"rule": "quorum", "grade": row["final_grade"], "why": why})
        row["composite_steps"].append(
            {"rule": "quorum", "grade": row["composite_grade"], "why": why}
        )


def _appraise_one(
    meeting: Meeting,
    reporter: Reporter,
    rr: ReporterResult,
    ballots: list[Ballot],
    experts: Table | None,
    indicators: Table | None,
    row: dict,
    has_grade: bool,
) -> CompositeResult:
    config = meeting.appraisal
    assert config.composite is not None
    rid = reporter.id
    # 分管: the supervisors' grades are a constituency of their own (the engine's), with the
    # [supervision] weight beside the category's group weights
    constituencies = _constituencies(meeting, rr.score_by_group)
    weights = {g.id: config.weight_for(rid, g) for g in constituencies}
    forms = {
        g.id: GRADE_FORM if g.id == SUPERVISION_GROUP else config.form_for(rid, g.id)
        for g in constituencies
    }
    checklist = checklist_of(meeting, rid)
    grouped: GroupedItemResult | None = None
    if checklist is not None:
        item_groups = [
            replace(g, weight=weights[g.id]) for g in meeting.groups if forms[g.id].has_items
        ]
        answers = {
            g.id: [b.items[rid] for b in ballots if b.group == g.id and rid in b.items]
            for g in item_groups
        }
        grouped = item_scores_by_group(checklist, answers, item_groups, rid)

    top = max(meeting.rules.points)
    by_group: dict[str, dict] = {}
    group_scores: dict[str, Fraction] = {}
    for group in constituencies:
        form = forms[group.id]
        grade_score = item_score = None
        if form.has_grade:
            raw = rr.score_by_group.get(group.id)
            if raw is not None and top > 0:
                grade_score = raw * HUNDRED / top
        if form.has_items and grouped is not None:
            item_score = grouped.by_group[group.id].score
        score, why = _group_score(
            form.kind, form.grade_weight, form.items_weight, grade_score, item_score
        )
        if score is not None:
            group_scores[group.id] = score
        entry: dict[str, object] = {
            "name": group.name,
            "form": form.id,
            "kind": form.kind,
            "weight": _num(weights[group.id], 4),
            "grade_score": _num(grade_score),
            "item_score": _num(item_score),
            "score": _num(score),
            "why": why,
        }
        if form.has_items and grouped is not None:
            entry["positive_shares"] = {
                t.item.id: _num(t.positive_share, 4) for t in grouped.by_group[group.id].items
            }
        by_group[group.id] = entry

    vote_steps = []
    vote = None
    names = {g.id: g.name for g in constituencies}
    used = renormalise(weights, group_scores)
    if used:
        vote = weighted_mean(group_scores, used)
        terms = " + ".join(f"{names[g]} {short(used[g])}×{shown(group_scores[g])}" for g in used)
        why = f"群众测评 = {terms} = {shown(vote)}"
        silent = [names[g] for g in weights if g not in used]
        if silent:
            why += f"（{'、'.join(silent)}无有效票或作答，权重在其余组间按比例折算）"
        vote_steps.append(Step("vote", None, why))
    else:
        vote_steps.append(Step("vote", None, "各组均无有效票或作答，群众测评缺失"))

    scores: dict[str, Fraction | None] = {}
    source_steps: dict[str, list[dict]] = {}
    sources = {s.id for s in config.composite.sources}
    if "vote" in sources:
        scores["vote"] = vote
        source_steps["vote"] = steps_to_json(vote_steps)
    if "experts" in sources:
        scores["experts"], source_steps["experts"] = _experts(config.experts, experts, rid)
    if "indicators" in sources:
        scores["indicators"], source_steps["indicators"] = _indicators(meeting, indicators, rid)

    forced: list[Step] = []
    if has_grade and "vote" in sources:  # the ballots' own rules, when the ballots count
        forced += [s for s in rr.steps if s.rule in FORCING_RULES]
    if grouped is not None and "vote" in sources:
        forced += list(grouped.combined.decisive)
    done = composite(scores, config.composite, forced, rid)

    row["category"] = config.category_of(rid)
    row["by_group"] = by_group
    row["vote_score"] = _num(vote)
    row["item_score"] = None if grouped is None else _num(grouped.combined.score)
    row["items"] = None if grouped is None else [_item_json(t) for t in grouped.combined.items]
    row["item_steps"] = [] if grouped is None else steps_to_json(grouped.combined.steps)
    row["sources"] = {sid: _num(value) for sid, value in done.scores.items()}
    row["source_steps"] = source_steps
    row["weights"] = {sid: _num(w, 4) for sid, w in done.weights.items()}
    row["composite_score"] = _num(done.score)
    row["composite_base_grade"] = done.base_grade
    row["composite_grade"] = done.grade
    row["composite_rank"] = None
    row["composite_steps"] = steps_to_json(done.steps)
    row["composite_decided_by"] = _decided_by(done)
    return done


def _group_score(
    kind: str,
    grade_weight: Fraction,
    items_weight: Fraction,
    grade: Fraction | None,
    items: Fraction | None,
) -> tuple[Fraction | None, str]:
    if kind == "grade":
        return grade, "无有效等次票" if grade is None else f"等次测评得分 {shown(grade)}"
    if kind == "items":
        return items, "无逐项作答" if items is None else f"逐项测评得分 {shown(items)}"
    if grade is not None and items is not None:
        score = grade_weight * grade + items_weight * items
        why = (
            f"等次 {short(grade_weight)}×{shown(grade)} + 逐项 {short(items_weight)}×{shown(items)}"
            f" = {shown(score)}"
        )
        return score, why
    if grade is not None:
        return grade, f"仅等次测评得分 {shown(grade)}（无逐项作答）"
    if items is not None:
        return items, f"仅逐项测评得分 {shown(items)}（无有效等次票）"
    return None, "无有效等次票，也无逐项作答"


def _experts(
    panel: ExpertPanel | None, table: Table | None, rid: str
) -> tuple[Fraction | None, list[dict]]:
    if table is None:
        return None, [
            {"rule": "experts", "grade": None, "why": "未提供专家评分（--experts），专家点评缺失"}
        ]
    row = table.get(rid)
    if row is None:
        return None, [
            {"rule": "experts", "grade": None, "why": "专家评分表中没有该述职人，专家点评缺失"}
        ]
    result = expert_score(row, panel or ExpertPanel(), rid)
    return result.score, steps_to_json(result.steps)


def _indicators(
    meeting: Meeting, table: Table | None, rid: str
) -> tuple[Fraction | None, list[dict]]:
    if table is None:
        return None, [
            {
                "rule": "indicators",
                "grade": None,
                "why": "未提供项目指标（--indicators），项目指标缺失",
            }
        ]
    row = table.get(rid)
    if row is None:
        return None, [
            {"rule": "indicators", "grade": None, "why": "项目指标表中没有该述职人，项目指标缺失"}
        ]
    result = indicator_score(meeting.appraisal.indicators, row, rid)
    return result.score, steps_to_json(result.steps)


def _decided_by(done: CompositeResult) -> str:
    deciding = [s for s in done.steps if s.grade is not None]
    return deciding[-1].why if deciding else (done.steps[-1].why if done.steps else "")


def _composite_ranks(
    config: Composite, rows: list[dict], exact: dict[str, tuple[str | None, Fraction | None]]
) -> None:
    """综合名次: the composite grade first (better first), then the exact composite score;
    equal keys share a rank (1, 1, 3); no composite grade, no rank."""
    grades = config.grades
    keyed = []
    for row in rows:
        grade, score = exact[row["id"]]
        if grade is not None and score is not None:
            keyed.append(((-grades.index(grade), score), row))
    keyed.sort(key=lambda pair: pair[0], reverse=True)
    for i, (key, row) in enumerate(keyed):
        same = i > 0 and keyed[i - 1][0] == key
        row["composite_rank"] = keyed[i - 1][1]["composite_rank"] if same else i + 1


def _item_json(t: ItemTally) -> dict:
    return {
        "id": t.item.id,
        "text": t.item.text,
        "decisive": t.item.decisive,
        "counts": dict(t.counts),
        "blank": t.blank,
        "spoiled": t.spoiled,
        "answered": t.answered,
        "positive_share": _num(t.positive_share, 4),
        "negative_share": _num(t.negative_share, 4),
        "score": _num(t.score),
        "negative_majority": t.negative_majority,
    }


def _num(value: Fraction | None, places: int = 2) -> float | None:
    return None if value is None else float(round_half_up(value, places))


# -- the printed table ---------------------------------------------------------------------------


def format_appraisal(result: dict) -> str:
    """The per-constituency and combined table `pingyi tally` prints for a meeting with forms
    or a composite (below today's table of the grade part)."""
    info = result["appraisal"]
    groups = result["groups"]
    sources = info["sources"]
    head = [
        "综合名次",
        "述职人",
        "类别",
        *(g["name"] for g in groups),
        *(s["name"] for s in sources),
        "综合得分",
        "综合得分等次",
        "依据",
    ]
    rows = []
    for r in result["reporters"]:
        rows.append(
            [
                "" if r["composite_rank"] is None else str(r["composite_rank"]),
                r["name"],
                r["category"],
                *(_cell(r["by_group"][g["id"]]["score"]) for g in groups),
                *(_cell(r["sources"].get(s["id"])) for s in sources),
                _cell(r["composite_score"]),
                r["composite_grade"] or "待定",
                r["composite_decided_by"],
            ]
        )
    numeric = {0, *range(3, 3 + len(groups) + len(sources) + 1)}
    sizes = [max(width(row[i]) for row in [head, *rows]) for i in range(len(head))]
    last = len(head) - 1

    def line(cells: list[str]) -> str:
        out = [
            cell if i == last else pad(cell, sizes[i], right=i in numeric)
            for i, cell in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    weights = "、".join(f"{s['name']}{s['weight'] * 100:g}%" for s in sources)
    lines = [
        f"综合得分（{weights}；各组得分为百分制）",
        line(head),
        line(["-" * size for size in sizes[:last]] + ["-" * width(head[last])]),
        *(line(row) for row in rows),
    ]
    for r in result["reporters"]:
        decisive = [s["why"] for s in r["item_steps"] if s["rule"] == "decisive"]
        for why in decisive:
            lines.append(f"{r['name']}：{why}")
    return "\n".join(lines) + "\n"


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
