"""Issue 13, constraints named in the question (lead, round lx2): an edition, an anniversary or a numbered document
the evidence names only with other numbers ("lần 6" where the documents have "lần thứ V", "kỷ niệm 50 năm" where
they have 45) is something the evidence does not describe — declined, naming it — like another year or cluster;
the same number written another way ("lần thứ 5", "V", "05") is the same thing.

The documents are invented here and the questions are written for these tests (in none of the eval sets), through
``Core.process``.
"""

from datetime import date

import pytest

from nlu.editions import editions, number
from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Huyện Ba Vì tổ chức Hội thi tay nghề năm 2024": (date(2024, 5, 20), [
        ["Liên đoàn Lao động huyện Ba Vì tổ chức Hội thi tay nghề công nhân lần thứ V vào ngày 18/5/2024.",
         "Hội thi có 140 công nhân của 12 doanh nghiệp tham gia."],
        ["Dịp này, huyện Ba Vì kỷ niệm 45 năm thành lập Liên đoàn Lao động huyện.",
         "Các công đoàn cơ sở tiếp tục thực hiện Chỉ thị 05 của Huyện ủy về an toàn lao động."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/lx2", "7701")


@pytest.mark.parametrize(("question", "named"), [
    ("hội thi tay nghề công nhân ba vì lần 6 có bao nhiêu công nhân tham gia", "lần 6"),
    ("hội thi tay nghề ba vì lần thứ VII tổ chức ngày nào", "lần thứ VII"),
    ("ba vì kỷ niệm 50 năm thành lập lđlđ huyện vào dịp nào", "kỷ niệm 50 năm thành lập"),
])
async def test_another_edition_than_the_documents_name_is_declined_and_named(asker, question, named):
    outcome = await asker.ask(question)
    reply = text_of(outcome)
    assert outcome.fallback and named in reply, reply
    assert "140" not in reply and "18/5" not in reply, reply


@pytest.mark.parametrize(("question", "expected"), [
    ("hội thi tay nghề công nhân ba vì lần thứ V có bao nhiêu công nhân tham gia", "140"),
    ("hội thi tay nghề ba vì lần V tổ chức vào ngày nào", "18/5/2024"),
    ("hội thi tay nghề ba vì lần thứ 5 tổ chức vào ngày nào", "18/5/2024"),
])
async def test_the_same_edition_written_another_way_is_answered(asker, question, expected):
    outcome = await asker.ask(question)
    assert not outcome.fallback and expected in text_of(outcome), text_of(outcome)


def test_numbers_are_read_in_digits_and_roman_numerals_alike():
    assert [number(w) for w in ("5", "05", "v", "xiii", "xxxix", "iiii", "xl", "", "2021")] == \
        [5, 5, 5, 13, 39, None, None, None, None]
    assert editions("hoi thi lan thu ii nam 2021".split()) == [("lần thứ", 2, 2, 5)]
    assert editions("ky niem 91 nam thanh lap cong doan".split()) == [("kỷ niệm", 91, 0, 6)]
    assert editions("chi thi so 05 cua bo chinh tri".split()) == [("chỉ thị", 5, 0, 4)]
    assert editions("3 lan trong nam".split()) == []  # "three times", no edition
