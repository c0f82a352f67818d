"""Issue 13, how a question is read (lead, round lx3): "ai là cụm trưởng năm 2024" asks who held the title that
year ("năm 2024" is the year, not a word of a title "cụm trưởng năm" no sentence writes); "bao nhiêu bản" counts
copies ("bản", not the stop word "bạn" it folds like); "ốm" is no slip of "ở" (a one-letter word is no correction of
a two-letter one); a refusal names the two words no record writes side by side ("điện thoại"), not the common
words beside them. Through ``Core.process``, on documents invented here (the questions are in none of the eval
sets)."""

from datetime import date

import pytest

from tests.integration.conftest import Asker, asker_over, named_in, text_of

DOCUMENTS = {
    "Cụm thi đua số 9 ký giao ước thi đua năm 2024": (date(2024, 3, 1), [
        ["Cụm thi đua số 9 gồm 5 đơn vị: Liên đoàn Lao động các huyện Ba Vì, Phúc Thọ, Thạch Thất, Quốc Oai và Đan "
         "Phượng.",
         "Năm 2024, đồng chí Kiều Văn Lâm, Chủ tịch Liên đoàn Lao động huyện Ba Vì là Cụm trưởng Cụm thi đua số 9."],
        ["Năm 2024, các đơn vị trong Cụm ký kết tổng cộng 6 bản thỏa thuận.",
         "Cụm ký thỏa thuận hợp tác với Siêu thị Hoa Mai giảm 10% giá cho đoàn viên."],
        ["Đoàn viên bị tai nạn trên đường đi được hỗ trợ 200.000 đồng.",
         "Đoàn viên ở đâu trong Cụm cũng được mời dự hội thao."],
        ["Cụm đối thoại với doanh nghiệp về giảm giá điện cho công nhân."],
        ["Siêu thị Hoa Mai dành ưu đãi cho đoàn viên."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/lx3", "7801")


@pytest.mark.parametrize("question", [
    "ai là cụm trưởng năm 2024 của cụm thi đua số 9",
    "cụm thi đua số 9 có mấy đơn vị, và ai là cụm trưởng năm 2024?",
])
async def test_the_year_after_a_title_is_the_year_asked_not_a_word_of_the_title(asker, question):
    outcome = await asker.ask(question)
    assert not outcome.fallback and "Kiều Văn Lâm" in text_of(outcome), text_of(outcome)


async def test_how_many_copies_counts_the_copies_not_another_number(asker):
    outcome = await asker.ask("năm 2024 cụm thi đua số 9 ký bao nhiêu bản thỏa thuận hợp tác")
    assert not outcome.fallback and "6 bản" in text_of(outcome), text_of(outcome)


async def test_a_two_letter_word_the_documents_never_write_is_not_read_as_a_one_letter_stop_word(asker):
    # "ốm" read as "ở" left "bị … hỗ trợ … bao nhiêu": the accident allowance answered a question about sickness
    outcome = await asker.ask("đoàn viên cụm thi đua số 9 bị ốm đau được hỗ trợ bao nhiêu")
    assert "200.000" not in text_of(outcome), text_of(outcome)


async def test_a_refusal_names_two_words_no_record_writes_side_by_side(asker):
    # "điện" and "thoại" are written ("tiết kiệm điện", "đối thoại"), never together: "điện thoại" is what the
    # documents lack, not the "ưu đãi" they write
    outcome = await asker.ask("có ưu đãi giảm giá điện thoại cho đoàn viên cụm thi đua số 9 không")
    reply = text_of(outcome)
    assert outcome.fallback and named_in(reply) == ["điện thoại"], reply
