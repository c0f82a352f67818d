"""Knowledge in the console: edits reach the running bot without a restart, each is a revision with rollback,
validation is the YAML loader's, retire and restore, search, the preview answers as the chat does."""

from __future__ import annotations

import asyncio
import html
import os
import re
from datetime import timedelta

import pytest

from bot.app import build_app
from services.knowledge import KnowledgeService, KnowledgeWatcher, apply_to_core
from storage.knowledge import KnowledgeEditRepository
from storage.membership import AccountRepository, MemberRepository
from tests.conftest import Member
from tests.web.conftest import actor_of, form_fields


def errors_of(page: str) -> list[str]:
    box = page.split('id="errors"')[1].split("</div>")[0]
    return [html.unescape(e) for e in re.findall(r"<li>(.*?)</li>", box, re.S)]


async def edit(browser, entry_id: str, **changes) -> tuple[int, str]:
    status, page = await browser.get(f"/web/knowledge/{entry_id}/edit")
    assert status == 200, page
    return await browser.post(f"/web/knowledge/{entry_id}/edit", {**form_fields(page), **changes})


async def test_an_edit_reaches_the_bot_and_a_rollback_undoes_it(console, member):
    before = await member.says("sữa hà lan")
    chair = await console.signed_in("NTL-0001")  # the entry's unit: "LĐLĐ quận Nam Từ Liêm"
    new_summary = "Thỏa thuận mới: 5 mặt hàng sữa được giảm 35% cho đoàn viên có thẻ."
    status, location = await edit(chair, "sua-ha-lan", summary=new_summary)
    assert (status, location) == (303, "/web/knowledge/sua-ha-lan")
    assert new_summary in await member.says("sữa hà lan")  # the same running core, no restart

    status, page = await chair.get("/web/knowledge/sua-ha-lan")
    assert "web:NTL-0001" in page and new_summary in page
    async with console.app.db.sessions() as session:
        revision = (await KnowledgeEditRepository(session).revisions("sua-ha-lan"))[0]
    assert (revision.action, revision.actor) == ("edit", "web:NTL-0001")
    assert revision.after["summary"] == new_summary and revision.before["summary"] != new_summary
    status, _ = await chair.post(f"/web/revisions/{revision.id}/rollback")
    assert status == 303
    assert await member.says("sữa hà lan") == before


async def test_validation_is_the_loaders_and_nothing_is_saved(console, member):
    before = await member.says("sữa hà lan")
    chair = await console.signed_in("NTL-0001")
    status, page = await edit(chair, "sua-ha-lan", summary="", as_of="31/12/2020", block="partner: X\nrebate: 5")
    assert status == 422
    shown = errors_of(page)  # in Vietnamese, each naming the form's field by its label
    assert len(shown) >= 3 and not any(re.search(r"field|should|Input|String", e) for e in shown), shown
    assert any(e.startswith("Tóm tắt: chưa điền") for e in shown), shown
    assert any(e.startswith("Thông tin tính đến ngày: ") and "ngày" in e.split(": ", 1)[1] for e in shown), shown
    assert any(e.startswith("Thông tin riêng") and "“rebate”" in e for e in shown), shown
    assert await member.says("sữa hà lan") == before
    async with console.app.db.sessions() as session:
        assert await KnowledgeEditRepository(session).revisions("sua-ha-lan") == []


async def test_form_errors_are_vietnamese_with_the_fields_labels_and_the_edit_page_keeps_its_title(console):
    """The user trial's errors: an id written as a name, a date typed as on paper, a name cleared on an edit."""
    chair = await console.signed_in("NTL-0001")
    status, page = await chair.get("/web/knowledge/new")
    new = {**form_fields(page), "id": "Sữa Hà Lan mới", "name": "Sữa mới", "summary": "Giảm giá sữa.",
           "as_of": "2026", "source_document": "x.txt", "source_title": "X", "block": "partner: A\ndiscount: 5%"}
    status, page = await chair.post("/web/knowledge/new", new)
    assert status == 422
    shown = errors_of(page)
    assert not any(re.search(r"field|should|Input|String|pattern", e) for e in shown), shown
    assert any(e.startswith("Mã mục: ") and "gạch ngang" in e for e in shown), shown
    assert any(e.startswith("Thông tin tính đến ngày: ") for e in shown), shown

    status, page = await edit(chair, "sua-ha-lan", name="")
    assert status == 422 and errors_of(page) == ["Tên: chưa điền."]
    assert "<h1>Sữa Hà Lan</h1>" in page and "<title>Sữa Hà Lan ·" in page  # the entry's title, not an empty one


