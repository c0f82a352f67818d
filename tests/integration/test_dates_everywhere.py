"""One date parser wherever a date is typed (issue 15), through Core.handle: the /hotro form's date step and
`/nhacnho_them` read dates as people write them (nlu/dates.py, as /thongbao does), each date read is echoed back
(with its weekday) before it is kept; "quay lại" at every step of /thongbao shows the earlier value.

The test clock is Monday 15/03/2021, 16:00 in Hanoi.
"""

from datetime import UTC, datetime

import pytest

from locales import Translator
from tests.integration.test_broadcasts import compose
from tests.integration.test_hardship import as_member, inbox

T = Translator()

#: what a member types for "when did it happen?" -> the day it means (a day without a year, a weekday alone or
#: "ngày 20" after the 20th lean to the past: the event has happened)
HAPPENED = [
    ("hôm nay", "15/03/2021", "thứ Hai"),
    ("hôm qua", "14/03/2021", "Chủ nhật"),
    ("hom qua", "14/03/2021", "Chủ nhật"),
    ("hôm kia", "13/03/2021", "thứ Bảy"),
    ("3 ngày trước", "12/03/2021", "thứ Sáu"),
    ("thứ sáu tuần trước", "12/03/2021", "thứ Sáu"),
    ("thứ 6", "12/03/2021", "thứ Sáu"),
    ("chủ nhật", "14/03/2021", "Chủ nhật"),
    ("1/3", "01/03/2021", "thứ Hai"),
    ("15-03-21", "15/03/2021", "thứ Hai"),
    ("20/12", "20/12/2020", "Chủ nhật"),
    ("ngày 10", "10/03/2021", "thứ Tư"),
    ("ngày 20", "20/02/2021", "thứ Bảy"),
    ("ngày 5 tháng 3", "05/03/2021", "thứ Sáu"),
    ("2021-03-01", "01/03/2021", "thứ Hai"),
    ("sáng hôm qua", "14/03/2021", "Chủ nhật"),
]


@pytest.mark.parametrize(("text", "shown", "weekday"), HAPPENED, ids=[h[0] for h in HAPPENED])
async def test_the_forms_date_is_read_as_people_write_it_and_echoed(app, text, shown, weekday):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    await member.says("1")
    reply = await member.says(text)
    assert "Bước 3/8" in reply
    assert T("hardship_form.date_read", date=shown, weekday=weekday) in reply, reply
    assert f"Trước đó bạn trả lời: {shown}" in await member.says("quay lại")


@pytest.mark.parametrize(("text", "key"), [("ngày mai", "hardship.error.date_future"),
                                           ("thứ hai tuần sau", "hardship.error.date_future"),
                                           ("1/1/2019", "hardship.error.date_old"),
                                           ("không nhớ rõ", "hardship.error.date"),
                                           ("31/2", "hardship.error.date")])
async def test_a_date_the_form_cannot_take_is_explained(app, text, key):
    member = await as_member(app, "NTL-0103", "m2")
    await member.says("/hotro")
    await member.says("1")
    reply = await member.says(text)
    assert T(key) in reply and "Bước 2/8" in reply


#: what a chair types after the entry id -> the day of the reminder, and the text kept
REMINDERS = [
    ("5/7/2021 Chuẩn bị kỷ niệm", "05/07/2021", "thứ Hai", "Chuẩn bị kỷ niệm"),
    ("05/07/2021", "05/07/2021", "thứ Hai", None),
    ("mai Họp BCH", "16/03/2021", "thứ Ba", "Họp BCH"),
    ("thứ hai tuần sau Họp BCH", "22/03/2021", "thứ Hai", "Họp BCH"),
    ("25/12 Tặng quà Tết", "25/12/2021", "thứ Bảy", "Tặng quà Tết"),
    ("ngày 20 Nộp báo cáo", "20/03/2021", "thứ Bảy", "Nộp báo cáo"),
    ("2 tuần nữa Họp tổ", "29/03/2021", "thứ Hai", "Họp tổ"),
]
ENTRY = "ngay-thanh-lap-cong-doan-viet-nam"


async def _reminded(app, member, day: str) -> list[str]:
    d, m, y = (int(x) for x in day.split("/"))
    await app.core.broadcasts.service.send_reminders(app.core.knowledge, datetime(y, m, d, 1, 0, tzinfo=UTC))
    return [x["text"] for x in await inbox(app, member)]


