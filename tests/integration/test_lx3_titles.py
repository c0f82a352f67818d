"""Issue 13, a title asked with its year (lead): "ai là cụm trưởng năm 2024" asks who held the title that year —
"năm 2024" is the year, not a word of the title "cụm trưởng năm" no sentence writes. Through ``Core.process``, on
documents invented here (the questions are in none of the eval sets)."""

from datetime import date

import pytest

from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Cụm thi đua số 9 ký giao ước thi đua năm 2024": (date(2024, 3, 1), [
        ["Cụm thi đua số 9 gồm 5 đơn vị: Liên đoàn Lao động các huyện Ba Vì, Phúc Thọ, Thạch Thất, Quốc Oai và Đan "
         "Phượng.",
         "Năm 2024, đồng chí Kiều Văn Lâm, Chủ tịch Liên đoàn Lao động huyện Ba Vì là Cụm trưởng Cụm thi đua số 9."],
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
