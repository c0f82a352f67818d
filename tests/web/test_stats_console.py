"""Statistics: questions are counted per day, channel and intent (no text, no person); the page draws its charts
on the server for the chair's subtree; hardship requests, announcements and linked members are counted within it."""

from __future__ import annotations

import sys

import pytest

from services.knowledge import Forbidden
from services.stats import StatsService
from storage.stats import QuestionCountRow, StatsRepository
from tests.conftest import Member, needs_extra
from tests.web.conftest import actor_of
from tests.web.test_requests_console import member_chat


async def counted(app) -> dict:
    await app.core.questions.flush()
    async with app.db.sessions() as session:
        today = app.core.clock().astimezone(app.core.config.timezone).date()
        rows = await StatsRepository(session).questions(today, today)
    return {(q.channel, q.intent, q.answered): q.count for q in rows}


async def test_questions_are_counted_per_day_channel_and_intent(app):
    telegram, zalo = Member(app, "201", "telegram"), Member(app, "202", "zalo")
    await telegram.says("sữa hà lan")
    await telegram.says("sữa hà lan giảm bao nhiêu")
    await zalo.says("giá vàng hôm nay")  # out of scope: not answered
    await zalo.says("/help")  # a command is not a question
    counts = await counted(app)
    assert sum(n for (channel, _, _), n in counts.items() if channel == "telegram") == 2
    assert [k for k in counts if k[0] == "zalo"] == [("zalo", "out_of_scope", False)]
    assert all(n > 0 for n in counts.values())
    assert {c.name for c in QuestionCountRow.__table__.columns} == {"day", "channel", "intent", "answered", "unit_id",
                                                                     "count"}  # the asker's unit, never who


@needs_extra("charts")
async def test_the_page_shows_its_charts_scoped_to_the_chair(console):
    member = await member_chat(console.app, "101", "NTL-0103")  # of Fecon's first union group
    await member.says("sữa hà lan")
    await console.app.core.questions.flush()
    chair = await console.signed_in("NTL-0101")
    status, page = await chair.get("/web/stats?days=7")
    assert status == 200
    for name in ("questions", "topics", "answered", "votes", "requests", "broadcasts", "linked"):
        assert f'src="/web/stats/chart/{name}.svg?days=7"' in page
        async with chair.http.get(f"/web/stats/chart/{name}.svg?days=7") as response:
            assert response.status == 200 and response.content_type == "image/svg+xml"
            assert (await response.text()).lstrip().startswith(("<?xml", "<svg"))
    assert "1 câu hỏi" in page
    chaired = (await actor_of(console.app, "NTL-0101")).identity.grants
    unit = next(g.unit for g in chaired if g.unit is not None)
    assert f"Phạm vi: {unit.name}" in page  # the chair's own unit, not the whole system
    admin = await console.signed_in("DEMO-ADMIN")
    _, page = await admin.get("/web/stats")
    assert "toàn hệ thống" in page


async def test_counts_are_scoped_to_the_chairs_subtree(app):
    service = StatsService(app.db, clock=app.core.clock)
    mine = await service.summary(await actor_of(app, "NTL-0101"), 7)
    everything = await service.summary(await actor_of(app, "DEMO-ADMIN"), 7)
    assert mine.linked and everything.linked
    assert sum(m for _, _, m in mine.linked) < sum(m for _, _, m in everything.linked)
    assert {name for name, _, _ in mine.linked} < {name for name, _, _ in everything.linked}
    with pytest.raises(Forbidden):
        await service.summary(await actor_of(app, "NTL-0103"), 7)  # a member


async def test_questions_and_votes_count_for_the_askers_unit_and_the_chairs_above(app):
    """Two questions and a 👍 from Fecon, one question from JW Marriott (its sibling), one from an unlinked account:
    each chair counts their subtree's, the district's chair both unions', only an admin the unlinked one's."""
    fecon, jwm = await member_chat(app, "401", "NTL-0103"), await member_chat(app, "402", "NTL-0202")
    stranger = Member(app, "403")
    await fecon.says("gạo kim sáng giảm bao nhiêu")
    await fecon.presses(next(c.action for r in fecon.replies for c in r.choices if c.action.startswith("fb:u:")))
    await fecon.says("giá vàng hôm nay")  # out of scope: counted, not answered
    await jwm.says("sữa hà lan")
    await stranger.says("sữa hà lan")
    await app.core.questions.flush()
    service = StatsService(app.db, clock=app.core.clock)
    seen = {}
    for code in ("NTL-0101", "NTL-0201", "NTL-0001", "DEMO-ADMIN"):
        s = await service.summary(await actor_of(app, code), 7)
        seen[code] = (s.questions, s.unanswered, s.votes["up"])
    assert seen == {"NTL-0101": (2, 1, 1), "NTL-0201": (1, 0, 0), "NTL-0001": (3, 1, 1), "DEMO-ADMIN": (4, 1, 1)}


