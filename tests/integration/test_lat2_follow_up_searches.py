"""Issue 13, latency: how many evidence searches a message costs, through ``Core.process`` (as adapters call it).

``EvidenceIndex.search`` is wrapped to count its calls; the documents and questions are invented here. A follow-up
read against the previous question is not also searched alone when a reading answers it; a question off the
union's topics, not leaning on a previous one, is not searched at all (the out-of-scope fallback answers it
whatever the evidence holds); no reading is searched twice in one message.
"""

from datetime import date

import pytest

from nlu.evidence import EvidenceIndex
from tests.integration.conftest import Asker, asker_over, count_calls, text_of

DOCUMENTS = {
    "Công đoàn huyện Gia Lâm chăm lo công nhân năm 2025": (date(2025, 10, 3), [
        ["Năm 2025, Liên đoàn Lao động huyện Gia Lâm hỗ trợ 215 công nhân khó khăn với tổng số tiền 348 triệu "
         "đồng.",
         "Liên đoàn Lao động huyện Gia Lâm tổ chức 6 lớp tập huấn an toàn lao động cho công nhân."],
    ]),
}


@pytest.fixture
def searches(app, monkeypatch) -> list:
    asker_over(app, DOCUMENTS, "/docs/lat2")
    return count_calls(monkeypatch, EvidenceIndex, "search")


async def test_a_follow_up_a_reading_answers_is_not_also_searched_alone(app, searches):
    asker = Asker(app, "lat2-1")
    first = await asker.ask("Năm 2025 huyện Gia Lâm hỗ trợ bao nhiêu công nhân?")
    assert not first.fallback and "215" in text_of(first)
    searches.clear()
    outcome = await asker.ask("số tiền bao nhiêu ạ?")
    assert not outcome.fallback and "348" in text_of(outcome)
    # the first reading (the previous subject's amount) answers: one search, not that and the fragment alone
    assert len(searches) == 1
    assert len(set(searches)) == len(searches)


async def test_a_question_off_the_unions_topics_is_not_searched(app, searches):
    outcome = await Asker(app, "lat2-2").ask("dự báo thời tiết cuối tuần này ra sao")
    assert outcome.fallback and outcome.intent == "out_of_scope"
    assert searches == []


async def test_a_message_asking_one_question_is_read_once(app, searches, monkeypatch):
    calls = count_calls(monkeypatch, EvidenceIndex, "read")
    outcome = await Asker(app, "lat2-3").ask("Năm 2025 huyện Gia Lâm tổ chức bao nhiêu lớp tập huấn?")
    assert not outcome.fallback and "6 lớp" in text_of(outcome)
    # not read again as its own "parts": there is room for one question only
    assert len(calls) == 1 and len(searches) == 1
    # two questions in one message are still read and answered each
    calls.clear()
    outcome = await Asker(app, "lat2-4").ask("Năm 2025 Gia Lâm hỗ trợ bao nhiêu công nhân? tổ chức mấy lớp tập huấn?")
    assert "215" in text_of(outcome) and "6 lớp" in text_of(outcome)
