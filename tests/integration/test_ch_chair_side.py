"""Chair-side defects from a user trial (helper ch): what /thongbao says when the unit's linked members are on
the console only, and what a chair's /help lists."""

from tests.integration.test_broadcasts import compose
from tests.integration.test_hardship import as_member


async def test_members_linked_on_the_console_only_are_named_not_denied(app):
    """Two members linked, both only on the console (no announcement recipient): the preview says so, with the
    count, instead of 'nobody has linked a chat account'."""
    chair = await as_member(app, "NTL-0101", "c-ch1")
    await as_member(app, "NTL-0103", "console-NTL-0103", channel="console", buttons=False)
    await as_member(app, "NTL-0104", "console-NTL-0104", channel="console", buttons=False)
    preview = await compose(chair, "Họp công đoàn lúc 14h thứ Sáu", "bc:unit:NTL-FECON-T1")
    assert "chưa có đoàn viên nào liên kết" not in preview
    assert "0 người nhận" in preview and "2" in preview and "Telegram" in preview, preview


async def test_a_chairs_help_names_every_command_he_may_use_on_its_first_page(app):
    chair = await as_member(app, "NTL-0101", "c-ch2")
    first = await chair.says("/help")
    for name in ("/capma", "/donvi", "/duyet", "/thongbao", "/thongke", "/web", "/hotro", "/hoso", "/toi"):
        assert name in first, (name, first)


def test_a_member_asking_how_their_own_request_stands_is_asking_for_hoso(app):
    """The rule lives with the hardship capability (its /hoso command's ``asked``); the core reads it through
    the registry before it refuses a question."""
    for text in ("tinh trang de nghi cua toi the nao roi", "Trạng thái hồ sơ của em sao rồi?",
                 "đề nghị của tôi đến đâu rồi", "hồ sơ hỗ trợ của em được duyệt chưa",
                 "yêu cầu hỗ trợ của mình xử lý chưa"):
        assert app.core.registry.command_asked(text) == "hoso", text
    for text in ("hồ sơ đề nghị hỗ trợ cần những gì", "tình trạng thi đua cụm 6", "của tôi", "đợt 2 bắt đầu khi nào"):
        assert app.core.registry.command_asked(text) is None, text


async def test_a_member_asking_how_their_request_stands_gets_their_requests_not_out_of_scope(app):
    """Through the core: the sentence is answered as /hoso would be (here: no request yet), not refused."""
    member = await as_member(app, "NTL-0103", "c-ch4")
    typed = await member.says("tinh trang de nghi cua toi the nao roi")
    assert typed == await member.says("/hoso"), typed
    assert "ngoài phạm vi" not in typed, typed