@pytest.mark.parametrize(("typed", "day", "weekday", "text"), REMINDERS, ids=[r[0] for r in REMINDERS])
async def test_a_typed_reminder_date_is_echoed_and_stored_only_when_confirmed(app, typed, day, weekday, text):
    chair = await as_member(app, "NTL-0101", "c1")
    member = await as_member(app, "NTL-0103", "m3")
    await member.says("/nhacnho")
    echo = await chair.says(f"/nhacnho_them {ENTRY} {typed}")
    kept = text or app.core.knowledge.by_id[ENTRY].name
    assert T("reminder.confirm", date=day, weekday=weekday, text=kept) in echo, echo
    assert chair.actions == ["bc:rm_ok", "bc:rm_edit", "bc:cancel"]
    assert await _reminded(app, member, day) == []  # nothing stored yet
    assert f"Đã thêm nhắc nhở ngày {day}" in await chair.presses("bc:rm_ok")
    assert any(kept in x for x in await _reminded(app, member, day))


async def test_a_reminder_date_can_be_corrected_in_words_before_it_is_stored(app):
    chair = await as_member(app, "NTL-0101", "c2", channel="zalo", buttons=False)
    member = await as_member(app, "NTL-0103", "m4")
    await member.says("/nhacnho")
    assert "16/03/2021" in await chair.says(f"/nhacnho_them {ENTRY} mai Họp BCH")
    assert T("reminder.ask_date", example="16/03/2021") in await chair.says("2")  # "Sửa ngày", by its number
    assert "17/03/2021" in await chair.says("ngày kia")
    assert T("reminder.ask_date", example="16/03/2021") in await chair.says("quay lại")  # as "Sửa ngày"
    assert "17/03/2021" in await chair.says("ngày kia")
    assert "Đã thêm nhắc nhở ngày 17/03/2021: Họp BCH" in await chair.says("đúng")
    assert await _reminded(app, member, "16/03/2021") == []
    assert any("Họp BCH" in x for x in await _reminded(app, member, "17/03/2021"))


async def test_a_members_typed_reminder_is_refused_before_any_echo(app):
    member = await as_member(app, "NTL-0103", "m6")
    assert await member.says(f"/nhacnho_them {ENTRY} 25/12 Họp") == T("authz.members_only")
    assert member.actions == []


@pytest.mark.parametrize("typed", ["", "abc", "99/99/2021"])
async def test_a_reminder_without_a_readable_date_shows_the_usage(app, typed):
    chair = await as_member(app, "NTL-0101", "c3")
    assert await chair.says(f"/nhacnho_them {ENTRY} {typed}".strip()) == T("reminder.usage")


async def test_back_at_every_step_of_an_announcement_shows_the_earlier_value(app):
    chair = await as_member(app, "NTL-0101", "c4")
    await as_member(app, "NTL-0103", "m5")
    await compose(chair, "Họp công đoàn tổ 1 cuối tuần", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")
    assert "08:00 16/03/2021" in await chair.says("mai 8h")
    back = await chair.says("quay lại")  # the time's confirmation -> "when?", with the time read before
    assert T("hardship_form.earlier", value="08:00 16/03/2021") in back and "mai 8h" in back
    back = await chair.says("quay lại")  # "when?" -> now or later, the preview again
    assert "Họp công đoàn tổ 1 cuối tuần" in back and "bc:later" in chair.actions
    back = await chair.says("quay lại")  # the preview -> the audience, with the one chosen before
    assert T("hardship_form.earlier", value="Tổ công đoàn 1") in back or "Trước đó bạn trả lời:" in back
    assert any(a.startswith("bc:unit:") for a in chair.actions)
    back = await chair.says("quay lại")  # the audience -> the text, with the text typed before
    assert T("hardship_form.earlier", value="Họp công đoàn tổ 1 cuối tuần") in back
    assert T("broadcast.ask.text") in back
    assert T("hardship.first_step") in await chair.says("quay lại")
    await chair.says("Họp công đoàn tổ 1 sáng thứ bảy")  # the text again: the form goes on
    assert any(a.startswith("bc:unit:") for a in chair.actions)


@pytest.mark.parametrize("typed", ["2", "số 2", "{name}", "{folded}", "chỉ {name}", "{code}"])
async def test_the_audience_is_chosen_by_number_label_name_or_code(app, typed):
    """On a channel with buttons the chair may type the audience too (the same words as the buttons, their number,
    the unit's name without accents, its code)."""
    from nlu.normalize import fold

    chair = await as_member(app, "NTL-0101", "c5")
    await chair.says("/thongbao")
    await chair.says("Họp công đoàn tổ 1 cuối tuần")
    second = [c for r in chair.replies for c in r.choices][1]
    code = second.action.removeprefix("bc:unit:")
    unit = next(u for u, _ in await app.core.broadcasts.service.audiences(await app.core.broadcasts.actor(
        _incoming(chair))) if u.code == code)
    preview = await chair.says(typed.format(name=unit.name, folded=fold(unit.name), code=code))
    assert unit.name in preview and ("bc:now" in chair.actions or "bc:audience" in chair.actions), preview


def _incoming(person):
    from handlers.types import Incoming

    return Incoming(channel=person.channel, chat_id=person.user, user_id=person.user, text="")