async def test_the_entry_page_shows_labelled_vietnamese_fields_not_yaml(console):
    chair = await console.signed_in("NTL-0001")
    status, page = await chair.get("/web/knowledge/sua-ha-lan")
    assert status == 200
    fields = page[page.index('id="fields"'):]
    fields = fields[:fields.index("</table>")]
    rows = {html.unescape(re.sub(r"<[^>]+>", "", th)).strip(): html.unescape(re.sub(r"<[^>]+>", " ", td)).strip()
            for th, td in re.findall(r"<th[^>]*>(.*?)</th>\s*<td[^>]*>(.*?)</td>", fields, re.S)}
    assert rows["Loại"] == "Ưu đãi" and rows["Thông tin tính đến ngày"] == "31/12/2020"
    assert rows["Đối tác"] == "Công ty cổ phần Sữa Hà Lan" and "5 mặt hàng sữa" in rows["Sản phẩm, dịch vụ"]
    assert rows["Mức giảm thấp nhất (%)"] == "30" and "Công ty Sữa Hà Lan" in rows["Tên gọi khác"]
    assert rows["Tài liệu nguồn"] == "002_ca4650a07216ce53.txt"
    for key in ("kind:", "aliases:", "as_of", "partner", "discount_min_pct", "source:", "how_to_use"):
        assert key not in page[page.index("<main>"):page.index('id="revisions"') if 'id="revisions"' in page
                                else None], key
    status, where = await edit(chair, "sua-ha-lan", summary="Giảm 35% năm mặt hàng sữa.")
    assert status == 303, where
    _, page = await chair.get("/web/knowledge/sua-ha-lan")
    changed = page[page.index('id="revisions"'):]
    assert "<summary>Tóm tắt</summary>" in changed and "summary:" not in changed  # a revision names its fields too


async def test_add_retire_and_restore_an_entry(console, member):
    chair = await console.signed_in("NTL-0101")
    # the entry belongs to Fecon: the bot answers from it to Fecon's members (tests/web/test_knowledge_units.py)
    async with console.app.db.sessions.begin() as session:
        fecon_member = await MemberRepository(session).by_code("NTL-0103")
        code = await AccountRepository(session).issue_code(fecon_member.id, None, console.app.core.clock(),
                                                           timedelta(days=1))
    assert "Đã liên kết" in await member.says(f"/lienket {code}")
    status, page = await chair.get("/web/knowledge/new?kind=programme")
    fields = {**form_fields(page), "id": "ho-tro-fecon-mua-lu", "name": "Hỗ trợ đoàn viên Fecon vùng lũ",
              "aliases": "hỗ trợ vùng lũ", "summary": "Mỗi đoàn viên Fecon ở vùng lũ được hỗ trợ 700.000 đồng.",
              "as_of": "2021-03-01", "source_document": "thong-bao-fecon.txt", "source_title": "Thông báo",
              "block": "category: other", "owner": "NTL-FECON"}
    assert fields["kind"] == "programme"
    status, location = await chair.post("/web/knowledge/new", fields)
    assert (status, location) == (303, "/web/knowledge/ho-tro-fecon-mua-lu"), location
    assert "700.000" in await member.says("hỗ trợ đoàn viên fecon vùng lũ")

    status, _ = await chair.post("/web/knowledge/ho-tro-fecon-mua-lu/retire")
    assert status == 303
    assert "700.000" not in await member.says("hỗ trợ đoàn viên fecon vùng lũ")
    status, page = await chair.get("/web/knowledge")
    assert "Hỗ trợ đoàn viên Fecon vùng lũ" in page  # in the list of retired entries, with a restore button
    async with console.app.db.sessions() as session:
        retired = (await KnowledgeEditRepository(session).revisions("ho-tro-fecon-mua-lu"))[0]
    assert retired.action == "retire" and f"/web/revisions/{retired.id}/rollback" in page
    status, _ = await chair.post(f"/web/revisions/{retired.id}/rollback")
    assert status == 303
    assert "700.000" in await member.says("hỗ trợ đoàn viên fecon vùng lũ")


