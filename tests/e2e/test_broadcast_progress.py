"""A chair's broadcast through the running bot: progress while it runs and the final report.

Telegram: one progress message, edited in place as the delivery goes on. Zalo (no editing in its Bot API):
a progress message at 25/50/75 %. Both: the final report as a new message, so the chair is notified.
Delivery is slowed down (a few messages per second) and the progress job runs often, so that the broadcast
spans several progress rounds.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from pydantic import SecretStr

from storage.membership import AccountRepository, MemberData, MemberRepository, UnitRepository
from tests.e2e.conftest import TELEGRAM_TOKEN, ZALO_TOKEN, code_for, eventually, running_bot
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.zalo_server import FakeZalo

MEMBERS = 12
SLOW = {"delivery_rate_telegram": 8.0, "delivery_rate_zalo": 8.0, "progress_interval": 0.3}


async def add_members(app, channel: str, bot_id: str, chat_ids: list[str]) -> None:
    """``len(chat_ids)`` invented members of the Fecon union's first group, each linked on ``channel``."""
    now = app.core.clock()
    async with app.db.sessions.begin() as session:
        unit = await UnitRepository(session).by_code("NTL-FECON-T1")
        members = MemberRepository(session)
        await members.upsert_many([MemberData(f"E2E-{i:04d}", f"Đoàn viên thử {i}", unit.id)
                                   for i in range(len(chat_ids))], now)
        accounts = AccountRepository(session)
        for i, chat_id in enumerate(chat_ids):
            member = await members.by_code(f"E2E-{i:04d}")
            await accounts.link(bot_id, channel, chat_id, chat_id, member.id, None, now)


@asynccontextmanager
async def slow_bot(settings, clock, channel: str):
    """The whole bot on one fake messenger, delivering a few messages per second."""
    fake_type, token = {"telegram": (FakeTelegram, TELEGRAM_TOKEN), "zalo": (FakeZalo, ZALO_TOKEN)}[channel]
    async with fake_type.running(token=token) as fake:
        overrides = {f"{channel}_token": SecretStr(token), f"{channel}_api_url": fake.base_url, **SLOW}
        async with running_bot(settings, clock, **overrides) as (app, _server):
            yield fake, app


async def test_telegram_progress_is_one_message_edited_while_the_broadcast_runs(settings, clock):
    async with slow_bot(settings, clock, "telegram") as (fake, app):
        chair = fake.user(5001)
        await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")
        users = [fake.user(5100 + i) for i in range(MEMBERS)]
        await add_members(app, "telegram", TELEGRAM_TOKEN.split(":")[0], [str(u.id) for u in users])
        await chair.says("/thongbao")
        await chair.says("Mời đoàn viên tổ Thi công 1 họp lúc 14h thứ Sáu")
        await chair.presses("bc:unit:NTL-FECON-T1")
        await chair.presses("bc:now")

        report = await eventually(lambda: next((m for m in chair.chat.messages if "Kết quả" in (m["text"] or "")),
                                               None), timeout=30)
        assert all(len(u.chat.messages) == 1 for u in users)
        sent = [p["text"] for p in fake.params_of("sendMessage")
                if p.get("chat_id") == chair.id and "đã xử lý" in p["text"]]
        assert len(sent) == 1, sent  # one progress message, not one per step ...
        assert "đang gửi" in sent[0]  # ... sent while the broadcast ran ...
        [live] = [m for m in chair.chat.messages if "đã xử lý" in (m["text"] or "")]
        await eventually(lambda: "100%" in live["text"])  # ... and edited up to the end
        assert live["edited"] and f"{MEMBERS}/{MEMBERS}" in live["text"] and "xong" in live["text"]
        assert [p for p in fake.params_of("editMessageText") if p.get("message_id") == live["message_id"]]
        assert f"đã gửi {MEMBERS}" in report["text"] and not report["edited"]


async def test_zalo_progress_comes_as_periodic_messages(settings, clock):
    async with slow_bot(settings, clock, "zalo") as (fake, app):
        chair = fake.user("c0ffee00c0ffee00")
        await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")
        users = [fake.user(f"{0xabc000 + i:016x}") for i in range(MEMBERS)]
        await add_members(app, "zalo", str(fake.bot_id), [u.id for u in users])
        await chair.says("/thongbao")
        await chair.says("Mời đoàn viên tổ Thi công 1 họp lúc 14h thứ Sáu")
        await chair.says("2")  # the numbered audience: "Tổ công đoàn Thi công 1"
        await chair.says("1")  # "Gửi ngay"
        start = len(chair.replies)

        await eventually(lambda: any("Kết quả" in (m.text or "") for m in chair.replies), timeout=30)
        await asyncio.sleep(0.5)  # nothing else may follow the report
        texts = [m.text for m in chair.replies[start:]]
        steps = [t for t in texts if "đã xử lý" in t]
        assert 1 <= len(steps) <= 3 and all("%" in t for t in steps), texts
        assert "Kết quả" in texts[-1] and f"đã gửi {MEMBERS}" in texts[-1]
        assert all(len(u.replies) == 1 for u in users)
