"""Issue 13 (round ev3): a sentence holding every word of the question is the answer when it gives the kind of
answer asked in its own way — whom it calls by a title after the question's words ("tưởng niệm Bác"), a group
answering "giữa những ai", a count written after "cơ sở" ("Công đoàn cơ sở 7 trường"), how many by naming them one
by one, an ordinal written "khóa XVI", the number a thing is named by ("số mấy": "Trạm bơm số 3") — and "kinh tế",
"tham gia" ask no price.

The documents are invented here and the questions are written for these tests (in none of the eval sets); each test
shows one general behaviour through ``Core.process``.
"""

from datetime import date

import pytest

from tests.integration.conftest import Asker, asker_over, text_of

DOCUMENTS = {
    "Liên đoàn Lao động huyện Thạch Thất tổng kết năm 2023": (date(2024, 1, 12), [
        ["Tháng 5/2023, đoàn viên huyện Thạch Thất đi hành trình về nguồn, dâng hương tưởng niệm Bác tại khu di "
         "tích quê nội.",
         "Năm 2023, Công đoàn cơ sở 7 trường học trên địa bàn huyện Thạch Thất vận động phụ huynh ủng hộ quỹ khuyến "
         "học."],
        ["Các phong trào thi đua then chốt của công nhân huyện Thạch Thất gồm “Lao động giỏi”, “Văn hóa doanh "
         "nghiệp” và “An toàn vệ sinh lao động”."],
        ["Năm 2023 huyện Thạch Thất tổ chức lấy ý kiến cử tri về Hội đồng nhân dân khóa XVI và kế hoạch phát triển "
         "kinh tế giai đoạn 2021-2025."],
    ]),
    "Liên đoàn Lao động huyện Ba Vì sơ kết năm 2023": (date(2023, 7, 2), [
        ["Năm 2023, Liên đoàn Lao động huyện Ba Vì tổ chức giải bóng bàn cho 320 đoàn viên.",
         "Nhờ phong trào sáng kiến, công nhân huyện Ba Vì sửa chữa máy dệt tại các xưởng may.",
         "Tập thể xuất sắc của huyện Ba Vì: Công đoàn trường Mầm non Tản Lĩnh, Công đoàn Trạm bơm số 3, Công đoàn "
         "Bệnh viện huyện."],
        ["Tháng 3/2023, huyện Ba Vì tổ chức hội nghị ký kết thỏa thuận hợp tác giữa các đơn vị sự nghiệp trên địa "
         "bàn."],
    ]),
}


@pytest.fixture
def asker(app) -> Asker:
    return asker_over(app, DOCUMENTS, "/docs/ev3k", "7531")


async def test_whom_the_sentence_names_by_a_title_after_the_question_words_is_a_person(asker):
    outcome = await asker.ask("tháng 5/2023 đoàn viên thạch thất dâng hương tưởng niệm ai")
    assert not outcome.fallback and "Bác" in text_of(outcome), text_of(outcome)


async def test_a_count_after_co_so_is_a_count(asker):
    outcome = await asker.ask("năm 2023 công đoàn cơ sở bao nhiêu trường học ở thạch thất vận động ủng hộ khuyến học")
    assert not outcome.fallback and "7 trường" in text_of(outcome), text_of(outcome)


async def test_a_sentence_naming_the_things_one_by_one_says_how_many(asker):
    outcome = await asker.ask("công nhân thạch thất có mấy phong trào thi đua then chốt, kể tên")
    reply = text_of(outcome)
    assert not outcome.fallback and "Văn hóa doanh nghiệp" in reply and "An toàn vệ sinh lao động" in reply, reply


async def test_khoa_asks_an_ordinal_and_kinh_te_no_price(asker):
    outcome = await asker.ask("thạch thất lấy ý kiến cử tri về hội đồng nhân dân khóa mấy và kế hoạch kinh tế giai "
                              "đoạn nào")
    assert not outcome.fallback and "XVI" in text_of(outcome), text_of(outcome)


async def test_so_may_asks_the_number_a_thing_is_named_by(asker):
    outcome = await asker.ask("công đoàn trạm bơm số mấy là tập thể xuất sắc của ba vì")
    assert not outcome.fallback and "Trạm bơm số 3" in text_of(outcome), text_of(outcome)


async def test_who_a_group_of_bodies_answers(asker):
    outcome = await asker.ask("tháng 3/2023 ở ba vì thỏa thuận hợp tác được ký kết giữa những ai")
    assert not outcome.fallback and "các đơn vị sự nghiệp" in text_of(outcome), text_of(outcome)


async def test_a_word_typed_as_another_than_the_cue_it_folds_like_is_no_cue(asker):
    # "máy" folds as "mấy": typed with its accents it asks no quantity (the sentence holds no number)
    outcome = await asker.ask("phong trào sáng kiến giúp công nhân ba vì sửa chữa máy dệt ở đâu")
    assert not outcome.fallback and "xưởng may" in text_of(outcome), text_of(outcome)


async def test_a_word_no_document_writes_still_declines(asker):
    outcome = await asker.ask("năm 2023 công đoàn cơ sở bao nhiêu bệnh viện ở thạch thất vận động hiến máu")
    assert outcome.fallback, text_of(outcome)
