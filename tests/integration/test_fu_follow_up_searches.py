"""Issue 13, latency (helper fu): a follow-up naming a word no record holds ("chứng khoán tuần này thế nào" right
after an answer) is not read against the previous question in each of its ways — every reading holds that word and
none can answer — so one search, not one per reading; the reply is the same as when every reading was searched.

``EvidenceIndex.search`` is wrapped to count its calls (as in test_lat2_follow_up_searches.py); the documents and
questions are invented here.
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

#: what the reply to the follow-up said when every reading was searched (before this change)
EXPECTED_NAMED = "“chứng khoán tuần”"


@pytest.fixture
def searches(app, monkeypatch) -> list:
    asker_over(app, DOCUMENTS, "/docs/fus")
    return count_calls(monkeypatch, EvidenceIndex, "search")


async def test_a_follow_up_naming_a_word_no_record_holds_is_searched_once(app, searches):
    asker = Asker(app, "fus-1")
    first = await asker.ask("Năm 2025 huyện Gia Lâm hỗ trợ bao nhiêu công nhân?")
    assert not first.fallback and "215" in text_of(first)
    searches.clear()
    outcome = await asker.ask("chứng khoán tuần này thế nào")
    assert outcome.fallback and EXPECTED_NAMED in text_of(outcome), text_of(outcome)
    assert len(searches) == 1, searches


async def test_a_follow_up_whose_words_the_records_hold_still_tries_its_readings(app, searches):
    asker = Asker(app, "fus-2")
    await asker.ask("Năm 2025 huyện Gia Lâm hỗ trợ bao nhiêu công nhân?")
    outcome = await asker.ask("thế tổng số tiền là bao nhiêu")
    assert not outcome.fallback and "348" in text_of(outcome), text_of(outcome)
