"""Issue 16: a knowledge change made in the web console reaches every bot process on PostgreSQL within 5 s —
two real ``python -m bot run`` processes, each polling its own fake Telegram, one database, the knowledge watcher
at its default settings (nothing about it is configured here)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from storage.db import Database
from storage.membership import AccountRepository, MemberRepository
from tests.e2e.conftest import TELEGRAM_TOKEN, free_port
from tests.e2e.test_faults import ended, start_bot
from tests.e2e.test_webhook_integrity import upgraded, wait_for
from tests.fakes.telegram_server import FakeTelegram
from tests.web.conftest import Browser, form_fields

NEW = "Đoàn viên mua sữa Hà Lan được giảm 35% (tóm tắt sửa trên trang quản trị)."
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)(/web/login/[A-Za-z0-9_-]+)")


async def linking_code(url: str, member_code: str) -> str:
    db = Database(url)
    try:
        async with db.sessions.begin() as session:
            member = await MemberRepository(session).by_code(member_code)
            return await AccountRepository(session).issue_code(member.id, None, datetime.now(UTC),
                                                               timedelta(days=1))
    finally:
        await db.dispose()


async def test_an_edit_in_the_console_reaches_both_processes_within_5_seconds(tmp_path, model_cache,
                                                                              pg_database_url):
    await upgraded(pg_database_url)  # what `unionbot db upgrade` does before the workers start
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as first, \
            FakeTelegram.running(token=TELEGRAM_TOKEN) as second:
        procs = []
        try:
            for n, fake in enumerate((first, second)):
                port = free_port()
                env = {"database_url": pg_database_url, "telegram_token": TELEGRAM_TOKEN,
                       "telegram_api_url": fake.base_url, "telegram_mode": "polling", "web_port": str(port),
                       "web_base_url": f"http://127.0.0.1:{port}", "documents_dir": ""}
                folder = tmp_path / f"worker-{n}"
                folder.mkdir()
                procs.append(await start_bot(folder, model_cache, env))
                # one after the other: the first loads the demo data and trains the model cache the second uses
                await wait_for(lambda fake=fake, p=procs[-1]: fake.count("getUpdates") or p.returncode is not None,
                               300)
                assert procs[-1].returncode is None
            asker_1, asker_2 = first.user(801), second.user(802)
            old = []
            for asker in (asker_1, asker_2):
                await asker.says("sữa hà lan", timeout=30)
                old.append(asker.last_reply)
            assert all("Hà Lan" in text and NEW not in text for text in old), old

            # the admin signs in with the link the first process sends in chat, and edits the entry there
            admin = first.user(803)
            await admin.says(f"/lienket {await linking_code(pg_database_url, 'DEMO-ADMIN')}", timeout=30)
            await admin.says("/web", timeout=30)
            found = LINK.search(admin.last_reply or "")
            assert found, admin.last_reply
            browser = Browser(SimpleNamespace(url=found.group(1)))  # type: ignore[arg-type]
            try:
                token = found.group(2).rsplit("/", 1)[1]
                assert await browser.sign_in(token) == 303
                status, page = await browser.get("/web/knowledge/sua-ha-lan/edit")
                assert status == 200
                status, where = await browser.post("/web/knowledge/sua-ha-lan/edit",
                                                   {**form_fields(page), "summary": NEW})
                assert (status, where) == (303, "/web/knowledge/sua-ha-lan")
            finally:
                await browser.close()

            loop = asyncio.get_running_loop()
            changed = loop.time()
            waiting = {1: asker_1, 2: asker_2}
            took: dict[int, float] = {}
            while waiting and loop.time() - changed < 5:
                for n, asker in list(waiting.items()):
                    await asker.says("sữa hà lan", timeout=5)
                    if NEW in (asker.last_reply or ""):
                        took[n] = loop.time() - changed
                        del waiting[n]
                await asyncio.sleep(0.1)
            assert not waiting, f"process(es) {sorted(waiting)} still answer the old text 5 s after the edit"
            assert max(took.values()) < 5, took
        finally:
            results = [await ended(p) for p in procs]
    for code, err in results:
        assert code == 0, err[-3000:]
        assert "Traceback" not in err, err[-3000:]