@needs_extra("charts", "telegram")
async def test_thongke_sends_a_chair_the_weekly_chart_through_telegram(settings, clock):
    from datetime import timedelta

    from pydantic import SecretStr

    from storage.membership import AccountRepository, MemberRepository
    from tests.e2e.conftest import TELEGRAM_TOKEN, running_bot
    from tests.fakes.telegram_server import FakeTelegram

    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake:
        overrides = {"telegram_token": SecretStr(TELEGRAM_TOKEN), "telegram_api_url": fake.base_url,
                     "telegram_mode": "polling", "web_base_url": "http://console.test"}
        async with running_bot(settings, clock, **overrides) as (app, _server):
            async with app.db.sessions.begin() as session:
                chair_record = await MemberRepository(session).by_code("NTL-0101")
                code = await AccountRepository(session).issue_code(chair_record.id, None, app.core.clock(),
                                                                   timedelta(days=1))
            chair, member = fake.user(701, first_name="Hà"), fake.user(702, first_name="An")
            await chair.says(f"/lienket {code}")
            await member.says("sữa hà lan")
            await member.says("/thongke")
            assert "7 ngày qua" not in member.last_reply  # not for members (nor unlinked accounts)
            assert not any(m.get("photo") for m in member.replies)

            await chair.says("/help")
            help_pages = [chair.last_reply]
            while "/thongke" not in "\n".join(help_pages) and len(help_pages) < 6:  # /help is paged ("xem thêm")
                await chair.says("xem thêm")
                help_pages.append(chair.last_reply)
            assert "/thongke" in "\n".join(help_pages)
            await chair.says("/thongke")
            photos = [m for m in chair.replies if m.get("photo")]
            assert len(photos) == 1  # uploaded with sendPhoto (multipart)
            stored = fake.files[photos[0]["photo"][-1]["file_id"]]
            assert stored.data.startswith(b"\x89PNG")
            text = chair.last_reply
            assert "7 ngày qua" in text and "Câu hỏi: " in text
            if "http://console.test/web/stats?days=7" not in text:  # six lines a page: the link may be behind it
                await chair.says("xem thêm")
                text = chair.last_reply
            assert "http://console.test/web/stats?days=7" in text


async def test_counts_and_summary_on_postgresql(settings, clock, pg_database_url):
    """The counter's upsert adds to a day's row, and the summary's queries run on PostgreSQL too."""
    from bot.app import build_app

    app = await build_app(settings.replace(database_url=pg_database_url), clock=clock)
    try:
        telegram = await member_chat(app, "301", "NTL-0103")
        stranger = Member(app, "302", "telegram")
        await stranger.says("sữa hà lan")  # no unit: the admin's only
        await telegram.says("sữa hà lan")
        await app.core.questions.flush()
        await telegram.says("sữa hà lan")
        counts = await counted(app)
        assert sum(counts.values()) == 3 and len(counts) == 2  # the second flush added to the same row
        summary = await StatsService(app.db, clock=app.core.clock).summary(await actor_of(app, "NTL-0001"), 7)
        assert summary.questions == 2 and summary.linked
        summary = await StatsService(app.db, clock=app.core.clock).summary(await actor_of(app, "DEMO-ADMIN"), 7)
        assert summary.questions == 3
    finally:
        await app.close()


def without_charts(monkeypatch) -> None:
    """As where the charts extra is not installed: matplotlib cannot be imported."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


async def test_without_the_charts_extra_the_page_shows_the_same_figures_as_tables(console, monkeypatch):
    member = await member_chat(console.app, "101", "NTL-0103")  # counted for the chair's union (its subtree)
    await member.says("sữa hà lan")
    await console.app.core.questions.flush()
    without_charts(monkeypatch)
    chair = await console.signed_in("NTL-0101")
    status, page = await chair.get("/web/stats?days=7")
    assert status == 200
    assert "<img" not in page and 'id="no-charts"' in page and "quản trị viên hệ thống" in page
    for name in ("questions", "topics", "answered", "votes", "requests", "broadcasts", "linked"):
        assert f'id="chart-{name}"' in page
        async with chair.http.get(f"/web/stats/chart/{name}.svg?days=7") as response:
            assert response.status == 404  # no picture to draw
    topics = page.split('id="chart-topics"')[1].split("</section>")[0]
    assert "<th scope=\"row\">Ưu đãi</th><td>1</td>" in topics and "<meter" in topics
    answered = page.split('id="chart-answered"')[1].split("</section>")[0]
    assert "<th scope=\"row\">Trả lời được</th><td>1</td>" in answered
    assert "Chưa có dữ liệu" in page.split('id="chart-votes"')[1].split("</section>")[0]  # no vote yet
    linked = page.split('id="chart-linked"')[1].split("</section>")[0]
    chaired = (await actor_of(console.app, "NTL-0101")).identity.grants
    unit = next(g.unit for g in chaired if g.unit is not None)
    assert unit.name[:33] in linked and "Đã liên kết" in linked and "Chưa liên kết" in linked


async def test_without_the_charts_extra_thongke_sends_its_lines_without_a_picture(app, monkeypatch):
    from datetime import timedelta

    from storage.membership import AccountRepository, MemberRepository

    async with app.db.sessions.begin() as session:
        chair_record = await MemberRepository(session).by_code("NTL-0101")
        code = await AccountRepository(session).issue_code(chair_record.id, None, app.core.clock(),
                                                           timedelta(days=1))
    chair = Member(app, "701", "telegram")
    assert "Đã liên kết" in await chair.says(f"/lienket {code}")
    without_charts(monkeypatch)
    text = await chair.says("/thongke")
    assert "7 ngày qua" in text and "Câu hỏi: " in text
    assert not any(r.pictures for r in chair.replies)


async def test_the_totals_give_the_unanswered_share_beside_the_unanswered_count(console):
    """3 questions, 1 the bot could not answer: "1 chưa trả lời được (33%)", not the answered 67% beside it."""
    member = await member_chat(console.app, "101", "NTL-0103")
    for text in ("sữa hà lan", "sữa hà lan giảm bao nhiêu", "giá vàng hôm nay"):
        await member.says(text)
    await console.app.core.questions.flush()
    chair = await console.signed_in("NTL-0101")
    _, page = await chair.get("/web/stats?days=7")
    totals = page[page.index('id="totals"'):]
    totals = totals[:totals.index("</p>")]
    assert "3 câu hỏi" in totals and "1 chưa trả lời được (33%)" in totals, totals
    assert "67%" not in totals
