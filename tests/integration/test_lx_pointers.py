"""Issue 13, follow-ups pointing at a person (lead, round lx): "ông ấy làm chủ tịch quận nào" right after an answer
naming him is a question about him — read with his name in the pointer's place — on every channel (the core does
it before understanding the message). "bà"/"chị" pick the woman of several names, "ông"/"anh" the man; with no
recent answer naming anyone the message is read as it is.

The documents are invented here and the questions are written for these tests (in none of the eval sets).
"""

from datetime import date, timedelta

import pytest

from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Cụm thi đua số 12 sơ kết năm 2024": (date(2024, 7, 2), [
        ["Năm 2024, Cụm trưởng Cụm thi đua số 12 là đồng chí Phùng Văn Khải.",
         "Đồng chí Phùng Văn Khải là Chủ tịch Liên đoàn Lao động huyện Phúc Thọ."],
        ["Phó Cụm trưởng là đồng chí Lã Thị Ngân, Chủ tịch Liên đoàn Lao động huyện Đan Phượng.",
         "Tại hội nghị, đồng chí Phùng Văn Khải và đồng chí Lã Thị Ngân trao 30 suất quà cho công nhân khó khăn.",
         "Đồng chí Lã Thị Ngân cũng trao 12 chiếc xe đạp cho con công nhân."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/lxp", "7601")


async def test_a_follow_up_pointing_at_the_person_named_asks_about_that_person(asker):
    first = await asker.ask("năm 2024 cụm trưởng cụm thi đua số 12 là ai")
    assert not first.fallback and "Phùng Văn Khải" in text_of(first), text_of(first)
    outcome = await asker.ask("ông ấy đang là chủ tịch lđlđ huyện nào")
    assert not outcome.fallback and "Phúc Thọ" in text_of(outcome), text_of(outcome)


async def test_the_pointer_s_sex_picks_among_the_names_of_the_answer(asker):
    first = await asker.ask("tại hội nghị cụm thi đua số 12 năm 2024 ai trao quà cho công nhân khó khăn")
    assert "Phùng Văn Khải" in text_of(first) and "Lã Thị Ngân" in text_of(first), text_of(first)
    outcome = await asker.ask("chị ấy còn trao bao nhiêu chiếc xe đạp")
    assert not outcome.fallback and "12 chiếc" in text_of(outcome), text_of(outcome)
    other = Asker(asker.app, "7603")
    await other.ask("tại hội nghị cụm thi đua số 12 năm 2024 ai trao quà cho công nhân khó khăn")
    outcome = await other.ask("anh ấy là chủ tịch lđlđ huyện nào")
    assert not outcome.fallback and "Phúc Thọ" in text_of(outcome) and "Đan Phượng" not in text_of(outcome), \
        text_of(outcome)


async def test_a_pointer_with_no_recent_answer_naming_anyone_is_read_as_typed(asker, clock):
    alone = text_of(await Asker(asker.app, "7604").ask("ông ấy đang là chủ tịch lđlđ huyện nào"))
    await asker.ask("năm 2024 phó cụm trưởng cụm thi đua số 12 là ai")  # names her, not him
    clock.now += timedelta(minutes=30)  # the answer is long gone
    assert text_of(await asker.ask("ông ấy đang là chủ tịch lđlđ huyện nào")) == alone
