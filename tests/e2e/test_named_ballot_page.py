"""部分实名 on the phone, in a real Chromium: a 党组 member's card opens a ballot that says, above
everything else, that this group votes by name and whose name it records; a card of an
anonymous group says nothing of the kind. Both pages pass axe and fit 320 px."""

from __future__ import annotations

import pytest

from testkit.meetings import NAMED_MEETING

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}


def test_a_named_member_is_told_their_ballot_carries_their_name(
    serve, browser, axe_clean, no_overflow, doc_shot
) -> None:
    live = serve(NAMED_MEETING)
    assert "error" not in live.chair("start")
    named = next(c for c in live.cards if c.member == "wang")
    anonymous = next(c for c in live.cards if not c.member)
    context = browser.new_context(**PHONE, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{live.url}/j/{named.token}")
        notice = page.locator("#named")
        expect(notice).to_be_visible()
        expect(notice).to_have_text("本组为实名测评：您的选票将记录您的姓名（王明）")
        expect(page.locator("#group")).to_have_text("党组成员")
        axe_clean(page, "a named member's ballot")
        no_overflow(page, "header.top")  # the line it adds fits at 320 px
        doc_shot(page, "phone-named")

        other = context.new_page()
        other.goto(f"{live.url}/j/{anonymous.token}")
        expect(other.locator("#group")).to_have_text("基层代表")
        expect(other.locator("#named")).to_be_hidden()
    finally:
        context.close()
