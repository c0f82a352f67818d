"""Group chats through Core.handle (issue 11): nothing personal in front of the group, buttons only for their user,
a group never stored as a member's chat; and a chair's question never overwrites a member's form."""


import pytest

from handlers.types import Incoming
from storage.conversation import State, StateKey
from storage.hardship import HardshipRepository
from storage.membership import AccountRepository, MemberRepository
from storage.outbox import OutboxRepository
from tests.e2e.conftest import code_for
from tests.integration.test_hardship import ANSWERS, Person, as_member, inbox
from tests.integration.test_integrity import requests_of, to_confirm

GROUP = "-100777"
PHONES = ("0900000103", "0900000104", "0900000101")


@pytest.fixture
def app(app_on_both):
    """The whole app on SQLite and on PostgreSQL (tests/integration/conftest.py)."""
    return app_on_both


class InGroup(Person):
    """A user of a group chat: the chat is the group, the user is theirs."""

    def __init__(self, app, user: str, channel: str = "test", bot_username: str | None = None) -> None:
        super().__init__(app, user, channel)
        self.bot_username = bot_username

    def _event(self, **kw) -> Incoming:
        return Incoming(channel=self.channel, chat_id=GROUP, user_id=self.user, is_group=True,
                        bot_username=self.bot_username, **kw)


async def group_rows(app) -> int:
    """Outbox rows ever addressed to the group chat."""
    from sqlalchemy import func, select

    from storage.models import OutboxRow
    async with app.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.chat_id == GROUP))


async def test_personal_commands_in_a_group_answer_message_me_privately_and_disclose_nothing(app):
    await as_member(app, "NTL-0103", "m1")
    await as_member(app, "NTL-0101", "c1")
    member, chair = InGroup(app, "m1"), InGroup(app, "c1")
    private = app.translator("group.private")
    for person, command in [(member, "/toi"), (member, "/hotro"), (member, "/hoso"), (member, "/huylienket"),
                            (member, "/nhacnho"), (member, "/lienket"), (chair, "/duyet"), (chair, "/thongbao"),
                            (chair, "/capma NTL-0104"), (chair, "/donvi NTL-FECON"), (member, "/start"),
                            (member, "nhà em bị cháy, xin hỗ trợ")]:
        reply = await person.says(command)
        assert reply == private, command
        assert not any(p in reply for p in PHONES) and "Nguyễn Văn An" not in reply
    assert app.translator("help.intro") in await member.says("/help")  # what discloses nothing is answered in the group
    answer = await member.says("gạo Kim Sáng giảm giá bao nhiêu")  # and so are knowledge questions
    assert answer != private and "Kim Sáng" in answer
    assert await group_rows(app) == 0


async def test_telegram_links_to_the_private_chat_which_runs_the_command(app):
    await as_member(app, "NTL-0103", "m1", channel="telegram")
    member = InGroup(app, "m1", channel="telegram", bot_username="union_demo_bot")
    reply = await member.says("/toi@union_demo_bot")
    assert "https://t.me/union_demo_bot?start=toi" in reply and "0900000103" not in reply
    private = await app.core.handle(Incoming(channel="telegram", chat_id="m1", user_id="m1", text="/start toi"))
    assert "0900000103" in "\n".join(r.text for r in private)  # in the private chat, the member's record


async def test_a_code_sent_in_a_group_links_nothing_and_still_works_privately(app):
    code = await code_for(app, "NTL-0104")
    stranger = InGroup(app, "g1")
    assert await stranger.says(f"/lienket {code}") == app.translator("group.private")
    async with app.db.sessions() as session:
        assert await AccountRepository(session).member_of("default", "test", "g1") is None
    assert "Đã liên kết" in await Person(app, "g1").says(f"/lienket {code}")  # not burnt


async def test_a_rejection_after_linking_never_goes_to_the_group(app):
    code = await code_for(app, "NTL-0103")
    await InGroup(app, "m1").says(f"/lienket {code}")
    member = Person(app, "m1")
    assert "Đã liên kết" in await member.says(f"/lienket {code}")
    chair = await as_member(app, "NTL-0101", "c1")
    await to_confirm(member)
    await member.says("gửi")
    request_id = (await inbox(app, chair))[0]["choices"][0][1].split(":")[-1]
    await chair.presses(f"req:reject:{request_id}")
    await chair.says("Chưa đủ điều kiện theo quy chế (bệnh án)")
    assert "chưa được duyệt" in (await inbox(app, member))[-1]["text"]
    assert await group_rows(app) == 0
    async with app.db.sessions() as session:
        member_id = (await MemberRepository(session).by_code("NTL-0103")).id
        assert [chat for _, _, chat in await AccountRepository(session).chats_of(member_id)] == ["m1"]


