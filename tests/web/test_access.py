"""Every URL and action of the console, for every kind of visitor: forbidden ones are refused (403, or a redirect
to the sign-in page) and change nothing; every form refuses a missing or wrong CSRF token."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from yarl import URL

from services.actor import Actor as ChatActor
from services.broadcasts import Draft
from services.documents import build_document
from services.knowledge import KnowledgeService
from services.roster import label
from storage.documents import DocumentRepository
from storage.hardship import HardshipRepository
from storage.knowledge import KnowledgeEditRepository, KnowledgeRepository
from storage.membership import MemberRepository, UnitRepository
from storage.models import LinkCodeRow
from storage.outbox import OutboxRepository
from storage.unanswered import UnansweredRepository
from storage.web import WebRepository
from tests.web.conftest import actor_of, identity_of
from tests.web.test_requests_console import member_chat, submitted
from web.app import COOKIE

ENTRY = {"id": "uu-dai-fecon", "kind": "benefit", "name": "Ưu đãi thử của Fecon", "summary": "Giảm 10% tại căng tin.",
         "source": {"document": "thu-nghiem.txt", "title": "Thử nghiệm"}, "as_of": "2021-01-01",
         "benefit": {"partner": "Căng tin thử nghiệm", "discount": "giảm 10%"}}

ROLES = {"anonymous": None, "member": "NTL-0103", "chair_of_unit": "NTL-0101", "chair_of_sibling": "NTL-0201",
         "chair_of_parent": "NTL-0001", "admin": "DEMO-ADMIN"}
EDITORS = {"chair_of_unit", "chair_of_parent", "admin"}
#: who sees Fecon's own entry (ENTRY) at all: as in chat, its unit and those above it; for the sibling's chair the
#: entry does not exist (404 on its pages, absent from the list; its actions 403)
READERS = EDITORS


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str
    who: str = "console"  # console: every chair and admin | editors: chairs of the entry's subtree | admin
    data: tuple = ()
    ok: int | None = None
    hidden: int | None = None  # what a console user who does not see ENTRY gets (None: as any other refused one)

    @property
    def success(self) -> int:
        return self.ok or (200 if self.method == "GET" else 303)


def edited(summary: str) -> tuple:
    return (("id", ENTRY["id"]), ("kind", "benefit"), ("name", ENTRY["name"]), ("summary", summary),
            ("as_of", "2021-01-01"), ("source_document", "thu-nghiem.txt"), ("source_title", "Thử nghiệm"),
            ("block", "partner: Căng tin thử nghiệm\ndiscount: giảm 10%"))


#: a roster file as the import's confirm form carries it back (name and base64 content, as the preview page has it)
ROSTER = (("name", "ds.csv"), ("content", base64.b64encode(
    f"{label('member_code')};{label('full_name')}\nNTL-0999;Người Nhập Thử\n".encode()).decode()))

def _sheet() -> str:
    """An Excel file of the import (its header: the entry form's labels) changing ENTRY's summary, as base64."""
    import io

    import openpyxl

    from locales import LOCALES_DIR, Translator
    from web.knowledge_excel import COLUMNS

    t = Translator(LOCALES_DIR / "web")
    book = openpyxl.Workbook()
    book.active.append([t(f"web.kb.{c}") for c in COLUMNS])
    values = dict(edited("Giảm 20% tại căng tin (Excel)."))
    book.active.append([values.get(c, "") for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return base64.b64encode(out.getvalue()).decode()


SHEET = _sheet()

STEPS = [
    Step("home", "GET", "/web/", ok=303),
    Step("list", "GET", "/web/knowledge?q=fecon"),
    Step("view", "GET", f"/web/knowledge/{ENTRY['id']}", "editors", hidden=404),
    Step("edit form", "GET", f"/web/knowledge/{ENTRY['id']}/edit", "editors", hidden=404),
    Step("new form", "GET", "/web/knowledge/new"),
    Step("preview form", "GET", "/web/preview"),
    Step("preview", "POST", "/web/preview", data=(("q", "ưu đãi fecon"),), ok=200),
    Step("create", "POST", "/web/knowledge/new", "editors",
         (*[(k, "moi-fecon" if k == "id" else v) for k, v in edited("Mục mới.")], ("owner", "NTL-FECON"))),
    Step("edit", "POST", f"/web/knowledge/{ENTRY['id']}/edit", "editors", edited("Giảm 15% tại căng tin.")),
    Step("rollback", "POST", "/web/revisions/{revision}/rollback", "editors"),
    # a question asked by a Fecon member, attached to Fecon's entry (a sibling's chair: 403 on both)
    Step("unanswered attach", "POST", "/web/unanswered/attach", "editors",
         (("ids", "{question}"), ("entry", ENTRY["id"])), ok=200),
    Step("retire", "POST", f"/web/knowledge/{ENTRY['id']}/retire", "editors"),
    Step("knowledge excel", "GET", "/web/knowledge-excel"),
    Step("knowledge export", "GET", "/web/knowledge-excel/export"),
    Step("knowledge import preview", "POST", "/web/knowledge-excel/import", "editors",
         (("content", SHEET),), ok=200),
    Step("knowledge import", "POST", "/web/knowledge-excel/import", "editors", (("content", SHEET), ("apply", "1")),
         ok=200),
    Step("members tree", "GET", "/web/members"),
    Step("members of a unit", "GET", "/web/members/NTL-FECON", "editors"),
    Step("members export", "GET", "/web/members/NTL-FECON/export", "editors"),
    Step("roster preview", "POST", "/web/members/NTL-FECON/import", "editors", ROSTER, ok=200),
    Step("roster import", "POST", "/web/members/NTL-FECON/import", "editors", (*ROSTER, ("confirm", "1")), ok=200),
    Step("linking codes", "POST", "/web/members/NTL-FECON/codes", "editors", ok=200),
    Step("documents", "GET", "/web/documents"),
    Step("document", "GET", "/web/documents/{document}"),
    Step("document delete page", "GET", "/web/documents/{document}/delete", "admin"),
    Step("document upload", "POST", "/web/documents", "admin", ok=422),  # no file: refused, nothing stored
    Step("document delete", "POST", "/web/documents/{document}/delete", "admin"),
    Step("unanswered", "GET", "/web/unanswered"),
    # questions asked by Fecon's members: its chairs', the district's and admins' (a sibling's chair: 403)
    Step("unanswered new entry", "GET", "/web/unanswered/new?ids={question2}", "editors"),
    Step("unanswered dismiss", "POST", "/web/unanswered/dismiss", "editors", (("ids", "{question2}"),)),
    Step("stats", "GET", "/web/stats?days=7"),
    Step("stats chart", "GET", "/web/stats/chart/requests.svg?days=7"),
    Step("sessions", "GET", "/web/sessions", "admin"),
    Step("revoke", "POST", "/web/sessions/{other_session}/revoke", "admin"),
    # hardship requests of NTL-0103 (Fecon): reviewed by Fecon's chairs, the district's (its parent) and admins
    Step("requests", "GET", "/web/requests?status=submitted"),
    Step("request", "GET", "/web/requests/{approve}", "editors"),
    Step("request photo", "GET", "/web/requests/{approve}/photos/0", "editors"),
    Step("requests export", "GET", "/web/requests/export?unit=NTL-FECON&from=2021-01-01&to=2021-12-31", "editors"),
    Step("ask", "POST", "/web/requests/{ask}/ask", "editors", (("question", "Xin gửi giấy ra viện"),)),
    Step("approve form", "POST", "/web/requests/{approve}/approve", "editors", (("amount", "1 triệu"),), ok=200),
    Step("approve", "POST", "/web/requests/{approve}/approve", "editors", (("amount", "1000000"), ("confirm", "yes"))),
    Step("reject", "POST", "/web/requests/{reject}/reject", "editors", (("reason", "Không đủ điều kiện"),)),
    Step("forward", "POST", "/web/requests/{forward}/forward", "editors"),
    # announcements to Fecon: its chairs, the district's and admins
    Step("announcements", "GET", "/web/announcements"),
    Step("announce form", "GET", "/web/announcements/new"),
    Step("announce edit", "POST", "/web/announcements/new", data=(("text", "Họp công đoàn chiều thứ Sáu."),),
         ok=200),
    Step("announce preview", "POST", "/web/announcements/preview", "editors",
         (("text", "Họp công đoàn chiều thứ Sáu."), ("unit", "NTL-FECON"), ("draft_id", "ab" * 16)), ok=200),
    Step("announce send", "POST", "/web/announcements/send", "editors",
         (("text", "Họp công đoàn chiều thứ Sáu."), ("unit", "NTL-FECON"), ("draft_id", "ab" * 16))),
    Step("announce report", "GET", "/web/announcements/{broadcast}", "editors"),
    Step("announce cancel", "POST", "/web/announcements/{broadcast}/cancel", "editors"),
    Step("logout", "POST", "/web/logout"),
]
READ_ONLY_POSTS = ("preview", "logout", "approve form", "announce edit", "announce preview", "roster preview",
                   "knowledge import preview", "document upload")


MEMBER_CHAT = "access-703"
ACTIONS = ("ask", "approve", "reject", "forward")  # one request of NTL-0103 for each


async def web_actor_of(app, member_code: str) -> ChatActor:
    return ChatActor("web", member_code, bot_id="web", identity=await identity_of(app, member_code))


def expected(role: str, step: Step) -> int:
    if role in ("anonymous", "member"):  # no live session: pages send to sign-in, actions are refused
        return 303 if step.method == "GET" else 403
    if step.hidden and role not in READERS:
        return step.hidden
    if step.who == "admin" and role != "admin" or step.who == "editors" and role not in EDITORS:
        return 403
    return step.success


async def snapshot(app) -> tuple:
    await app.core.unanswered.flush()  # what the log holds back is written before it is read (a preview logs nothing)
    async with app.db.sessions() as session:
        entries = [e.model_dump(mode="json") for e in await KnowledgeRepository(session).all()]
        revisions = len(await KnowledgeEditRepository(session).revisions(limit=100_000))
        sessions = [(s.id, s.revoked) for s in await WebRepository(session).sessions(datetime(2000, 1, 1, tzinfo=UTC))]
        requests = [(r.id, r.status, len(r.history)) for r in await HardshipRepository(session).search(None)]
        top = await UnitRepository(session).by_code("HN")
        members = [(m.member_code, m.full_name, m.unit.id) for m in await MemberRepository(session).in_subtree(top)]
        codes = await session.scalar(select(func.count()).select_from(LinkCodeRow))
        documents = [d.id for d in await DocumentRepository(session).documents()]
        unanswered = sorted(q.id for q in await UnansweredRepository(session).most_frequent(1000))
    told = await OutboxRepository(app.db).pending_for("test", MEMBER_CHAT)  # notices, announcements
    return entries, revisions, sessions, requests, told, members, codes, documents, unanswered


async def setup_world(console) -> dict:
    app = console.app
    service = KnowledgeService(app.db, clock=app.core.clock)
    admin = await actor_of(app, "DEMO-ADMIN")
    await service.save(admin, ENTRY, owner="NTL-FECON")
    await service.save(admin, {**ENTRY, "summary": "Giảm 12% tại căng tin."}, entry_id=ENTRY["id"])
    async with app.db.sessions() as session:
        revision = (await KnowledgeEditRepository(session).revisions(ENTRY["id"]))[0].id
    chat = await member_chat(app, MEMBER_CHAT, "NTL-0103")
    requests = {name: await submitted(app, chat, photos=(("test", "photo-1"),)) for name in ACTIONS}

    async def download(file_id: str) -> tuple[bytes, str]:
        return b"\x89PNG " + file_id.encode(), "image/png"

    console.console.files["test"] = download
    scheduled = await app.core.broadcasts.service.queue(
        await web_actor_of(app, "DEMO-ADMIN"), Draft("Đại hội công đoàn sáng thứ Hai.", "NTL-FECON"),
        app.core.clock() + timedelta(days=2))
    other = await console.signed_in("NTL-0301")  # somebody else's session, for the admin to revoke
    async with app.db.sessions() as session:
        other_session = max(s.id for s in await WebRepository(session).sessions(datetime(2000, 1, 1, tzinfo=UTC)))
    assert other is not None
    async with app.db.sessions.begin() as session:
        document, _ = await DocumentRepository(session).upsert(
            build_document("web/thu-nghiem.txt", ["Tài liệu thử", "Một câu thử nghiệm về công đoàn."]))
        questions = UnansweredRepository(session)
        fecon = await UnitRepository(session).by_code("NTL-FECON")
        for text in ("căng tin fecon mở cửa mấy giờ", "thư viện sách nói ở đâu"):
            await questions.record(text, text, "test", "unsure", 0.1, app.core.clock(), fecon.id)
        question, question2 = sorted(q.id for q in await questions.most_frequent())
    return {"revision": revision, "other_session": other_session, "broadcast": scheduled.broadcast_id,
            **{name: r.id for name, r in requests.items()}, "document": document, "question": question,
            "question2": question2}


async def browser_for(console, role: str):
    code = ROLES[role]
    if code is None:
        return console.browser()
    if role == "member":  # a member cannot get a link (test_signin); a session of theirs is still worth nothing
        app = console.app
        async with app.db.sessions.begin() as session:
            member = await MemberRepository(session).by_code(code)
            cookie, _ = await WebRepository(session).open_session(member.id, app.core.clock())
        browser = console.browser()
        browser.http.cookie_jar.update_cookies({COOKIE: cookie}, URL(console.url))
        return browser
    return await console.signed_in(code)


@pytest.mark.parametrize("role", list(ROLES))
async def test_every_page_and_action_by_role(console, role):
    ids = await setup_world(console)
    browser = await browser_for(console, role)
    results = {}
    for step in STEPS:
        path = step.path.format(**ids)
        data = {k: v.format(**ids) for k, v in step.data}
        want = expected(role, step)
        before = await snapshot(console.app)
        if step.method == "POST" and want != 403:  # a form without its CSRF token, or a wrong one: refused
            for bad in ("", "forged-token"):
                status, _ = await browser.post(path, data, csrf=bad)
                assert status == 403, (step.name, bad)
                assert await snapshot(console.app) == before, (step.name, "csrf", bad)
        if step.method == "GET":
            status, body = await browser.get(path)
        else:
            status, body = await browser.post(path, data)
        results[step.name] = status
        if status == 303 and want == 303 and role in ("anonymous", "member"):
            assert body == "/web/signin", step.name
        if step.name == "list" and status == 200:  # Fecon's entry: for its readers only
            assert (ENTRY["id"] in body) == (role in READERS), (step.name, role)
        if want in (403, 404) or (role in ("anonymous", "member")):
            assert await snapshot(console.app) == before, step.name
        elif step.method == "POST" and step.name not in READ_ONLY_POSTS:
            assert await snapshot(console.app) != before, step.name
    assert results == {s.name: expected(role, s) for s in STEPS}
