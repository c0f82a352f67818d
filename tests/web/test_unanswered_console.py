"""Unanswered questions in the console: grouped by their words with counts and the 👎 ones marked; attaching a
group to an entry makes the running bot answer those questions with it (no restart); creating an entry starts
from the questions; dismissing takes them off the list. Nothing personal is shown (the log is scrubbed)."""

from __future__ import annotations

import re

from storage.knowledge import KnowledgeEditRepository
from storage.unanswered import UnansweredRepository

#: questions the demo knowledge cannot answer; the first two are one group (the same words, one more)
ASKED = ["hội thao công nhân nhà máy Kim Sáng đăng ký ở đâu", "hội thao công nhân nhà máy Kim Sáng đăng ký ở đâu vậy",
         "thư viện sách nói cho người khiếm thị"]


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
