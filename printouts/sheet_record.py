"""The complete, machine-readable result attached to the tally sheet, and how two compare.

`tally_record` is what the sheet is a picture of: the `pingyi tally --json` result, the
digests of its inputs, the rules it was tallied under, the number of ballots not spoiled as a
whole (`effective`) and the SHA-256 fingerprint of the certificate that signs it. `attach`
embeds it in the PDF as the attached file `pingyi-tally.json` (before signing, so the signature covers it);
`read_attached` reads it back. `differences` names, in Chinese, every field in which two
records differ: which reporter, which figure, the sheet's value and the recount's.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.embed import EmbeddedFileObject, FileSpec, embed_file
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from tally.model import Meeting

BEIJING = timezone(timedelta(hours=8))
ATTACHMENT = "pingyi-tally.json"
FORMAT = "pingyi-tally"
VERSION = 2


def rules_json(meeting: Meeting) -> dict:
    """The rules and groups the result was tallied under; fractions exact ("3/5")."""
    rules = meeting.rules
    return {
        "grades": list(rules.grades),
        "points": [str(p) for p in rules.points],
        "base": rules.base,
        "score_cutoffs": [str(c) for c in rules.score_cutoffs],
        "share_threshold": str(rules.share_threshold),
        "poor_share_limit": str(rules.poor_share_limit),
        "poor_share_basis": rules.poor_share_basis,
        "override_flags": list(rules.override_flags),
        "quorum": str(rules.quorum),
        "quota": [[grade, str(Fraction(share))] for grade, share in rules.quota],
        "poor_grade": rules.poor_grade,
        "bottom": _bottom_rule(meeting),
        "voting": meeting.voting,
        "groups": [
            {"id": g.id, "name": g.name, "seats": g.seats, "weight": str(g.weight)}
            for g in meeting.groups
        ],
        "reporter_flags": {r.id: list(r.flags) for r in meeting.reporters if r.flags},
    }


def _bottom_rule(meeting: Meeting) -> dict | None:
    """倒排 as the rules ask for it: {"count": 2} or {"share": "1/10"}; None: no 倒排."""
    rules = meeting.rules
    if rules.bottom_count is not None:
        return {"count": rules.bottom_count}
    if rules.bottom_share is not None:
        return {"share": str(rules.bottom_share)}
    return None


def tally_record(
    meeting: Meeting,
    result: dict,
    digests: dict[str, str],
    effective: int | None = None,
    signer_sha256: str = "",
    voided: list[dict] | None = None,
) -> dict:
    """What the sheet attaches; `effective` defaults to the ballots cast (实到). `voided`: the
    rounds voided by 重新测评 (`voided_entry`), the server's record: no ballot file re-derives
    them, so `verify` takes them from the sheet and says so."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "inputs": dict(sorted(digests.items())),
        "signer_sha256": signer_sha256,
        "rules": rules_json(meeting),
        "effective": result["quorum"]["cast"] if effective is None else effective,
        "result": result,
        "voided": voided or [],
    }


def voided_entry(
    round_id: int, reporters: list[str], cast: dict[str, int], reason: str, at: float
) -> dict[str, Any]:
    """A voided round as the sheet prints and attaches it: its ballots in all and per voter
    group (`cast`: group id -> ballots)."""
    return {
        "round": round_id,
        "reporters": reporters,
        "cast": sum(cast.values()),
        "groups": {group: n for group, n in sorted(cast.items()) if n},
        "reason": reason,
        "at": beijing_time(at),
    }


def beijing_time(at: float) -> str:
    """Server seconds as printed: Beijing time (UTC+8), so that a sheet re-rendered on a
    machine in another time zone reads the same."""
    return datetime.fromtimestamp(at, BEIJING).strftime("%Y-%m-%d %H:%M")


