"""Announcements and reminders that feel finished (issue 15), through Core.handle: the time read is echoed back
before anything is stored; no promise to an audience of nobody; reports that tell a scheduled announcement
from a sent one; an unknown id is an error with the chair's latest announcements; /nhacnho_them offers the
dates; one date format; no ".." at the end of any message.

The test clock is Monday 15/03/2021, 16:00 in Hanoi.
"""

import re
import string
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from locales import Translator
from storage.outbox import OutboxRepository
from tests.integration.test_broadcasts import compose, settle
from tests.integration.test_hardship import as_member, inbox

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def app(app_on_both):
    """The whole app on SQLite and on PostgreSQL (tests/integration/conftest.py)."""
    return app_on_both


async def next_due(app):
    return await OutboxRepository(app.db).next_due("default", "test")


#: what a chair types for "when?" -> the local time it means (Monday 15/03/2021, 16:00) and its weekday
SCHEDULES = [
    ("mai 8h", (2021, 3, 16, 8, 0), "thứ Ba"),
    ("ngày kia 8h", (2021, 3, 17, 8, 0), "thứ Tư"),
    ("ngay mot 8h", (2021, 3, 17, 8, 0), "thứ Tư"),
    ("8h sáng thứ hai tuần sau", (2021, 3, 22, 8, 0), "thứ Hai"),
    ("20h", (2021, 3, 15, 20, 0), "thứ Hai"),
    ("8h tối nay", (2021, 3, 15, 20, 0), "thứ Hai"),
    ("25/12 8h", (2021, 12, 25, 8, 0), "thứ Bảy"),
    ("chiều mai 3h", (2021, 3, 16, 15, 0), "thứ Ba"),
    ("thứ 6 14h30", (2021, 3, 19, 14, 30), "thứ Sáu"),
    ("9h kém 15 sáng mai", (2021, 3, 16, 8, 45), "thứ Ba"),
    ("08:00 01/04/2021", (2021, 4, 1, 8, 0), "thứ Năm"),
]


