"""Unanswered questions in the console: grouped by their words with counts and the 👎 ones marked; attaching a
group to an entry makes the running bot answer those questions with it (no restart); creating an entry starts
from the questions; dismissing takes them off the list. Nothing personal is shown (the log is scrubbed)."""

from __future__ import annotations

import re

import pytest

from storage.knowledge import KnowledgeEditRepository
from storage.unanswered import UnansweredRepository
from tests.conftest import Member
from tests.web.test_requests_console import member_chat

#: questions the demo knowledge cannot answer; the first two are one group (the same words, one more)
ASKED = ["hội thao công nhân nhà máy Kim Sáng đăng ký ở đâu", "hội thao công nhân nhà máy Kim Sáng đăng ký ở đâu vậy",
         "thư viện sách nói cho người khiếm thị"]


@pytest.fixture
async def member(app) -> Member:
    """A member of Fecon's first union group (NTL-0103): their questions are Fecon's chairs' and those above."""
    return await member_chat(app, "101", "NTL-0103")


async def logged(app) -> list:
    await app.core.unanswered.flush()
    async with app.db.sessions() as session:
        return await UnansweredRepository(session).most_frequent()


async def ask_all(member) -> str:
    for text in ASKED:
        await member.says(text)
    await member.says(ASKED[0])
    return member.last_reply


def group_ids(page: str, lead: str) -> str:
    """The ids of the group whose first question is ``lead``, as its forms carry them ("3,4")."""
    row = page[page.index(lead):]
    return re.search(r'name="ids" value="([\d,]+)"', row[:row.index("</tr>")]).group(1)


async def test_groups_counts_and_attach_makes_the_bot_answer(console, member):
    fallback = await ask_all(member)
    assert len(await logged(console.app)) == 3
    chair = await console.signed_in("NTL-0001")
    status, page = await chair.get("/web/unanswered")
    assert status == 200
    assert page.count('class="group"') == 2  # the two near-identical questions are one group
    ids = group_ids(page, ASKED[0])
    assert len(ids.split(",")) == 2
    lead_row = page[page.index(ASKED[0]):]
    assert re.search(r"<td>3</td>", lead_row[:lead_row.index("</tr>")])  # 2 + 1 times asked

    status, page = await chair.post("/web/unanswered/attach", {"ids": ids, "entry": "kim-sang-gao"})
    assert status == 200 and "Đã gắn 2 câu hỏi" in page, page
    reply = await member.says(ASKED[0])
    assert reply != fallback and "Kim Sáng" in reply  # the running bot answers it with the entry now
    async with console.app.db.sessions() as session:
        entry = await KnowledgeEditRepository(session).get("kim-sang-gao")
        revision = (await KnowledgeEditRepository(session).revisions("kim-sang-gao"))[0]
    assert ASKED[0] in entry.aliases and revision.actor == "web:NTL-0001"  # an edit with its rollback
    assert [q.sample_text for q in await logged(console.app)] == [ASKED[2]]


async def test_rejected_answers_are_marked_and_dismiss_removes_a_group(console, member):
    await member.says("sữa hà lan")
    vote = next(c.action for r in member.replies for c in r.choices if c.action.startswith("fb:d:"))
    await member.presses(vote)
    await member.says(ASKED[2])
    chair = await console.signed_in("NTL-0101")
    status, page = await chair.get("/web/unanswered")
    assert page.count('class="group"') == 2 and page.count('class="tag rejected"') == 1
    ids = group_ids(page, ASKED[2])
    status, location = await chair.post("/web/unanswered/dismiss", {"ids": ids})
    assert (status, location) == (303, "/web/unanswered?done=dismissed")
    assert [q.sample_text for q in await logged(console.app)] == ["sữa hà lan"]


async def test_create_an_entry_from_a_group(console, member):
    await ask_all(member)
    chair = await console.signed_in("NTL-0101")
    _, page = await chair.get("/web/unanswered")
    ids = group_ids(page, ASKED[0])
    status, form = await chair.get(f"/web/unanswered/new?ids={ids}")
    assert status == 200 and 'action="/web/knowledge/new"' in form
    assert f'name="name" value="{ASKED[0]}"' in form and ASKED[1] in form


async def test_phone_numbers_never_show(console, member):
    await member.says("hội thao công nhân gọi 0912345678 đăng ký ở đâu")
    chair = await console.signed_in("NTL-0101")
    _, page = await chair.get("/web/unanswered")
    assert "0912345678" not in page and "hội thao" in page


