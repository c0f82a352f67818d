"""Replies for a phone (issue 15), through Core.handle: a support programme's answer says what it is and the answer
in its first line; the URGENT notice to the chair, the kind start of the form and the form's summary before sending
fit in six lines, and the whole request stays one tap away ("Xem" for the chair, "quay lại" for the member)."""

from __future__ import annotations

import pytest

from handlers.pages import MAX_LINES
from tests.integration.test_hardship import as_member, inbox


async def test_a_programme_answer_gives_the_answer_in_its_first_line(app, member):
    entries = app.core.knowledge.of_kind("programme", "loan")
    assert len(entries) > 10
    for entry in entries:
        await member.presses(f"kb:{entry.id}")
        first = member.replies[0].text.splitlines()[0]
        assert entry.name in first and entry.summary.split(",")[0] in first, first  # what it is, what it gives
        assert first.count(entry.name) == 1, first  # a summary that opens with the name is not prefixed by it


STEPS = ["hôm qua", "Bố em mất đột ngột, gia đình rất khó khăn,\nmẹ em đang ốm nằm viện", "2 triệu", "xong",
         "đúng", "đồng ý"]


async def _to_summary(member, first: str = "6") -> str:
    await member.says("/hotro")
    await member.says(first)
    for answer in STEPS:
        await member.says(answer)
    return member.text


async def test_the_forms_summary_before_sending_fits_a_phone_and_shows_every_answer(app):
    member = await as_member(app, "NTL-0104", "m1")
    summary = await _to_summary(member)
    assert "Bước 8/8" in summary and len(summary.splitlines()) <= MAX_LINES, summary
    for shown in ("Gia đình có người mất", "14/03/2021", "Bố em mất đột ngột", "2.000.000 đ", "0"):
        assert shown in summary


async def test_the_urgent_notice_to_the_chair_fits_a_phone_and_the_view_shows_the_rest(app):
    member = await as_member(app, "NTL-0104", "m2")
    chair = await as_member(app, "NTL-0101", "c2")
    await _to_summary(member)
    assert "KHẨN" in await member.says("gửi")
    notice = (await inbox(app, chair))[0]
    assert notice["text"].startswith("KHẨN") and len(notice["text"].splitlines()) <= MAX_LINES, notice["text"]
    for shown in ("Gia đình có người mất", "14/03/2021", "Bố em mất đột ngột", "2.000.000 đ"):
        assert shown in notice["text"]
    view = next(action for _, action in notice["choices"] if action.startswith("req:view:"))
    whole = await chair.presses(view)
    assert "mẹ em đang ốm nằm viện" in whole


@pytest.mark.parametrize("said", ["ad ơi bố em mới mất, em muốn xin hỗ trợ",
                                  "em bị tai nạn lao động, muốn xin hỗ trợ công đoàn",
                                  "nhà em bị cháy, em muốn xin hỗ trợ"])
async def test_the_kind_start_of_the_form_fits_a_phone(app, said):
    member = await as_member(app, "NTL-0103", "m3")
    start = await member.says(said)
    assert "Bước 2/8" in start and "Mình" in start.splitlines()[0]
    assert all(len(r.text.splitlines()) <= MAX_LINES for r in member.replies), start
