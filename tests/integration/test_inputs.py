"""Every parser of what a member or chair types is total: a clear message, never the apology of a crash.

Table-driven through Core.handle, as a member and as a chair of the demo roster, on SQLite and PostgreSQL.
"""

import pytest

from tests.integration.test_hardship import as_member, fill, inbox

HUGE = "9" * 23  # beyond SQLite's INTEGER and PostgreSQL's integer
DESCRIPTION = "Em bị sốt xuất huyết phải nằm viện 5 ngày"

#: (who, the steps before, the input: text or ("press", action), the locale key the reply must contain)
CASES = [
    ("member", ["/hotro"], "²", "hardship.error.category"),
    ("zalo", ["/hotro"], "²", "hardship.error.category"),
    ("zalo", ["/hotro"], "số ²", "hardship.error.category"),
    ("member", ["/hotro"], HUGE, "hardship.error.category"),
    ("member", ["/hotro", "1"], "31/12/99999", "hardship.error.date"),
    ("member", ["/hotro", "1"], "29/2/2021", "hardship.error.date"),
    ("member", ["/hotro", "1"], "1/1/1900", "hardship.error.date_old"),
    ("member", ["/hotro", "1", "hôm qua", DESCRIPTION], "9" * 400, "hardship.error.amount_range"),
    ("member", ["/hotro", "1", "hôm qua", DESCRIPTION], "9" * 400 + " triệu", "hardship.error.amount_range"),
    ("member", ["/hotro", "1", "hôm qua", DESCRIPTION], "1.5.5 tr", "hardship.error.amount"),
    ("member", ["/hotro", "1", "hôm qua", DESCRIPTION], "1,5,5 triệu", "hardship.error.amount"),
    ("member", ["/hotro", "1", "hôm qua", DESCRIPTION], "²", "hardship.error.amount"),
    ("chair", [], ("press", "req:view:²"), "hardship.review.unknown"),
    ("chair", [], ("press", f"req:view:{HUGE}"), "hardship.review.unknown"),
    ("chair", [], ("press", "req:view:-1"), "hardship.review.unknown"),
    ("chair", [], ("press", f"req:approve:{HUGE}"), "hardship.review.unknown"),
    ("chair", [("press", "req:approve:{request}")], "9" * 400, "hardship.error.approve_amount"),
    ("chair", [("press", "req:approve:{request}")], "1.5.5 tr", "hardship.error.approve_amount"),
    ("chair", [], "/thongbao_ketqua ²", "broadcast.error.unknown"),
    ("chair", [], f"/thongbao_ketqua {HUGE}", "broadcast.error.unknown"),
    ("chair", [], "/thongbao_ketqua 0", "broadcast.error.unknown"),
    ("chair", [], "/thongbao_huy ²", "broadcast.error.unknown"),
    ("chair", [], f"/thongbao_huy {HUGE}", "broadcast.error.unknown"),
    ("chair", ["/thongbao", "Họp công đoàn thứ Sáu lúc 14h", ("press", "bc:unit:NTL-FECON-T1"), ("press", "bc:later")],
     "08:00 31/12/9999", "broadcast.error.when_far"),
    ("chair", ["/thongbao", "Họp công đoàn thứ Sáu lúc 14h", ("press", "bc:unit:NTL-FECON-T1"), ("press", "bc:later")],
     "99:99 1/1/2022", "broadcast.error.when"),
    ("chair", [], "/nhacnho_them ngay-thanh-lap-cong-doan-viet-nam 31/12/0001", "reminder.usage"),
    ("chair", [], "/nhacnho_them ngay-thanh-lap-cong-doan-viet-nam 31/12/9999", "reminder.usage"),
    ("chair", [], "/nhacnho_them ngay-thanh-lap-cong-doan-viet-nam 31/02/2021", "reminder.usage"),
]


@pytest.fixture
def app(app_on_both):
    """The whole app on SQLite and on PostgreSQL (tests/integration/conftest.py)."""
    return app_on_both


def _fixed_part(text: str) -> str:
    """The words of a message before its first placeholder (what every rendering of it contains)."""
    return text.split("{")[0].strip()[:40]


async def _act(person, step) -> str:
    if isinstance(step, tuple):
        return await person.presses(step[1])
    return await person.says(step)


