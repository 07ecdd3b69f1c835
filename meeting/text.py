"""Free text the chair or the secretariat types (a void's reason, a 综合评价意见): what can be
recorded. It goes on the projector, the record and signed paper, so it must be readable there:
something visible, and no character that prints as nothing or as garbage."""

from __future__ import annotations

import unicodedata

# Unicode categories no page or PDF can show: control, surrogate, private use, unassigned.
_UNPRINTABLE = ("Cc", "Cs", "Co", "Cn")


def one_line(text: str) -> str:
    """The text on one line: every run of whitespace (newlines, tabs, the ideographic space)
    becomes one space, none at either end."""
    return " ".join(text.split())


def has_visible(text: str) -> bool:
    """Whether any character is a letter, a digit, punctuation or a symbol."""
    return any(unicodedata.category(ch)[0] in "LNPS" for ch in text)


def has_unprintable(text: str, keep: str = "") -> bool:
    """Whether a character would print as nothing or as garbage (`keep`: ones allowed, such as
    the newline of a multi-line text)."""
    return any(unicodedata.category(ch) in _UNPRINTABLE for ch in text if ch not in keep)
