"""Linking chat accounts with one-time codes, /toi, unlinking, and the authorization matrix."""

import re
from datetime import timedelta

import pytest

from handlers.types import Incoming
from services.authz import Action, authorize
from storage.membership import AccountRepository, AuditRepository, MemberRepository, UnitRepository

CODE_RE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")


class Account:
    def __init__(self, app, user: str, channel: str = "telegram") -> None:
        self.app, self.user, self.channel = app, user, channel
        self.replies = []

    async def says(self, text: str) -> str:
        self.replies = await self.app.core.handle(
            Incoming(channel=self.channel, chat_id=self.user, user_id=self.user, text=text))
        return "\n".join(r.text for r in self.replies)

    async def presses(self, action: str) -> str:
        self.replies = await self.app.core.handle(
            Incoming(channel=self.channel, chat_id=self.user, user_id=self.user, action=action))
        return "\n".join(r.text for r in self.replies)


async def issue(app, member_code: str) -> str:
    """What `unionbot members codes` does: a code for one member."""
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code(member_code)
        return await AccountRepository(session).issue_code(member.id, None, app.core.clock(), timedelta(days=14))


async def audit(app):
    async with app.db.sessions() as session:
        return await AuditRepository(session).recent()


async def linked(app, member_code: str, user: str, channel: str = "telegram") -> Account:
    account = Account(app, user, channel)
    assert "Đã liên kết" in await account.says(f"/lienket {await issue(app, member_code)}")
    return account


async def test_start_asks_for_the_code_and_the_code_links_the_account(app):
    lan = Account(app, "501")
    reply = await lan.says("/start")
    assert "mã liên kết" in reply
    code = await issue(app, "NTL-0103")
    reply = await lan.says(code[:4].lower() + " " + code[4:].lower())  # typed loosely, after /start
    assert "Nguyễn Văn An" in reply and "Tổ công đoàn Thi công 1" in reply
    me = await lan.says("/toi")
    assert "NTL-0103" in me and "Telegram" in me
    assert [e.action for e in await audit(app)][0] == "link_account"


async def test_a_question_while_waiting_for_the_code_is_still_answered(app):
    lan = Account(app, "502")
    await lan.says("/start")
    assert "20%" in await lan.says("gạo kim sáng giảm bao nhiêu")


async def test_expired_code(app, clock):
    code = await issue(app, "NTL-0104")
    clock.now += timedelta(days=15)
    assert "hết hạn" in await Account(app, "503").says(f"/lienket {code}")


async def test_a_code_works_once(app):
    code = await issue(app, "NTL-0104")
    assert "Đã liên kết" in await Account(app, "504").says(f"/lienket {code}")
    assert "đã được dùng" in await Account(app, "505").says(f"/lienket {code}")


async def test_a_new_code_replaces_the_old_one(app):
    old = await issue(app, "NTL-0104")
    new = await issue(app, "NTL-0104")
    assert "không đúng" in await Account(app, "506").says(f"/lienket {old}")
    assert "Đã liên kết" in await Account(app, "506").says(f"/lienket {new}")


async def test_five_wrong_codes_lock_the_account_for_fifteen_minutes(app, clock):
    code = await issue(app, "NTL-0105")
    guesser = Account(app, "507")
    for _ in range(4):
        assert "không đúng" in await guesser.says("/lienket AAAA-BBBB")
    assert "tạm bị khóa" in await guesser.says("/lienket AAAA-BBBB")
    assert "tạm bị khóa" in await guesser.says(f"/lienket {code}")  # even the right code, while locked
    assert "tạm bị khóa" not in await Account(app, "508").says("/lienket AAAA-BBBB")  # other accounts unaffected
    clock.now += timedelta(minutes=16)
    assert "Đã liên kết" in await guesser.says(f"/lienket {code}")


async def test_a_typed_phone_number_never_links(app):
    account = Account(app, "509")
    assert "không đúng" in await account.says("/lienket 0900000103")
    assert "chưa liên kết" in await account.says("/toi")


async def test_one_member_links_telegram_and_zalo(app):
    await linked(app, "NTL-0202", "601", "telegram")
    zalo = await linked(app, "NTL-0202", "a1b2c3d4e5f6", "zalo")
    me = await zalo.says("/toi")
    assert "Telegram" in me and "Zalo" in me


async def test_unlink_after_confirmation(app):
    account = await linked(app, "NTL-0302", "602")
    await account.says("/huylienket")
    assert [c.action for c in account.replies[0].choices] == ["member:unlink_yes", "member:unlink_no"]
    assert "giữ nguyên" in await account.presses("member:unlink_no")
    assert "Hồ sơ đoàn viên" in await account.says("/toi")
    assert "Đã hủy liên kết" in await account.presses("member:unlink_yes")
    assert "chưa liên kết" in await account.says("/toi")
    assert [e.action for e in await audit(app)][0] == "unlink_account"


async def test_a_chair_issues_a_code_in_chat_and_the_member_uses_it(app):
    chair = await linked(app, "NTL-0101", "701")
    reply = await chair.says("/capma NTL-0104")
    code = CODE_RE.search(reply).group(0)
    assert "Đã liên kết" in await Account(app, "702").says(f"/lienket {code}")
    entry = next(e for e in await audit(app) if e.action == "issue_link_code")
    assert entry.target == "NTL-0104" and entry.actor == "telegram:701"


