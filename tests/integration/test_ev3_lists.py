"""Issue 13 (round ev3): a list question is answered with the fullest list first. A sentence naming one of the list's
items (and something else of its own) answers as well as the list, and ranks first; the list that names it with the
others comes before it, so the reply opens with every item.

The documents are invented here and the questions are written for these tests (in none of the eval sets); each test
shows one general behaviour through ``Core.process``.
"""

from datetime import date

import pytest

from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Công đoàn quận Tây Hồ thi đua lao động giỏi năm 2024": (date(2024, 3, 5), [
        ["Nội dung thi đua tập trung vào các phong trào thi đua: “Tiết kiệm năng lượng”; "
         "“Văn hóa công sở”, “Gia đình công nhân hạnh phúc, nhà trọ văn minh, an toàn”, “Sáng kiến cải tiến kỹ thuật "
         "trong công nhân viên chức lao động Thủ đô”; “Xanh, sạch, đẹp, bảo đảm an toàn vệ sinh lao động trong doanh "
         "nghiệp”, “Bữa cơm ca chất lượng”..."],
        ["Năm 2024, công đoàn quận Tây Hồ tổ chức giải cầu lông cho 150 đoàn viên."],
    ]),
    "Quận Tây Hồ phát động đợt thi đua thứ hai năm 2024": (date(2024, 7, 1), [
        ["\"Tiết kiệm năng lượng\" là phong trào thi đua trọng tâm của công nhân, viên chức; năm 2024 công đoàn quận "
         "Tây Hồ tập trung vào phong trào này, đợt 2 (từ 01/7 đến 31/12/2024) có chủ đề \"Thi đua tiết kiệm năng "
         "lượng, lao động sáng tạo, hoàn thành thắng lợi kế hoạch sản xuất kinh doanh năm 2024\"."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/ev3l", "7541")


async def test_the_list_naming_an_item_comes_before_the_sentence_about_that_item(asker):
    outcome = await asker.ask("năm 2024 quận tây hồ tập trung vào những phong trào thi đua nào")
    first = text_of(outcome).splitlines()[0]  # what the member reads first
    assert not outcome.fallback and "Văn hóa công sở" in first and "Bữa cơm ca chất lượng" in first, text_of(outcome)
