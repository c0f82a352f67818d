"""Issue 13, latency (helper nl): the work a search repeats is done once, through ``Core.process``.

As ``tests/integration/test_lat2_follow_up_searches.py`` counts searches, these count the BM25 rankings
(``nlu.bm25.Ranker.get_scores``): the parts of a question that differ only in a place rank the same words, and so does
the same question asked again; the answers stay what they were. The documents and questions are invented here.
"""

from datetime import date

import pytest

from nlu.bm25 import Ranker
from nlu.evidence import EvidenceIndex
from tests.integration.conftest import Asker, asker_over, count_calls, text_of

DOCUMENTS = {
    "Công đoàn hai quận chăm lo Tết cho công nhân năm 2024": (date(2024, 1, 20), [
        ["Năm 2024, Liên đoàn Lao động quận Đống Đa tặng 120 suất quà Tết cho công nhân khó khăn."],
        ["Năm 2024, Liên đoàn Lao động quận Tây Hồ tặng 85 suất quà Tết cho công nhân khó khăn."],
        ["Liên đoàn Lao động quận Tây Hồ tổ chức 3 chuyến xe đưa công nhân về quê đón Tết."],
    ]),
}


@pytest.fixture
def counted(app, monkeypatch) -> dict[str, list]:
    asker_over(app, DOCUMENTS, "/docs/nl")
    return {"search": count_calls(monkeypatch, EvidenceIndex, "search"),
            "rank": count_calls(monkeypatch, Ranker, "get_scores")}


async def test_the_parts_of_a_question_naming_two_places_rank_its_words_once(app, counted):
    outcome = await Asker(app, "nl-s1").ask("Năm 2024 Đống Đa và Tây Hồ tặng bao nhiêu suất quà Tết?")
    reply = text_of(outcome)
    assert not outcome.fallback and "120" in reply and "85" in reply, reply
    # one search per district, the same words ranked once
    assert len(counted["search"]) == 2
    assert len(counted["rank"]) == 1


async def test_a_question_asked_again_is_not_ranked_again(app, counted):
    question = "Năm 2024 quận Tây Hồ tặng bao nhiêu suất quà Tết cho công nhân?"
    first = await Asker(app, "nl-s2").ask(question)
    assert not first.fallback and "85" in text_of(first), text_of(first)
    ranked = len(counted["rank"])
    assert ranked >= 1
    again = await Asker(app, "nl-s3").ask(question)
    # searched again (each message reads its own question), but its words are not ranked again; the same answer
    assert text_of(again) == text_of(first)
    assert len(counted["rank"]) == ranked


async def test_a_follow_up_keeps_its_answer_with_the_kept_rankings(app, counted):
    asker = Asker(app, "nl-s4")
    first = await asker.ask("Năm 2024 quận Đống Đa tặng bao nhiêu suất quà Tết?")
    assert "120" in text_of(first), text_of(first)
    outcome = await asker.ask("còn Tây Hồ thì sao?")
    assert not outcome.fallback and "85" in text_of(outcome), text_of(outcome)
    # no reading ranks words another reading of the same message already ranked
    assert len(counted["rank"]) == len({tuple(terms) for terms, in counted["rank"]})