@pytest.mark.parametrize(("text", "local", "weekday"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
async def test_the_time_read_is_echoed_and_stored_only_when_confirmed(app, text, local, weekday):
    chair = await as_member(app, "NTL-0101", "c1")
    member = await as_member(app, "NTL-0103", "m1")
    await compose(chair, "Họp công đoàn tổ 1 cuối tuần", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")
    expected = datetime(*local, tzinfo=HANOI)
    echo = await chair.says(text)
    assert f"{expected:%H:%M %d/%m/%Y}" in echo and f"({weekday})" in echo, echo
    assert chair.actions == ["bc:when_ok", "bc:when_edit", "bc:cancel"]
    assert "Đúng, hẹn giờ" in [c.label for r in chair.replies for c in r.choices]
    assert await next_due(app) is None and await inbox(app, member) == []  # nothing stored yet
    done = await chair.presses("bc:when_ok")
    assert "Đã hẹn gửi thông báo #1" in done and f"lúc {expected:%H:%M %d/%m/%Y}" in done
    assert await next_due(app) == expected.astimezone(UTC)


async def test_on_zalo_the_confirmation_is_numbered(app):
    chair = await as_member(app, "NTL-0101", "z1", channel="zalo", buttons=False)
    await as_member(app, "NTL-0103", "m2")
    await compose(chair, "Họp công đoàn tổ 1 cuối tuần", "bc:unit:NTL-FECON-T1")
    await chair.says("2")  # "Hẹn giờ", by its number
    assert "08:00 16/03/2021" in await chair.says("mai 8h")
    assert "Đã hẹn gửi thông báo #1" in await chair.says("1")  # "Đúng, hẹn giờ"
    assert await next_due(app) == datetime(2021, 3, 16, 1, 0, tzinfo=UTC)


async def test_the_time_can_be_corrected_before_it_is_stored(app):
    chair = await as_member(app, "NTL-0101", "c3")
    await as_member(app, "NTL-0103", "m3")
    await compose(chair, "Họp công đoàn tổ 1 cuối tuần", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")
    assert "08:00 16/03/2021" in await chair.says("mai 8h")
    assert "mai 8h" in await chair.presses("bc:when_edit")  # asked again, with examples
    assert "20:00 16/03/2021" in await chair.says("8h tối mai")
    assert "09:30 17/03/2021" in await chair.says("ngày kia 9h30")  # another time typed instead of "đúng"
    assert "mai 8h" in await chair.says("Sửa giờ")  # the buttons' words, typed
    assert "09:30 17/03/2021" in await chair.says("ngày kia 9h30")
    assert "Đã hẹn gửi" in await chair.says("Đúng, hẹn giờ.")
    assert await next_due(app) == datetime(2021, 3, 17, 2, 30, tzinfo=UTC)


#: a time that cannot be scheduled -> the locale key, and what the reply must also show
REFUSED_TIMES = [
    ("chiều nay 3h", "broadcast.error.when_past", "15:00 15/03/2021"),
    ("08:00 1/1/2020", "broadcast.error.when_past", "08:00 01/01/2020"),
    ("hôm qua 8h", "broadcast.error.when_past", "08:00 14/03/2021"),
    ("lúc nào cũng được", "broadcast.error.when", "mai 8h"),
    ("tuần sau", "broadcast.error.when", "mai 8h"),
    ("99:99 1/1/2022", "broadcast.error.when", "08:00 16/03/2021"),
    ("08:00 25/12/2030", "broadcast.error.when_far", "08:00 25/12/2030"),
]


@pytest.mark.parametrize(("text", "key", "shown"), REFUSED_TIMES, ids=[r[0] for r in REFUSED_TIMES])
async def test_a_time_past_or_unreadable_is_a_clear_prompt_with_an_example(app, text, key, shown):
    chair = await as_member(app, "NTL-0101", "c4")
    await as_member(app, "NTL-0103", "m4")
    await compose(chair, "Họp công đoàn tổ 1 cuối tuần", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")
    reply = await chair.says(text)
    fixed = max(re.split(r"\{\w+\}", app.translator(key)), key=len)
    assert fixed in reply and shown in reply and "ví dụ" in reply, reply
    assert await next_due(app) is None
    assert "08:00 16/03/2021" in await chair.says("mai 8h")  # still asking: a good time goes on


async def test_an_audience_of_nobody_is_said_plainly_and_nothing_is_promised(app):
    chair = await as_member(app, "NTL-0101", "c5")  # nobody of NTL-FECON-T2 has linked a chat account
    preview = await compose(chair, "Thông báo cho tổ văn phòng", "bc:unit:NTL-FECON-T2")
    assert "⚠️" in preview and "0 người nhận" in preview and "(0)" not in preview
    assert chair.actions == ["bc:audience", "bc:cancel"]  # no "Gửi ngay", no "Hẹn giờ"
    for attempt in (("press", "bc:now"), ("say", "gửi ngay"), ("press", "bc:later")):
        reply = await (chair.presses(attempt[1]) if attempt[0] == "press" else chair.says(attempt[1]))
        assert "0 người nhận" in reply and "chưa gửi" in reply and "tiến độ" not in reply, reply
    assert await next_due(app) is None and await inbox(app, chair) == []
    await chair.presses("bc:audience")
    assert "bc:unit:NTL-FECON" in chair.actions  # another audience, the text kept
    assert "1 người nhận" in await chair.presses("bc:unit:NTL-FECON")  # the chair's own account
    assert "Đã xếp lịch gửi thông báo #1 tới 1" in await chair.presses("bc:now")
    assert "Thông báo cho tổ văn phòng" in (await inbox(app, chair))[0]["text"]


async def test_on_zalo_an_empty_audience_offers_numbers(app):
    chair = await as_member(app, "NTL-0101", "z6", channel="zalo", buttons=False)
    await chair.says("/thongbao")
    await chair.says("Thông báo cho tổ văn phòng")
    await chair.says("3")  # the third audience: NTL-FECON-T2
    assert "0 người nhận" in chair.text and chair.actions == ["bc:audience", "bc:cancel"]
    await chair.says("1")
    assert "bc:unit:NTL-FECON" in chair.actions


async def test_the_report_tells_scheduled_sending_sent_and_stopped_apart(app, clock):
    chair = await as_member(app, "NTL-0101", "c7")
    await as_member(app, "NTL-0103", "m7")
    await compose(chair, "Thông báo hẹn giờ cho tổ 1", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")
    await chair.says("mai 8h")
    await chair.presses("bc:when_ok")
    scheduled = await chair.says("/thongbao_ketqua 1")
    assert "hẹn giờ" in scheduled and "chưa gửi" in scheduled and "08:00 16/03/2021" in scheduled
    assert "đã gửi 0" not in scheduled
    await compose(chair, "Thông báo gửi ngay cho tổ 1", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:now")
    sending = await chair.says("/thongbao_ketqua 2")
    assert "đang gửi" in sending and "đang chờ 1" in sending and "hẹn giờ" not in sending
    await settle(app, "test", sent=1)
    sent = await chair.says("/thongbao_ketqua 2")
    assert "Kết quả thông báo #2: đã gửi 1" in sent and "hẹn giờ" not in sent
    await chair.says("/thongbao_huy 1")
    stopped = await chair.says("/thongbao_ketqua 1")
    assert "đã dừng" in stopped and "đã hủy 1" in stopped and "hẹn giờ" not in stopped
    clock.now = datetime(2021, 3, 16, 2, 0, tzinfo=UTC)  # its time has come: due, no longer "scheduled"
    await compose(chair, "Thông báo hẹn giờ thứ hai", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")
    await chair.says("10h")
    await chair.presses("bc:when_ok")
    clock.now = datetime(2021, 3, 16, 4, 0, tzinfo=UTC)
    assert "đang gửi" in await chair.says("/thongbao_ketqua 3")


@pytest.mark.parametrize("command", ["/thongbao_ketqua", "/thongbao_huy"])
@pytest.mark.parametrize("given", ["abc", "99", "#99", "²"])
async def test_an_unknown_id_lists_the_chairs_announcements_and_acts_on_none(app, command, given):
    chair = await as_member(app, "NTL-0101", "c8")
    await as_member(app, "NTL-0103", "m8")
    assert "chưa gửi thông báo nào" in await chair.says(f"{command} {given}")
    for text in ("Thông báo thứ nhất cho tổ 1", "Thông báo thứ hai cho tổ 1"):
        await compose(chair, text, "bc:unit:NTL-FECON-T1")
        await chair.presses("bc:later")
        await chair.says("mai 8h")
        await chair.presses("bc:when_ok")
    reply = await chair.says(f"{command} {given}")
    assert "Không tìm thấy thông báo" in reply and given in reply
    assert "#2 · 08:00 16/03/2021 · đã hẹn giờ · “Thông báo thứ hai cho tổ 1”" in reply
    assert "#1 ·" in reply and f"ví dụ {command} 2" in reply
    assert "Kết quả" not in reply and "Đã dừng" not in reply  # nothing shown or done silently
    assert "hẹn giờ, chưa gửi" in await chair.says("/thongbao_ketqua #2")  # "#2" is announcement 2
    assert "đang chờ" not in await chair.says("/thongbao_ketqua 2")


async def test_the_report_without_any_announcement_says_so(app):
    chair = await as_member(app, "NTL-0101", "c9")
    for command in ("/thongbao_ketqua", "/thongbao_huy"):
        assert "chưa gửi thông báo nào" in await chair.says(command)


@pytest.mark.parametrize("channel", ["test", "zalo"])
async def test_add_reminder_alone_offers_the_coming_dates(app, clock, channel):
    buttons = channel == "test"
    chair = await as_member(app, "NTL-0101", "c10", channel=channel, buttons=buttons)
    member = await as_member(app, "NTL-0103", "m10")
    await member.says("/nhacnho")
    offer = await chair.says("/nhacnho_them")
    assert chair.actions and all(a.startswith("bc:rm:") for a in chair.actions)
    labels = [c.label for r in chair.replies for c in r.choices]
    assert any(label.startswith("30/06/2021: đợt 1 kết thúc") for label in labels), labels  # phase 1 ends 30/06/2021
    assert "Nhắc đoàn viên ngày nào" in offer
    index = next(i for i, label in enumerate(labels) if label.startswith("30/06/2021: đợt 1 kết thúc"))
    reply = await (chair.presses(chair.actions[index]) if buttons else chair.says(str(index + 1)))
    assert "Đã thêm nhắc nhở ngày 30/06/2021" in reply, reply
    clock.now = datetime(2021, 6, 30, 1, 0, tzinfo=UTC)
    await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now)
    assert any("30/06/2021" in m["text"] for m in await inbox(app, member))


async def test_a_members_add_reminder_alone_is_refused(app):
    member = await as_member(app, "NTL-0103", "m11")
    assert await member.says("/nhacnho_them") == app.translator("authz.members_only")
    assert member.actions == []


async def test_dates_have_one_format_in_replies_and_notifications(app, clock):
    chair = await as_member(app, "NTL-0101", "c12")
    member = await as_member(app, "NTL-0103", "m12")
    await member.says("/nhacnho")
    texts = [await chair.says("/nhacnho_them ngay-thanh-lap-cong-doan-viet-nam 5/7/2021 Chuẩn bị kỷ niệm.")]
    texts.append(await chair.presses("bc:rm_ok"))
    assert "05/07/2021" in texts[0] and "05/07/2021" in texts[1]
    clock.now = datetime(2021, 6, 23, 1, 0, tzinfo=UTC)  # 7 days before phase 1 ends
    await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now)
    texts += [m["text"] for m in await inbox(app, member)]
    await compose(chair, "Thông báo hẹn giờ cho tổ 1", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")
    texts += [await chair.says("mai 8h"), await chair.presses("bc:when_ok"), await chair.says("/thongbao_ketqua")]
    texts += [await chair.says("/thongbao_ketqua abc")]
    assert any("30/06/2021" in t for t in texts)
    for text in texts:
        for day, month, _ in re.findall(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})", text):
            assert len(day) == len(month) == 2, text  # 05/07/2021, never 5/7/2021
        assert not re.search(r"(?<![\d/])\d{1,2}/\d{1,2}(?![/\d])", text), text  # "02/12" without its year


def _rendered(t: Translator):
    """Every interface string of every language, each placeholder filled with a value ending a sentence."""
    for lang in t.languages:
        for key, template in t.tables[lang].items():
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
            yield lang, key, t(key, lang, **{name: "Thiếu giấy tờ." for name in names})


def test_no_message_ends_a_sentence_twice():
    """A template's "." after a value that already ends with "." (a reason, a note, a reminder's text) is one
    full stop, in every interface string; "..." stays."""
    t = Translator()
    doubled = [(lang, key, text) for lang, key, text in _rendered(t) if re.search(r"(?<!\.)\.\.(?!\.)", text)]
    assert not doubled, doubled[:5]
    assert t("source.line", where="Báo Lao Động.") == "Nguồn: Báo Lao Động."
    assert t("source.line", where="Báo Lao Động") == "Nguồn: Báo Lao Động."


async def test_a_reminder_text_ending_with_a_stop_is_not_stopped_twice(app, clock):
    chair = await as_member(app, "NTL-0101", "c13")
    member = await as_member(app, "NTL-0103", "m13")
    await member.says("/nhacnho")
    echo = await chair.says("/nhacnho_them ngay-thanh-lap-cong-doan-viet-nam 21/7/2021 Chuẩn bị kỷ niệm 28/7.")
    assert "28/7. Đúng ngày" in echo and ".." not in echo
    reply = await chair.presses("bc:rm_ok")
    assert "28/7. Đoàn viên" in reply and ".." not in reply
    clock.now = datetime(2021, 7, 21, 1, 0, tzinfo=UTC)
    await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now)
    assert all(".." not in m["text"] for m in await inbox(app, member))


async def test_a_question_after_the_offered_dates_is_answered_as_usual(app):
    chair = await as_member(app, "NTL-0101", "c14")
    await chair.says("/nhacnho_them")
    reply = await chair.says("gạo giảm giá bao nhiêu")
    assert reply and "Cách dùng" not in reply and "Đã thêm nhắc nhở" not in reply
    await chair.says("/nhacnho_them")
    assert "Đã thêm nhắc nhở" in await chair.says("1")  # a typed number picks, with buttons too


async def test_the_service_queues_nothing_for_an_audience_of_nobody(app):
    """The CLI and the web console call the same use case: no broadcast, no audit, no progress for nobody."""
    from services.base import Refused
    from services.broadcasts import Draft
    from tests.integration.test_services_broadcasts import at_the_console, audit

    chair = await at_the_console(app, "NTL-0101")
    with pytest.raises(Refused) as refused:
        await app.core.broadcasts.service.queue(chair, Draft("Thông báo cho tổ văn phòng", "NTL-FECON-T2"))
    assert refused.value.key == "broadcast.error.no_recipients"
    assert await audit(app, "broadcast") == [] and await next_due(app) is None
    assert await app.core.broadcasts.service.recent(chair) == []
