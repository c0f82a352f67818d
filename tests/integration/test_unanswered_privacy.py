"""The unanswered-question log, through Core.handle: chairs see the question, never the member's details."""

from __future__ import annotations

from storage.unanswered import UnansweredRepository


async def logged(app) -> list:
    await app.core.unanswered.flush()  # the log is written off the reply path
    async with app.db.sessions() as session:
        return await UnansweredRepository(session).most_frequent()


async def test_a_question_with_a_phone_an_email_and_an_address_is_logged_without_them(app, member):
    await member.says("giá vàng SJC hôm nay bao nhiêu, gọi em 0901234567 hoặc an.nguyen@gmail.com, "
                      "nhà em số 12 ngõ 34 Lê Lợi")
    rows = await logged(app)
    assert rows, "the unanswered question is logged"
    for row in rows:
        for detail in ("0901234567", "gmail", "Lê Lợi", "le loi", "ngõ 34", "ngo 34"):
            assert detail not in row.sample_text and detail not in row.key
    assert "giá vàng SJC" in rows[0].sample_text and "[phone]" in rows[0].sample_text


async def test_an_id_or_bank_account_typed_to_the_bot_is_not_kept(app, member):
    await member.says("giá xăng hôm nay thế nào, cccd của em 001203004567, stk 0123456789012")
    rows = await logged(app)
    assert rows and all("001203004567" not in r.sample_text + r.key and "0123456789012" not in r.sample_text + r.key
                        for r in rows)


async def test_the_reply_never_repeats_a_phone_number_or_an_id_back(app, member):
    for question in ("ưu đãi vé xem phim cho đoàn viên có không, gọi em 0901234567",
                     "cụm 2 ai làm cụm trưởng, cccd của em 001203004567",
                     "số 0901234567 có được hỗ trợ không"):
        text = await member.says(question)
        assert "0901234567" not in text and "001203004567" not in text, (question, text)


async def test_a_very_long_word_is_declined_without_being_repeated_back(app, member):
    for text in ("x" * 99_000, "a" * 100_000, "zzzzqqqq" * 500 + " có được giảm không"):
        reply = await member.says(text)
        assert len(reply) < 1_000 and "x" * 100 not in reply and "a" * 100 not in reply, reply[:200]
