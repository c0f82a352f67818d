"""The evidence index stored under the cache dir (``nlu.cache.evidence_index``) is keyed by the document sentences
themselves — their records are made only when it is built: the same sentences read it back, a changed sentence
builds and stores a new one, and what is read back is what building gives (invented sentences, not the seeds)."""

from __future__ import annotations

from datetime import date

from nlu.cache import evidence_index
from nlu.data import load_abbreviations
from nlu.evidence import Passage
from nlu.normalize import Normalizer

SENTENCES = ["Công đoàn phường Hoa Sen tổ chức giải bóng đá cho công nhân vào tháng 5.",
             "Giải có 12 đội tham gia, đội vô địch nhận 5 triệu đồng.",
             "Ban tổ chức cảm ơn các nhà tài trợ."]


def passages(texts: list[str]) -> list[Passage]:
    return [Passage(i, 1, "Giải bóng đá công nhân", date(2026, 5, 2), "/docs/giai-bong-da.txt", 1 + i // 2, i % 2,
                    text) for i, text in enumerate(texts)]


def test_the_stored_index_is_read_for_the_same_sentences_and_built_anew_for_changed_ones(tmp_path):
    normalizer = Normalizer(load_abbreviations())

    def index(texts: list[str]):
        return evidence_index([], normalizer, lambda: ["công đoàn"], tmp_path, passages=passages(texts))

    built = index(SENTENCES)
    [stored] = tmp_path.glob("evidence-*.pickle")
    again = index(SENTENCES)
    assert list(tmp_path.glob("evidence-*.pickle")) == [stored]  # read back, nothing new stored
    assert again.records == built.records == evidence_index([], normalizer, lambda: ["công đoàn"], None,
                                                            passages=passages(SENTENCES)).records
    question = built.read("đội vô địch giải bóng đá nhận bao nhiêu tiền")
    assert again.search(question) == built.search(question)

    changed = index([SENTENCES[0], SENTENCES[1].replace("5 triệu", "7 triệu"), SENTENCES[2]])
    assert len(list(tmp_path.glob("evidence-*.pickle"))) == 2  # a new key: built and stored
    assert any("7 triệu" in r.text for r in changed.records)
    assert not any("7 triệu" in r.text for r in again.records)
