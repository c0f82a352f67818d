"""Issue 13, definitions (helper ev2): "X là gì" is answered by the sentence that says what X is — X followed by
"là", a parenthesis or a dash, or the sentence X opens — not by one that merely mentions X.

The documents are invented here and the questions are written for these tests (in none of the eval sets).
"""

from datetime import date

import pytest

from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Huyện Phúc Thọ chăm lo nhà ở cho công nhân năm 2024": (date(2024, 5, 6), [
        ["Năm 2024, nhiều đoàn viên huyện Phúc Thọ tham gia chương trình Mái ấm công nhân và được tặng quà Tết."],
        ["Chương trình Mái ấm công nhân (do Liên đoàn Lao động huyện Phúc Thọ khởi xướng) hỗ trợ đoàn viên sửa chữa "
         "nhà ở."],
        ["Giải chạy Vì sức khỏe người lao động thu hút 900 vận động viên tại sân vận động huyện."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/ev2d", "7411")


@pytest.mark.parametrize("question", ["chương trình mái ấm công nhân là gì",
                                      "chuong trinh mai am cong nhan nghia la gi"])
async def test_a_definition_is_the_sentence_that_says_what_the_thing_is(asker, question):
    # the sentence writing the name with its description in parentheses says what it is; the one telling who took
    # part in it does not
    outcome = await asker.ask(question)
    reply = text_of(outcome)
    assert not outcome.fallback, reply
    assert "sửa chữa nhà ở" in reply.split("\n")[0], reply
