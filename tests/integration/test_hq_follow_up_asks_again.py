"""A follow-up that changes only the cluster, district or phase asks the previous question of it (through
``Core.process``): "còn cụm 8 thì sao" after "cụm thi đua số 7 gồm những đơn vị nào" answers cluster 8's members
first, not the first sentence its article writes about cluster 8. The documents are invented here."""

from datetime import date

import pytest

from tests.integration.conftest import Asker, passages_of, text_of

DOCUMENTS = {
    "Cụm thi đua số 7 ký giao ước thi đua": (date(2024, 3, 2), [
        ["Cụm thi đua số 7 gồm 4 đơn vị: Liên đoàn Lao động các huyện Ba Vì, Phúc Thọ, Đan Phượng và Hoài Đức.",
         "Cụm thi đua số 7 tiếp tục thực hiện chủ đề năm: \"Đoàn kết, đổi mới, sáng tạo, hiệu quả\"."],
    ]),
    "Cụm thi đua số 8 sơ kết 6 tháng": (date(2024, 7, 9), [
        ["Chủ đề năm được Cụm thi đua số 8 tiếp tục thực hiện: \"Kỷ cương, trách nhiệm, hành động, sáng tạo\".",
         "Cụm thi đua số 8 gồm 5 đơn vị: Liên đoàn Lao động các huyện Chương Mỹ, Thanh Oai, Ứng Hòa, Mỹ Đức và "
         "Phú Xuyên."],
    ]),
    "Đợt thi đua cao điểm ở huyện Quốc Oai": (date(2024, 4, 1), [
        ["Đợt 1 của đợt thi đua cao điểm huyện Quốc Oai bắt đầu từ ngày 1/4 và kết thúc ngày 30/4.",
         "Đợt 2 được tổng kết ngày 15/6 tại hội trường huyện.",
         "Đợt 2 bắt đầu từ ngày 1/5 và kết thúc ngày 31/5."],
    ]),
    "Công đoàn huyện Quốc Oai và huyện Thạch Thất": (date(2024, 5, 1), [
        ["Quốc Oai hiện có 45 công đoàn cơ sở.",
         "Thạch Thất hiện có 3.200 đoàn viên.",
         "Thạch Thất hiện có 38 công đoàn cơ sở."],
    ]),
}


@pytest.fixture
def documents(app):
    app.core.set_passages(passages_of(DOCUMENTS, "/docs/hq-follow/"))
    return app


async def test_another_cluster_is_asked_what_the_previous_question_asked(documents):
    asker = Asker(documents, "hq-f1")
    first = await asker.ask("cụm thi đua số 7 gồm những đơn vị nào")
    assert not first.fallback and "Phúc Thọ" in text_of(first)
    outcome = await asker.ask("còn cụm 8 thì sao")
    reply = text_of(outcome)
    assert not outcome.fallback and "Chương Mỹ" in reply
    # the members, what was asked, come first; the theme (the article's first sentence about cluster 8) is no answer
    # to put before them
    assert reply.splitlines()[0].startswith("Cụm thi đua số 8 gồm 5 đơn vị")


async def test_another_phase_is_asked_what_the_previous_question_asked(documents):
    asker = Asker(documents, "hq-f2")
    first = await asker.ask("đợt 1 ở Quốc Oai bắt đầu khi nào")
    assert not first.fallback and "1/4" in text_of(first)
    outcome = await asker.ask("còn đợt 2 thì sao")
    # when phase 2 starts, not the first date its article gives for phase 2 (its closing ceremony)
    assert not outcome.fallback and text_of(outcome).splitlines()[0].startswith("Đợt 2 bắt đầu từ ngày 1/5")


async def test_another_district_is_asked_what_the_previous_question_asked(documents):
    asker = Asker(documents, "hq-f3")
    first = await asker.ask("ở Quốc Oai có bao nhiêu công đoàn cơ sở")
    assert not first.fallback and "45" in text_of(first)
    outcome = await asker.ask("thế ở Thạch Thất?")
    # its grassroots unions counted, not the first figure said of the district (its members)
    assert not outcome.fallback and "38 công đoàn cơ sở" in text_of(outcome).splitlines()[0]