async def test_search_and_kind_filter(console):
    chair = await console.signed_in("NTL-0001")
    _, page = await chair.get("/web/knowledge?q=sua+ha+lan")  # accents optional
    assert "/web/knowledge/sua-ha-lan" in page and "/web/knowledge/kim-sang-gao" not in page
    _, page = await chair.get("/web/knowledge?kind=cluster")
    assert "/web/knowledge/sua-ha-lan" not in page and "<td>Cụm thi đua</td>" in page and "<td>Ưu đãi</td>" not in page


async def test_the_preview_answers_as_the_chat_does(console, app):
    chair = await console.signed_in("NTL-0101")
    expected = await Member(app, user="999").says("gạo kim sáng giảm bao nhiêu")
    status, page = await chair.post("/web/preview", {"q": "gạo kim sáng giảm bao nhiêu"})
    assert status == 200
    assert expected.splitlines()[0].replace('"', "&#34;") in page


async def test_a_change_by_another_process_is_picked_up(console, app, member):
    """Another worker (or the CLI) changes the base: this process's watcher sees the version move and reloads."""
    other = KnowledgeService(app.db, clock=app.core.clock)  # no in-process reload: only the version row moves
    view, _ = await other.entry(await actor_of(app, "DEMO-ADMIN"), "sua-ha-lan")
    data = view.entry.model_dump(mode="json", exclude_none=True)
    await other.save(await actor_of(app, "DEMO-ADMIN"), {**data, "summary": "Bản tóm tắt từ tiến trình khác."},
                     entry_id="sua-ha-lan")
    assert "Bản tóm tắt từ tiến trình khác." not in await member.says("sữa hà lan")
    watcher = KnowledgeWatcher(app.db, lambda entries: apply_to_core(app.core, entries))
    watcher.version = 0
    assert await watcher.check()
    assert "Bản tóm tắt từ tiến trình khác." in await member.says("sữa hà lan")


@pytest.mark.skipif(not os.environ.get("UNIONBOT_TEST_DATABASE_URL"), reason="UNIONBOT_TEST_DATABASE_URL not set")
async def test_two_workers_on_postgresql_answer_the_new_text_within_seconds(settings, clock, pg_database_url):
    shared = settings.replace(database_url=pg_database_url)
    first = await build_app(shared, clock=clock)
    second = await build_app(shared, clock=clock)
    watchers = [KnowledgeWatcher(a.db, lambda entries, a=a: apply_to_core(a.core, entries), every=0.5)
                for a in (first, second)]
    tasks = []
    try:
        for w in watchers:
            await w.check()
            tasks.append(asyncio.create_task(w.run()))
        service = KnowledgeService(first.db, clock=clock)
        admin = await actor_of(first, "DEMO-ADMIN")
        view, _ = await service.entry(admin, "sua-ha-lan")
        data = view.entry.model_dump(mode="json", exclude_none=True)
        await service.save(admin, {**data, "summary": "Tóm tắt mới cho mọi tiến trình."}, entry_id="sua-ha-lan")
        loop = asyncio.get_running_loop()
        started = loop.time()
        pending = {0: Member(first), 1: Member(second)}
        while pending and loop.time() - started < 5:
            for i, m in list(pending.items()):
                if "Tóm tắt mới cho mọi tiến trình." in await m.says("sữa hà lan"):
                    del pending[i]
            await asyncio.sleep(0.2)
        assert not pending, "a worker still answers the old text after 5 s"
    finally:
        for w in watchers:
            w.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await first.close()
        await second.close()


async def test_unionbot_kb_load_is_picked_up_by_running_processes(app):
    from bot.app import load_knowledge_files

    watcher = KnowledgeWatcher(app.db, lambda entries: apply_to_core(app.core, entries))
    await watcher.check()
    assert not await watcher.check()  # nothing changed
    await load_knowledge_files(app.db, app.settings)  # what `unionbot kb load` does
    assert await watcher.check()
