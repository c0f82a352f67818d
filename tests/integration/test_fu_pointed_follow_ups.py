"""Issue 13, follow-ups pointing with a demonstrative (helper fu): "hôm đó là ngày mấy", "đợt ấy có bao nhiêu người"
right after an answer ask about the event the previous question asked about — the word pointed at ("hôm", "đợt")
is no key term the evidence must hold — even when the classifier puts the short question out of scope (with low
confidence). A confident off-topic question after an answer keeps its reply (test_lead_off_topic_after_a_question).

The documents are invented here and the questions are written for these tests (in none of the eval sets).
"""

from datetime import date

import pytest

from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Cụm thi đua số 12 tổng kết năm 2024": (date(2024, 12, 20), [
        ["Hội nghị tổng kết năm 2024 của Cụm thi đua số 12 tổ chức sáng 18/12/2024 tại huyện Phúc Thọ.",
         "Hội nghị có 120 đại biểu tham dự."],
        ["Cụm thi đua số 12 trao 30 suất quà cho công nhân khó khăn."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/fupt", "7711")


async def test_a_day_pointed_at_asks_the_date_of_the_previous_event(asker):
    first = await asker.ask("cụm thi đua số 12 tổ chức hội nghị tổng kết năm 2024 ở huyện nào")
    assert not first.fallback and "Phúc Thọ" in text_of(first), text_of(first)
    outcome = await asker.ask("hôm đó là ngày mấy")
    assert not outcome.fallback and "18/12/2024" in text_of(outcome), text_of(outcome)


async def test_the_same_words_without_a_previous_answer_are_not_answered(asker):
    outcome = await Asker(asker.app, "7712").ask("hôm đó là ngày mấy")
    assert "18/12/2024" not in text_of(outcome), text_of(outcome)