async def test_each_chair_sees_and_acts_on_their_subtrees_questions_only(console, member):
    """Fecon's member, a JW Marriott member (a sibling grassroots union) and an unlinked account ask: each chair
    lists their subtree's questions; the district's chair both unions'; only an admin the unlinked one's. A sibling's
    chair cannot dismiss, attach or start an entry from Fecon's question (403, nothing changed)."""
    app = console.app
    jwm, stranger = await member_chat(app, "102", "NTL-0202"), Member(app, "103")
    await member.says(ASKED[0])
    await jwm.says(ASKED[2])
    await stranger.says("lịch bơi của câu lạc bộ công nhân")
    await stranger.says(ASKED[2])  # the same question from no unit: a row of its own

    async def listed(code: str) -> str:
        _, page = await (await console.signed_in(code)).get("/web/unanswered")
        return page

    fecon, sibling, district, admin = [await listed(c) for c in ("NTL-0101", "NTL-0201", "NTL-0001", "DEMO-ADMIN")]
    assert ASKED[0] in fecon and ASKED[2] not in fecon and "lịch bơi" not in fecon
    assert ASKED[2] in sibling and ASKED[0] not in sibling and "lịch bơi" not in sibling
    assert ASKED[0] in district and ASKED[2] in district and "lịch bơi" not in district
    assert ASKED[0] in admin and ASKED[2] in admin and "lịch bơi" in admin
    assert len(group_ids(admin, ASKED[2]).split(",")) == 2  # JW Marriott's and the unlinked one's, grouped
    assert len(group_ids(district, ASKED[2]).split(",")) == 1

    ids = group_ids(fecon, ASKED[0])
    before = await logged(app)
    async with app.db.sessions() as session:
        entry_before = await KnowledgeEditRepository(session).get("kim-sang-gao")
    chair = await console.signed_in("NTL-0201")
    for path, data in (("/web/unanswered/dismiss", {"ids": ids}),
                       ("/web/unanswered/attach", {"ids": ids, "entry": "kim-sang-gao"})):
        status, _ = await chair.post(path, data)
        assert status == 403, path
    status, _ = await chair.get(f"/web/unanswered/new?ids={ids}")
    assert status == 403
    async with app.db.sessions() as session:
        assert await KnowledgeEditRepository(session).get("kim-sang-gao") == entry_before
    assert await logged(app) == before
    status, _ = await (await console.signed_in("NTL-0001")).post("/web/unanswered/dismiss", {"ids": ids})
    assert status == 303  # the parent's chair may
    assert ASKED[0] not in [q.sample_text for q in await logged(app)]


async def test_each_group_shows_when_it_was_last_asked_in_hanoi_time(console, member, clock):
    """"Lần cuối" (last asked): the latest question of the group, in Hà Nội time (the clock: 09:00 UTC, 16:00 there)."""
    from datetime import timedelta

    start = clock.now
    await member.says(ASKED[0])
    await member.says(ASKED[2])
    clock.now = start + timedelta(hours=35)  # 20:00 UTC on 16/03: 03:00 on 17/03 in Hà Nội
    await member.says(ASKED[1])  # of the first group: its last question now
    await logged(console.app)
    chair = await console.signed_in("NTL-0101")
    status, page = await chair.get("/web/unanswered")
    assert status == 200 and "<th>Lần cuối</th>" in page
    rows = {lead: page[page.index(lead):][:page[page.index(lead):].index("</tr>")] for lead in (ASKED[0], ASKED[2])}
    assert "<td>03:00 17/03/2021</td>" in rows[ASKED[0]], rows[ASKED[0]]
    assert "<td>16:00 15/03/2021</td>" in rows[ASKED[2]], rows[ASKED[2]]


async def test_a_dismissal_is_in_the_audit_log_of_the_askers_unit(console, member, tmp_path):
    """A chair's "Bỏ qua" is audited in the unit whose members asked (``unionbot audit export --unit``), as every
    other step a chair takes there; a question of an unlinked asker (an admin's) belongs to no unit's log."""
    import csv
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from services.audit import AuditService

    app = console.app
    await member.says(ASKED[2])
    await Member(app, "104").says("lịch bơi của câu lạc bộ công nhân")  # linked to no member
    fecon = await console.signed_in("NTL-0101")
    _, page = await fecon.get("/web/unanswered")
    assert (await fecon.post("/web/unanswered/dismiss", {"ids": group_ids(page, ASKED[2])}))[0] == 303
    admin = await console.signed_in("DEMO-ADMIN")
    _, page = await admin.get("/web/unanswered")
    assert (await admin.post("/web/unanswered/dismiss", {"ids": group_ids(page, "lịch bơi")}))[0] == 303

    async def dismissals(unit: str) -> list[dict]:
        out = tmp_path / f"{unit}.csv"
        await AuditService(app.db, app.translator, lambda: datetime.now(UTC), ZoneInfo("Asia/Ho_Chi_Minh")).export(
            unit, None, None, out)
        with out.open(encoding="utf-8-sig") as f:
            rows = list(csv.reader(f, delimiter=";"))  # the CSV Excel opens in Vietnamese
        return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if "unanswered.dismiss" in r]

    fecon_log = await dismissals("NTL-FECON")
    assert len(fecon_log) == 1 and "NTL-0101" in fecon_log[0].values()
    assert len(await dismissals("NTL")) == 1  # the district's log holds its subtree's: Fecon's, not the unlinked one
    assert await dismissals("NTL-JWM") == []
