"""A meeting as a dict (the shape `tally.meeting_file.parse_meeting` takes) → TOML text.

The setup page (`server/setup_app.py`) builds the meeting as a dict and saves it with
`to_toml`, so that the file stays the source of truth and an expert can still edit it:
`parse_meeting_text(to_toml(d)) == parse_meeting(d)` for every dict `parse_meeting` accepts
(tests/unit/test_meeting_toml.py checks it over generated meetings).

- strings are TOML basic strings, Chinese kept as it is, quotes and control characters escaped;
- a date (`datetime.date`) is written as text, ``date = "2026-12-28"``, as the docs show it;
- a float as its shortest decimal (`repr`), which the reader takes exactly (``0.1`` is 1/10);
  a `Fraction` as its exact decimal (one that has none, such as 1/3, is refused);
- `[meeting]` first, then `[[reporters]]`, `[[groups]]`, `[supervision]`, `[rules]` and the
  rest in the order the dict gives them; a table inside a table as its own ``[rules.quota]``
  section, a table inside an array of tables inline (``forms = { "村党支部书记" = "cun" }``,
  a named group's ``members = [{ id = "wang", name = "王明", supervises = ["r1"] }]``).
"""

from __future__ import annotations

import datetime
import math
import re
from fractions import Fraction
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# [supervision] (分管) right after the groups whose members' `supervises` it weighs
_ORDER = ("meeting", "reporters", "groups", "supervision", "rules", "agenda", "evaluation")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b"}
HEADER = "# 会议文件（由评议设置页生成，也可直接编辑；各项说明见 docs/meeting-file.md）\n"


def to_toml(data: dict[str, Any], header: str = HEADER) -> str:
    """The meeting dict as TOML text (UTF-8 when encoded), ending in a newline."""
    if not isinstance(data, dict):
        raise TypeError("a meeting is a dict")
    keys = [k for k in _ORDER if k in data] + [k for k in data if k not in _ORDER]
    lines: list[str] = [header.rstrip("\n")] if header else []
    plain = [k for k in keys if not _is_table(data[k]) and not _is_table_array(data[k])]
    for key in plain:  # top-level values before the first table header
        lines.append(f"{_key(key)} = {_value(data[key])}")
    for key in keys:
        if key in plain:
            continue
        if _is_table(data[key]):
            _table(lines, [key], data[key])
        else:
            for item in data[key]:
                lines.append("")
                lines.append(f"[[{_key(key)}]]")
                for name, value in item.items():
                    lines.append(f"{_key(name)} = {_value(value)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    lines.append("")
    lines.append(f"[{'.'.join(_key(p) for p in path)}]")
    nested = []
    for name, value in table.items():
        if _is_table(value):
            nested.append(name)
        else:
            lines.append(f"{_key(name)} = {_value(value)}")
    for name in nested:
        _table(lines, [*path, name], table[name])


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a TOML key is text, not {name!r}")
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if value != value else ("inf" if value > 0 else "-inf")
        return repr(value)  # the shortest decimal that reads back as this float
    if isinstance(value, Fraction):
        return decimal_text(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime.datetime):
        raise TypeError("a meeting holds dates, not times")
    if isinstance(value, datetime.date):
        return _string(value.isoformat())
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def decimal_text(value: Fraction) -> str:
    """The exact decimal of a fraction whose denominator has no prime but 2 and 5."""
    if value.denominator == 1:
        return str(value.numerator)
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        raise ValueError(f"{value} has no exact decimal")
    places = max(twos, fives)
    scaled = abs(value) * 10**places
    digits = str(scaled.numerator).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"
