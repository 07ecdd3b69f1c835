"""The fonts of every printout: a CJK TrueType font and a Latin one, both embedded.

reportlab embeds only TrueType (glyf) outlines, so the Noto CJK collections (CFF outlines)
cannot be used, and its built-in STSong-Light is never embedded. We take the first glyf CJK
font found (WenQuanYi Zen Hei, Droid Sans Fallback, AR PL UMing) and DejaVu Sans for Latin
letters, digits and symbols such as ≥ and →. Droid Sans Fallback has no Latin glyphs at all,
so text is drawn in runs: each character in the first font that has it.
`PINGYI_CJK_FONT` may name another glyf TTF/TTC to use instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont, TTFontFile

from tally.errors import InputError

CJK_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
LATIN_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
MONO_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",)
# The Debian packages that hold the fonts above (scripts/setup installs them).
DEBIAN_PACKAGES = ("fonts-droid-fallback", "fonts-dejavu-core")

LATIN = "PingyiLatin"
CJK = "PingyiCJK"
MONO = "PingyiMono"


@dataclass(frozen=True)
class FontSet:
    latin: str
    cjk: str
    mono: str
    latin_chars: frozenset[int]
    cjk_chars: frozenset[int]

    def font_for(self, char: str, mono: bool = False) -> str:
        code = ord(char)
        if code < 0x2E80 and code in self.latin_chars:  # Latin, digits, symbols: DejaVu
            return self.mono if mono else self.latin
        if code in self.cjk_chars:
            return self.cjk
        return self.latin

    def runs(self, text: str, mono: bool = False) -> list[tuple[str, str]]:
        """Splits text into (font name, text) runs, each drawable in one font."""
        runs: list[tuple[str, str]] = []
        for char in text:
            font = self.font_for(char, mono)
            if runs and runs[-1][0] == font:
                runs[-1] = (font, runs[-1][1] + char)
            else:
                runs.append((font, char))
        return runs

    def width(self, text: str, size: float, mono: bool = False) -> float:
        return sum(pdfmetrics.stringWidth(part, font, size) for font, part in self.runs(text, mono))


@cache
def fonts() -> FontSet:
    """Registers the fonts with reportlab once and returns them."""
    override = os.environ.get("PINGYI_CJK_FONT")
    cjk_path = _first(((override,) if override else ()) + CJK_CANDIDATES, "CJK")
    latin_path = _first(LATIN_CANDIDATES, "Latin")
    mono_path = _first(MONO_CANDIDATES, "monospace")
    pdfmetrics.registerFont(TTFont(LATIN, latin_path))
    pdfmetrics.registerFont(TTFont(MONO, mono_path))
    try:
        pdfmetrics.registerFont(TTFont(CJK, cjk_path, subfontIndex=0))
    except TTFError as error:
        raise InputError(cjk_path, f"中文字体无法嵌入（需要 TrueType 轮廓字体）：{error}") from None
    return FontSet(LATIN, CJK, MONO, _chars(latin_path), _chars(cjk_path))


def _first(paths: tuple[str, ...], kind: str) -> str:
    for path in paths:
        if Path(path).is_file():
            return path
    raise InputError(
        "fonts",
        f"找不到可嵌入的{kind}字体（试过 {', '.join(paths)}）；"
        f"请运行 scripts/setup 或安装 {' '.join(DEBIAN_PACKAGES)}",
    )


def _chars(path: str) -> frozenset[int]:
    return frozenset(TTFontFile(path, subfontIndex=0).charToGlyph)
