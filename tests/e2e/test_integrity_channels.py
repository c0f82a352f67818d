"""Issue 11 through the real adapters on the fake Telegram and Zalo: a double tap does one thing, groups see
nothing personal, buttons in a group are only for the user they were shown to."""

import re

from sqlalchemy import func, select

from storage.hardship import HardshipRepository
from storage.membership import AccountRepository, MemberRepository
from storage.models import OutboxRow
from tests.e2e.conftest import code_for, eventually, fill_hardship_on_telegram, fill_hardship_on_zalo

REF = re.compile(r"HT-\d{4}-\d{6}")
ALREADY = "đã gửi rồi"


async def requests_of(app, member_code: str):
    async with app.db.sessions() as session:
        member = await MemberRepository(session).by_code(member_code)
        return await HardshipRepository(session).of_member(member.id)


async def rows_to(app, chat_id: str, kind: str | None = None) -> int:
    """Outbox rows ever queued for a chat (sent or not)."""
    stmt = select(func.count()).select_from(OutboxRow).where(OutboxRow.chat_id == chat_id)
    if kind:
        stmt = stmt.where(OutboxRow.kind == kind)
    async with app.db.sessions() as session:
        return await session.scalar(stmt)


def press_update(fake, user, chat, data: str) -> dict:
    """A callback query for the button ``data`` on the bot's last keyboard in ``chat`` (like ``SimUser.presses``)."""
    entry = fake.keyboard_message(chat)
    query = {"id": str(next(fake._callback_ids)), "from": user.as_api(),
             "message": chat.api_messages[entry["message_id"]], "chat_instance": str(chat.id), "data": data}
    fake._callbacks[query["id"]] = {"chat_id": chat.id, "answered": False, "data": data}
    return {"callback_query": query}


async def test_telegram_two_submit_taps_at_once_send_one_request(telegram):
    app = telegram.app
    member, chair = telegram.user(301), telegram.user(302)
    await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")
    await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")
    await fill_hardship_on_telegram(member)
    before = len(member.replies)
    telegram.inject(press_update(telegram, member, member.chat, "hs:submit"))
    telegram.inject(press_update(telegram, member, member.chat, "hs:submit"))
    await eventually(lambda: len(member.replies) >= before + 2)
    await telegram.wait_idle(member.id)
    answers = [m["text"] for m in member.replies[before:]]
    [sent] = [a for a in answers if "Đã gửi đề nghị" in a]
    [repeat] = [a for a in answers if ALREADY in a]
    reference = REF.search(sent).group(0)
    assert reference in repeat
    assert [r.reference for r in await requests_of(app, "NTL-0103")] == [reference]
    assert await rows_to(app, "302", "notification") == 1


async def test_zalo_gui_typed_twice_sends_one_request(zalo):
    app = zalo.app
    member, chair = zalo.user("ab12ab12ab12ab12"), zalo.user("cd34cd34cd34cd34")
    await member.says(f"/lienket {await code_for(app, 'NTL-0104')}")
    await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")
    await fill_hardship_on_zalo(member)
    before = len(member.replies)
    zalo.inject(member.text_event("gửi"))
    zalo.inject(member.text_event("gửi"))
    await eventually(lambda: len(member.replies) >= before + 2)
    await zalo.wait_idle(member.chat_id)
    answers = [m.text for m in member.replies[before:]]
    assert sum("Đã gửi đề nghị" in a for a in answers) == 1 and sum(ALREADY in a for a in answers) == 1
    assert len(await requests_of(app, "NTL-0104")) == 1
    assert await rows_to(app, chair.chat_id, "notification") == 1


async def test_telegram_two_send_now_taps_queue_one_broadcast(telegram):
    app = telegram.app
    chair = telegram.user(311)
    members = [telegram.user(312 + i) for i in range(3)]
    await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")
    for user, code in zip(members, ["NTL-0103", "NTL-0104", "NTL-0105"], strict=True):
        await user.says(f"/lienket {await code_for(app, code)}")
    await chair.says("/thongbao")
    await chair.says("Họp công đoàn lúc 14h thứ Sáu tại hội trường tầng 2")
    await chair.presses("bc:unit:NTL-FECON")
    telegram.inject(press_update(telegram, chair, chair.chat, "bc:now"))
    telegram.inject(press_update(telegram, chair, chair.chat, "bc:now"))
    await eventually(lambda: any(ALREADY in (m["text"] or "") for m in chair.replies))
    for user in members:
        assert await rows_to(app, str(user.id), "broadcast") == 1


async def test_telegram_group_sees_nothing_personal_and_buttons_are_for_their_user(telegram):
    app = telegram.app
    member, other = telegram.user(321, "An"), telegram.user(322, "Huy")
    group = telegram.group(-100321, "Tổ công đoàn")
    await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")

    [reply] = await member.says_in(group, "/toi")
    assert "0900000103" not in reply["text"] and "Nguyễn Văn An" not in reply["text"]
    assert f"https://t.me/{telegram.me['username']}?start=toi" in reply["text"]

    code = await code_for(app, "NTL-0105")
    [refused] = await other.says_in(group, f"/lienket {code}")
    assert "nhắn riêng" in refused["text"]
    async with app.db.sessions() as session:
        assert await AccountRepository(session).member_of(str(telegram.me["id"]), "telegram", "322") is None
    await other.says(f"/lienket {code}")
    assert "Đã liên kết" in other.last_reply  # the code was not burnt in the group

    await member.says_in(group, "/help")
    [button] = [b["callback_data"] for row in telegram.keyboard_message(group)["reply_markup"]["inline_keyboard"]
                for b in row][:1]
    [denied] = await other.presses(button, chat=group)
    assert denied["text"] == app.translator("group.not_for_you")
    assert await rows_to(app, str(group.id)) == 0


async def test_zalo_group_is_told_to_message_privately_and_links_nothing(zalo):
    app = zalo.app
    member = zalo.user("ef56ef56ef56ef56", "An")
    await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")
    in_group = zalo.user("ef56ef56ef56ef56", "An", chat_id="9a9a9a9a9a9a9a9a", chat_type="GROUP")
    [reply] = await in_group.says("/toi")
    assert reply.text == app.translator("group.private") and "0900000103" not in reply.text
    stranger = zalo.user("0b0b0b0b0b0b0b0b", "Huy", chat_id="9a9a9a9a9a9a9a9a", chat_type="GROUP")
    code = await code_for(app, "NTL-0105")
    [refused] = await stranger.says(f"/lienket {code}")
    assert refused.text == app.translator("group.private")
    from storage.models import ChatAccountRow
    async with app.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatAccountRow).where(
            ChatAccountRow.user_id == "0b0b0b0b0b0b0b0b")) == 0
    [linked] = await zalo.user("0b0b0b0b0b0b0b0b", "Huy", chat_id="0b0b0b0b0b0b0b0b").says(f"/lienket {code}")
    assert "Đã liên kết" in linked.text  # privately, the code still works
    assert await rows_to(app, "9a9a9a9a9a9a9a9a") == 0