# ----- the authorization matrix -------------------------------------------------------------------
PRINCIPALS = {
    "unlinked": None,
    "member": "NTL-0103",  # member of a union group inside NTL-FECON
    "chair of the unit": "NTL-0101",  # chair of NTL-FECON
    "chair of a sibling unit": "NTL-0201",  # chair of NTL-JWM
    "chair of the parent unit": "NTL-0001",  # chair of the NTL district union
    "admin": "DEMO-ADMIN",
}
ALLOWED = {"chair of the unit", "chair of the parent unit", "admin"}
REASON = {"unlinked": "authz.not_linked", "member": "authz.members_only", "chair of a sibling unit": "authz.other_unit"}


async def _identity(app, member_code):
    if member_code is None:
        return None
    async with app.db.sessions() as session:
        member = await MemberRepository(session).by_code(member_code)
        from storage.membership import Identity

        return Identity(member, await MemberRepository(session).grants(member.id))


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("principal", list(PRINCIPALS))
async def test_authorization_matrix(app, principal, action):
    identity = await _identity(app, PRINCIPALS[principal])
    async with app.db.sessions() as session:
        unit = await UnitRepository(session).by_code("NTL-FECON")
        child = await UnitRepository(session).by_code("NTL-FECON-T1")
    for target in (unit, child):  # a chair acts on the whole subtree
        decision = authorize(identity, action, target)
        assert decision.allowed is (principal in ALLOWED)
        assert decision.reason == ("" if decision.allowed else REASON[principal])
        if not decision.allowed:
            assert app.translator(decision.reason)  # every denial has a clear message


@pytest.mark.parametrize("principal", list(PRINCIPALS))
async def test_privileged_chat_actions_follow_the_matrix_and_change_nothing_when_denied(app, principal):
    user = f"8{list(PRINCIPALS).index(principal)}"
    account = (Account(app, user) if PRINCIPALS[principal] is None
               else await linked(app, PRINCIPALS[principal], user))
    existing = await issue(app, "NTL-0104")  # a code handed out before: must keep working if nothing changed
    before = await audit(app)

    issued = await account.says("/capma NTL-0104")
    summary = await account.says("/donvi NTL-FECON")
    if principal in ALLOWED:
        assert CODE_RE.search(issued) and "Đoàn viên đang sinh hoạt: 5" in summary
        assert [e.action for e in (await audit(app))[:2]] == ["view_members", "issue_link_code"]
        return
    message = app.translator(REASON[principal])
    assert issued == message and summary == message
    assert not CODE_RE.search(issued)
    assert await audit(app) == before
    assert "Đã liên kết" in await Account(app, "899").says(f"/lienket {existing}")


async def test_the_waiting_for_a_code_state_survives_a_restart(app, settings, clock):
    from bot.app import build_app

    lan = Account(app, "990")
    await lan.says("/start")
    code = await issue(app, "NTL-0105")
    await app.close()
    restarted = await build_app(settings, clock=clock)  # same database, new process state
    try:
        reply = await Account(restarted, "990").says(code)  # a bare code: only accepted while the bot waits for it
        assert "Vũ Minh Đức" in reply
    finally:
        await restarted.close()


# ----- the matrix in a group chat: nobody, whatever their role, acts or sees anything personal there ---------------
GROUP_CHAT = "-100999"
PRIVILEGED_AND_PERSONAL = ["/capma NTL-0104", "/donvi NTL-FECON", "/duyet", "/thongbao", "/toi", "/hoso", "/hotro",
                           "/huylienket", "/nhacnho", "/thongbao_ketqua", "/thongbao_huy 1"]


@pytest.mark.parametrize("principal", list(PRINCIPALS))
async def test_in_a_group_every_principal_is_sent_to_the_private_chat_and_nothing_changes(app, principal):
    user = f"7{list(PRINCIPALS).index(principal)}"
    if PRINCIPALS[principal] is not None:
        await linked(app, PRINCIPALS[principal], user)
    existing = await issue(app, "NTL-0104")
    before = await audit(app)
    private = app.translator("group.private")
    for command in [*PRIVILEGED_AND_PERSONAL, f"/lienket {existing}"]:
        replies = await app.core.handle(Incoming(channel="telegram", chat_id=GROUP_CHAT, user_id=user, text=command,
                                                 is_group=True))
        reply = "\n".join(r.text for r in replies)
        assert reply == private, (principal, command)
        assert not CODE_RE.search(reply) and "0900000" not in reply
    for action in ["member:unlink_yes", "req:approve:1", "bc:now", "hs:submit"]:  # forged or another's buttons
        replies = await app.core.handle(Incoming(channel="telegram", chat_id=GROUP_CHAT, user_id=user, action=action,
                                                 is_group=True))
        assert [r.text for r in replies] == [app.translator("group.not_for_you")]
    assert await audit(app) == before
    assert "Đã liên kết" in await Account(app, "898").says(f"/lienket {existing}")  # the code was not burnt