def attach(
    pdf: bytes,
    record: dict,
    name: str = ATTACHMENT,
    description: str = "测评结果（pingyi tally --json）、输入文件摘要与计票规则",
) -> bytes:
    """pdf with the record embedded as `name` (an incremental update)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    data = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    embedded = EmbeddedFileObject.from_file_data(writer, data, mime_type="application/json")
    spec = FileSpec(
        file_spec_string=name,
        file_name=name,
        embedded_data=embedded,
        description=description,
        af_relationship=generic.NameObject("/Data"),
    )
    embed_file(writer, spec)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read_attached(reader: PdfFileReader, name: str = ATTACHMENT) -> dict | None:
    """The attached record `name` (the last of that name), or None when the PDF has none (or
    it is not JSON)."""
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return None
    for index in reversed(range(0, len(names) - 1, 2)):  # the last one, as a reader shows
        if str(names[index]) != name:
            continue
        stream = names[index + 1].get_object()["/EF"]["/F"].get_object()
        try:
            record = json.loads(stream.data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        return record if isinstance(record, dict) else None
    return None


# What each field is called on the sheet.
_TOP = {
    "format": "格式",
    "version": "格式版本",
    "signer_sha256": "签名证书SHA-256指纹",
    "effective": "整张有效的选票",
}
_RESULT = {
    "valid": "测评有效性",
    "grades": "等次",
    "undecided": "待定（并列）",
    "poor_grade": "差票规则的等次",
    "bottom": "倒排",
    "bottom_size": "倒排人数",
}
_QUORUM = {"cast": "实到", "seats": "应到", "required": "法定比例", "met": "是否达到法定人数"}
_GROUP = {
    "cast": "实到",
    "seats": "应到",
    "name": "名称",
    "phone": "手机票",
    "paper": "纸质票",
    "spoiled": "整张废票",
}
_REPORTER = {
    "name": "姓名",
    "org": "单位",
    "mode": "述职方式",
    "cast": "投票数",
    "abstain": "弃权",
    "invalid": "废票",
    "score": "得分",
    "poor_share": "差票%",
    "base_grade": "基础等次",
    "final_grade": "测评等次",
    "rank": "名次",
    "steps": "适用规则",
    "decided_by": "决定依据",
}


def differences(sheet: dict, derived: dict, limit: int = 30) -> list[str]:
    """Every field in which the sheet's record differs from the derived one, in Chinese:
    '王建国 “好”票数：汇总表为69，重新计票为59'."""
    names = {r["id"]: r.get("name", r["id"]) for r in _reporters(derived.get("result"))}
    groups = {g["id"]: g.get("name", g["id"]) for g in _list(derived.get("rules"), "groups")}
    found: list[str] = []
    for path, ours, theirs in _walk(_keyed(sheet), _keyed(derived), ()):
        found.append(
            f"{_label(path, names, groups)}：汇总表为{_show(ours)}，重新计票为{_show(theirs)}"
        )
    if len(found) > limit:
        found = found[:limit] + [f"……另有{len(found) - limit}处不同"]
    return found


def _list(record: Any, key: str) -> list:
    value = record.get(key) if isinstance(record, dict) else None
    return (
        [v for v in value if isinstance(v, dict) and "id" in v] if isinstance(value, list) else []
    )


def _reporters(result: Any) -> list:
    return _list(result, "reporters")


def _keyed(record: dict) -> dict:
    """The record with its id-bearing lists (reporters, groups) as dicts by id, so that a
    difference is named by reporter, not by position."""
    record = json.loads(json.dumps(record))
    result = record.get("result")
    if isinstance(result, dict):
        for key in ("reporters", "groups"):
            items = result.get(key)
            if isinstance(items, list) and all(isinstance(i, dict) and "id" in i for i in items):
                result[key] = {i["id"]: i for i in items}
                result[f"{key}:order"] = [i["id"] for i in items]
        quota = result.get("quota")
        if isinstance(quota, list) and all(isinstance(q, dict) and "grade" in q for q in quota):
            result["quota"] = {q["grade"]: q for q in quota}
    rules = record.get("rules")
    groups = rules.get("groups") if isinstance(rules, dict) else None
    if (
        isinstance(rules, dict)
        and isinstance(groups, list)
        and all(isinstance(g, dict) and "id" in g for g in groups)
    ):
        rules["groups"] = {g["id"]: g for g in groups}
        rules["groups:order"] = [g["id"] for g in groups]
    return record


_MISSING = object()


def _walk(a: Any, b: Any, path: tuple):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(b) + [k for k in a if k not in b]:  # in the derived order
            yield from _walk(a.get(key, _MISSING), b.get(key, _MISSING), (*path, key))
    elif a != b or type(a) is not type(b) and not _same_number(a, b):
        yield path, a, b


def _same_number(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


def _label(path: tuple, names: dict, groups: dict) -> str:
    if not path:
        return "汇总表记录"
    head, *rest = path
    if head == "result":
        return _result_label(rest, names, groups)
    if head == "inputs":
        return f"输入文件摘要 {'.'.join(map(str, rest))}"
    if head == "rules":
        return "计票规则 " + _rules_label(rest, groups)
    return _TOP.get(head, str(head)) + "".join(f".{p}" for p in rest)


_RULES = {
    "grades": "等次",
    "points": "各等次分值",
    "base": "基础等次的依据",
    "score_cutoffs": "分数线",
    "share_threshold": "比例门槛",
    "poor_share_limit": "差票比例上限",
    "poor_share_basis": "差票%的分母",
    "override_flags": "直接定等的情形",
    "quorum": "法定比例",
    "quota": "等次名额",
    "poor_grade": "差票规则的等次",
    "bottom": "倒排规则",
    "voting": "投票方式",
    "reporter_flags": "述职人标记",
    "groups:order": "分组顺序",
}
_GROUP_RULES = {"weight": "权重", "seats": "应到", "name": "名称"}


def _rules_label(path: list, groups: dict) -> str:
    if not path:
        return ""
    head, *rest = path
    if head == "groups" and rest:
        gid, *field = rest
        what = _GROUP_RULES.get(field[0], field[0]) if field else "分组"
        return f"{groups.get(gid, gid)} {what}"
    return _RULES.get(head, str(head)) + "".join(f".{p}" for p in rest)


def _result_label(path: list, names: dict, groups: dict) -> str:
    if not path:
        return "计票结果"
    head, *rest = path
    if head == "reporters" and rest:
        rid, *field = rest
        who = f"{names.get(rid, rid)}（{rid}）"
        return f"{who} {_reporter_field(field, groups)}" if field else f"述职人 {who}"
    if head == "reporters:order":
        return "述职人顺序"
    if head == "groups" and rest:
        gid, *field = rest
        what = _GROUP.get(field[0], field[0]) if field else "分组"
        return f"{groups.get(gid, gid)} {what}"
    if head == "quorum" and rest:
        return _QUORUM.get(rest[0], f"quorum.{rest[0]}")
    if head == "quota" and rest:
        what = {"limit": "名额上限", "holders": "获得者"}.get(rest[-1], "") if len(rest) > 1 else ""
        return f"等次名额“{rest[0]}”{what}"
    return _RESULT.get(head, str(head)) + "".join(f".{p}" for p in rest)


def _reporter_field(field: list, groups: dict) -> str:
    head, *rest = field
    if head == "counts" and rest:
        return f"“{rest[0]}”票数"
    if head == "counts_by_group" and rest:
        grade = f"“{rest[1]}”票数" if len(rest) > 1 else "票数"
        return f"{groups.get(rest[0], rest[0])}{grade}"
    return _REPORTER.get(head, str(head)) + "".join(f".{p}" for p in rest)


def _show(value: Any) -> str:
    if value is _MISSING:
        return "（无此项）"
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return value or "空"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "…"