async def test_every_parser_answers_clearly(app):
    t = app.translator
    people = {"member": await as_member(app, "NTL-0103", "m1"),
              "zalo": await as_member(app, "NTL-0104", "z1", channel="zalo", buttons=False),
              "chair": await as_member(app, "NTL-0101", "c1")}
    author = await as_member(app, "NTL-0105", "m2")
    await fill(author)
    request_id = (await inbox(app, people["chair"]))[0]["choices"][0][1].split(":")[-1]
    apology = t("bot.apology")
    problems = []
    for who, steps, given, key in CASES:
        person = people[who]
        for step in steps:
            if isinstance(step, tuple):
                step = (step[0], step[1].format(request=request_id))
            assert apology not in await _act(person, step), (who, steps, step)
        reply = await _act(person, given)
        expected = _fixed_part(t(key))
        if apology in reply or expected not in reply:
            problems.append(f"{who} {steps} {str(given)[:30]!r}: expected {key!r}, got {reply[:120]!r}")
        await person.says("hủy")
        await person.says("hủy")  # a form with answers asks once (issue #15)
    assert not problems, "\n".join(problems)


#: a chair schedules an announcement as people write times; the test clock is Monday 15/3/2021, 16:00 in Hanoi
SCHEDULES = [
    ("mai 8h", (2021, 3, 16, 8, 0)),
    ("ngày kia 8h", (2021, 3, 17, 8, 0)),
    ("ngay kia 8h", (2021, 3, 17, 8, 0)),
    ("8h sáng thứ hai tuần sau", (2021, 3, 22, 8, 0)),
    ("20h", (2021, 3, 15, 20, 0)),
    ("8h tối", (2021, 3, 15, 20, 0)),
    ("sáng mai", (2021, 3, 16, 8, 0)),
    ("chủ nhật 9h30", (2021, 3, 21, 9, 30)),
    ("25/12 8h", (2021, 12, 25, 8, 0)),
    ("08:00 25/12/2021", (2021, 12, 25, 8, 0)),
]


@pytest.mark.parametrize(("text", "local"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
async def test_announcements_are_scheduled_on_the_day_and_hour_written(app, text, local):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from storage.outbox import OutboxRepository

    chair = await as_member(app, "NTL-0101", "c9")
    await as_member(app, "NTL-0103", "m9")  # a recipient in the unit
    await compose_later(chair)
    expected = datetime(*local, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    reply = await chair.says(text)
    assert f"{expected:%H:%M}" in reply
    await chair.presses("bc:when_ok")  # the time read is echoed; stored once confirmed
    assert await OutboxRepository(app.db).next_due("default", "test") == expected


async def test_a_time_of_today_already_past_is_refused(app):
    chair = await as_member(app, "NTL-0101", "c9")
    await as_member(app, "NTL-0103", "m9")  # a recipient in the unit (an empty audience cannot be scheduled)
    await compose_later(chair)
    assert _fixed_part(app.translator("broadcast.error.when_past")) in await chair.says("chiều nay 3h")
    assert _fixed_part(app.translator("broadcast.error.when")) in await chair.says("tuần sau")


async def compose_later(chair) -> None:
    from tests.integration.test_broadcasts import compose

    await compose(chair, "Họp công đoàn tổ 1", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")


#: amounts in words at the hardship form's amount step, and the figure its summary then shows
AMOUNTS = [("hai triệu", "2.000.000 đ"), ("năm triệu", "5.000.000 đ"), ("2 triệu rưỡi", "2.500.000 đ"),
           ("500 nghìn", "500.000 đ"), ("1tr5", "1.500.000 đ"), ("2.000.000đ", "2.000.000 đ")]


@pytest.mark.parametrize(("given", "shown"), AMOUNTS, ids=[a[0] for a in AMOUNTS])
async def test_the_hardship_form_reads_amounts_as_written(app, given, shown):
    member = await as_member(app, "NTL-0103", "m8")
    for answer in ["/hotro", "1", "hôm qua", DESCRIPTION]:
        await member.says(answer)
    reply = await member.says(given)
    assert _fixed_part(app.translator("hardship.error.amount")) not in reply
    await member.says("xong")  # no photos
    await member.says("đúng")  # the phone
    assert shown in await member.says("đồng ý")  # the summary before sending