async def test_another_user_cannot_press_a_members_buttons_in_the_group(app):
    member = await as_member(app, "NTL-0103", "m1")
    await as_member(app, "NTL-0105", "x1")
    # a form left in the group before groups were private (state keyed by chat): it is the member's alone
    await app.core.states.set(StateKey("default", "test", GROUP, "m1"), State("hardship", "confirm", {
        "category": "illness", "happened_on": "2021-03-14", "description": "Nằm viện 5 ngày vì sốt xuất huyết",
        "amount": 2_000_000, "photos": [], "phone": "0900000103", "consent": True}), app.core.clock())
    await to_confirm(member)  # and the member's form in progress in her private chat
    other = InGroup(app, "x1")
    not_for_you = app.translator("group.not_for_you")
    for action in ("hs:submit", "hs:agree", "hs:cat:illness", "req:view:1", "bc:now", "member:unlink_yes"):
        assert await other.presses(action) == not_for_you
    assert await InGroup(app, "m1").presses("hs:submit") in (not_for_you, app.translator("group.private"))
    assert await requests_of(app, "NTL-0103") == [] and await requests_of(app, "NTL-0105") == []
    assert "Đã gửi đề nghị" in await member.presses("hs:submit")  # her private form is intact
    shown = InGroup(app, "x1")
    await shown.says("/help")
    assert shown.actions and "không dành cho bạn" not in await shown.presses(shown.actions[0])
    assert await InGroup(app, "m1").presses(shown.actions[0]) == not_for_you  # shown to x1, not to m1


# ----- a chair's question while the member fills a new form (point 4) ------------------------------------------
async def test_a_chairs_question_waits_while_the_member_fills_a_form(app):
    member = await as_member(app, "NTL-0103", "m1")
    chair = await as_member(app, "NTL-0101", "c1")
    await to_confirm(member)
    await member.says("gửi")
    request_id = int((await inbox(app, chair))[0]["choices"][0][1].split(":")[-1])

    await member.says("/hotro")  # a new request, mid-way
    for answer in ANSWERS[:3]:
        await member.says(answer)
    assert "Bước 4/8" in member.text
    await chair.presses(f"req:ask:{request_id}")
    assert "Đã cập nhật" in await chair.says("Bạn gửi thêm hóa đơn viện phí nhé")
    asked = (await inbox(app, member))[-1]
    assert "hóa đơn viện phí" in asked["text"] and asked["choices"] == [["Trả lời câu hỏi", f"hs:info:{request_id}"]]

    assert "Bước 5/8" in await member.says("2 triệu")  # the form's answer, not the information
    async with app.db.sessions() as session:
        first = await HardshipRepository(session).get(request_id)
    assert [e.action for e in first.history] == ["submitted", "info_requested"]

    assert "hóa đơn viện phí" in await member.presses(f"hs:info:{request_id}")
    answered = await member.says("Em gửi hóa đơn 1.200.000 đ ạ")
    assert "Đã chuyển thông tin bổ sung" in answered and "Bước 5/8" in answered  # and back to the draft
    async with app.db.sessions() as session:
        first = await HardshipRepository(session).get(request_id)
    assert [(e.action, e.note) for e in first.history][-1] == ("info_provided", "Em gửi hóa đơn 1.200.000 đ ạ")
    await member.says(photos=("photo-2",))
    await member.says("xong")
    await member.says("đúng")
    await member.says("đồng ý")
    assert "2.000.000 đ" in member.text  # the draft kept its amount
    assert "Đã gửi đề nghị" in await member.says("gửi")
    assert len(await requests_of(app, "NTL-0103")) == 2


async def test_a_question_to_a_member_in_no_flow_is_answered_by_the_next_message(app):
    member = await as_member(app, "NTL-0104", "m2")
    chair = await as_member(app, "NTL-0101", "c2")
    await to_confirm(member)
    await member.says("gửi")
    request_id = int((await inbox(app, chair))[0]["choices"][0][1].split(":")[-1])
    await chair.presses(f"req:ask:{request_id}")
    await chair.says("Bạn gửi thêm giấy ra viện")
    assert "Đã chuyển thông tin bổ sung" in await member.says("Em gửi giấy ra viện ạ")
    assert await OutboxRepository(app.db).pending_for("test", GROUP) == []
