"""The hardship cycle through the real adapters and the delivery worker, on the fake Telegram and Zalo."""

import re

from tests.e2e.conftest import code_for, eventually, fill_hardship_on_telegram, fill_hardship_on_zalo

REF = re.compile(r"HT-\d{4}-\d{6}")


async def test_telegram_submit_with_photo_ask_answer_approve(telegram):
    app = telegram.app
    member, chair = telegram.user(201), telegram.user(202)
    await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")
    await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")

    await fill_hardship_on_telegram(member, photo="discharge-paper-1")
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
    await fill_hardship_on_zalo(member)
    await member.says("1")  # "Gửi đề nghị"
    reference = REF.search(member.last_reply.text).group(0)
    notice = await eventually(lambda: next((m for m in chair.replies if reference in (m.text or "")), None))
    assert "1. Xem hồ sơ" in notice.text
    await chair.says("1")
    assert "Công ty cắt giảm giờ làm" in chair.last_reply.text
    await chair.says("3")  # "Từ chối"
    await chair.says("Chưa đủ điều kiện theo quy chế")
    await eventually(lambda: "chưa được duyệt" in (member.last_reply.text or ""))
