"""Issue 13, questions in two parts (helper fu): a later part keeps the earlier part's constraints of the kinds it does
not name itself ("cụm 12 có mấy đơn vị, và ai là cụm trưởng năm 2024": the cluster of the first part, the year of its
own), while a part naming its own value of a kind ("cụm 12 … và cụm 14 …") keeps its own.

The documents are invented here and the questions are written for these tests (in none of the eval sets).
"""

from datetime import date

import pytest

from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Cụm thi đua số 14 ký giao ước thi đua năm 2024": (date(2024, 3, 5), [
        ["Cụm thi đua số 14 gồm 4 đơn vị là Liên đoàn Lao động các huyện Mê Linh, Sóc Sơn, Đông Anh và Gia Lâm.",
         "Năm 2024, Cụm trưởng Cụm thi đua số 14 là đồng chí Đào Thị Hạnh, Chủ tịch LĐLĐ huyện Mê Linh."],
    ]),
    "Cụm thi đua số 12 ký giao ước thi đua năm 2024": (date(2024, 3, 2), [
        ["Cụm thi đua số 12 gồm 5 đơn vị là Liên đoàn Lao động các huyện Phúc Thọ, Đan Phượng, Hoài Đức, Quốc Oai "
         "và Thạch Thất.",
         "Năm 2024, Cụm trưởng Cụm thi đua số 12 là đồng chí Phùng Văn Khải, Chủ tịch LĐLĐ huyện Phúc Thọ."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/fup", "7701")


async def test_a_later_part_naming_a_year_keeps_the_cluster_of_the_first(asker):
    outcome = await asker.ask("cụm 12 có mấy đơn vị, và năm 2024 ai là cụm trưởng?")
    body = text_of(outcome)
    assert not outcome.fallback and "5 đơn vị" in body and "Phùng Văn Khải" in body, body
    assert "Đào Thị Hạnh" not in body, body


async def test_a_later_part_naming_its_own_cluster_keeps_its_own(asker):
    outcome = await asker.ask("cụm 12 có mấy đơn vị, và năm 2024 ai là cụm trưởng cụm 14?")
    body = text_of(outcome)
    assert not outcome.fallback and "5 đơn vị" in body and "Đào Thị Hạnh" in body, body
    assert "Phùng Văn Khải" not in body, body


GIA_LAM = {
    "Công đoàn huyện Gia Lâm chăm lo công nhân năm 2025": (date(2025, 10, 3), [
        ["Năm 2025, Liên đoàn Lao động huyện Gia Lâm yêu cầu các doanh nghiệp đóng kinh phí công đoàn 2% và bảo "
         "đảm tiền ăn ca cho người lao động.",
         "Liên đoàn Lao động huyện Gia Lâm đề nghị nâng tiền ăn ca cho công nhân lên 25.000 đồng một suất."],
    ]),
}


async def test_a_later_part_is_not_answered_by_the_sentence_that_answered_the_first(app):
    outcome = await asker_over(app, GIA_LAM, "/docs/fupg", "7702").ask(
        "huyện gia lâm yêu cầu đóng kinh phí công đoàn bao nhiêu % và tiền ăn ca nâng lên bao nhiêu")
    body = text_of(outcome)
    assert not outcome.fallback and "2%" in body and "25.000" in body, body
