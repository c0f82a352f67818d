"""The hardship cycle through the real adapters and the delivery worker, on the fake Telegram and Zalo."""

import asyncio
import re
from datetime import timedelta

from storage.membership import AccountRepository, MemberRepository

REF = re.compile(r"HT-\d{4}-\d{6}")


async def code_for(app, member_code: str) -> str:
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code(member_code)
        return await AccountRepository(session).issue_code(member.id, None, app.core.clock(), timedelta(days=1))


async def eventually(condition, timeout: float = 10.0):
    for _ in range(int(timeout / 0.05)):
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("not delivered in time")


async def test_telegram_submit_with_photo_ask_answer_approve(telegram):
    app = telegram.app
    member, chair = telegram.user(201), telegram.user(202)
    await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")
    await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")

    await member.says("/hotro")
    await member.presses("hs:cat:illness")
    await member.says("hôm qua")
    await member.says("Em bị sốt xuất huyết phải nằm viện 5 ngày")
    await member.presses("hs:skip")
    await member.sends_photo("discharge-paper-1")
    await member.presses("hs:next")
    await member.presses("hs:keep")
    await member.presses("hs:agree")
    await member.presses("hs:submit")
    reference = REF.search(member.last_reply).group(0)

    notice = await eventually(lambda: next((m for m in chair.replies if reference in (m["text"] or "")), None))
    view = notice["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    request_id = view.split(":")[-1]
    await chair.presses(view)
    assert any(m["photo"] for m in chair.replies)  # the evidence photo is shown to the chair
    await chair.presses(f"req:ask:{request_id}")
    await chair.says("Bạn gửi thêm hóa đơn viện phí nhé")
    await eventually(lambda: "hóa đơn viện phí" in (member.last_reply or ""))
    await member.says("Em gửi hóa đơn ạ")
    await eventually(lambda: "bổ sung thông tin" in (chair.last_reply or ""))
    await chair.presses(view)  # the notice's "Xem hồ sơ" button, then the decision buttons
    await chair.presses(f"req:approve:{request_id}")
    await chair.says("1 triệu")
    await chair.says("bỏ qua")
    await chair.says("xác nhận")  # money: confirmed (issue #15)
    await eventually(lambda: "đã được duyệt hỗ trợ 1.000.000 đ" in (member.last_reply or ""))


async def test_zalo_submit_and_reject_with_digits(zalo):
    app = zalo.app
    member, chair = zalo.user("aa11bb22cc33dd44"), zalo.user("ee55ff66aa77bb88")
    await member.says(f"/lienket {await code_for(app, 'NTL-0104')}")
    await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")
    await member.says("/hotro")
    for answer in ["5", "hôm nay", "Công ty cắt giảm giờ làm, thu nhập giảm một nửa", "3 triệu", "xong", "1",
                   "1"]:
        await member.says(answer)
    assert "Bước 8/8" in member.last_reply.text
    await member.says("1")  # "Gửi đề nghị"
    reference = REF.search(member.last_reply.text).group(0)
    notice = await eventually(lambda: next((m for m in chair.replies if reference in (m.text or "")), None))
    assert "1. Xem hồ sơ" in notice.text
    await chair.says("1")
    assert "Công ty cắt giảm giờ làm" in chair.last_reply.text
    await chair.says("3")  # "Từ chối"
    await chair.says("Chưa đủ điều kiện theo quy chế")
    await eventually(lambda: "chưa được duyệt" in (member.last_reply.text or ""))
