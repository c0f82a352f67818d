"""Issue 13, the accents a member types (helper ev2): a content word typed with diacritics is not hidden as the stop
word it folds like, and is not found in a word it only folds like.

The documents are invented here and the questions are written for these tests (in none of the eval sets); each
test shows one general behaviour through ``Core.process``.
"""

from datetime import date

import pytest

from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Liên đoàn Lao động huyện Mê Linh ký thỏa thuận ưu đãi năm 2024": (date(2024, 3, 12), [
        ["Năm 2024, Liên đoàn Lao động huyện Mê Linh ký thỏa thuận với Phòng khám Đa khoa Ánh Dương giảm 25% phí "
         "khám sức khỏe cho đoàn viên.",
         "Chủ tịch Liên đoàn Lao động huyện cho biết rằng chương trình được đoàn viên đón nhận bởi chi phí khám "
         "giảm nhiều."],
        ["Siêu thị Hồng Hà giảm 15% giá gạo và nước mắm cho đoàn viên huyện Mê Linh.",
         "Đoàn viên ở đâu trong huyện cũng được hưởng ưu đãi khi xuất trình thẻ đoàn viên."],
        ["Đại diện Ban Chấp hành Công đoàn cơ sở trao tiền hỗ trợ 500.000 đồng cho 40 đoàn viên khó khăn."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/ev2", "7401")


@pytest.mark.parametrize("question", [
    "đoàn viên đi khám răng có được giảm giá không",  # "răng" folds as "rằng"
    "ưu đãi dầu ăn cho đoàn viên giảm bao nhiêu",  # "dầu" folds as "đâu"
    "đoàn viên đi bơi có được giảm giá không",  # "bơi" folds as "bởi"
])
async def test_a_content_word_typed_with_accents_is_no_stop_word_it_folds_like(asker, question):
    # the documents write only the stop word: the member asks about something they do not hold, and is told so,
    # not answered with the health check's or the supermarket's discount
    outcome = await asker.ask(question)
    reply = text_of(outcome)
    assert outcome.fallback, reply
    assert "25%" not in reply and "15%" not in reply, reply


@pytest.mark.parametrize("question", [
    "đoàn viên khám sức khỏe được giảm bao nhiêu phần trăm vậy",  # stop words typed with their accents
    "doan vien kham suc khoe duoc giam bao nhieu phan tram vay",  # and without: folded, as before
])
async def test_stop_words_typed_with_or_without_accents_are_still_stop_words(asker, question):
    outcome = await asker.ask(question)
    reply = text_of(outcome)
    assert not outcome.fallback, reply
    assert "25%" in reply, reply



async def test_a_word_typed_as_no_document_writes_it_is_not_found_in_a_word_it_folds_like(asker):
    # "gáo" (a ladle) folds as the "gạo" (rice) of the supermarket's offer, which is no answer about ladles; typed
    # without accents, "gao" may be either, and the offer answers as before
    outcome = await asker.ask("đoàn viên mua gáo ở siêu thị Hồng Hà có được giảm giá không")
    reply = text_of(outcome)
    assert outcome.fallback, reply
    assert "15%" not in reply, reply
    outcome = await Asker(asker.app, "7402").ask("doan vien mua gao o sieu thi Hong Ha duoc giam bao nhieu")
    assert not outcome.fallback and "15%" in text_of(outcome), text_of(outcome)
