"""Issue 13, answer quality: general behaviours of the fact answers, through ``Core.process`` (as adapters call it).

The documents are invented here (plain strings) and the questions are written for these tests, in none of the
eval sets: each test shows one general behaviour (a verb around the question is no subject, a title held by a
named person, a list answered on one page with its source, a near-domain question refused honestly).
"""

from datetime import date

import pytest

from handlers import pages
from nlu.evidence import Passage
from tests.integration.conftest import Asker, passages_of, text_of

DOCUMENTS = {
    "Liên đoàn Lao động huyện Mỹ Đức tổng kết phong trào sáng kiến năm 2024": (date(2024, 11, 8), [
        ["Năm 2024, Liên đoàn Lao động huyện Mỹ Đức phát động phong trào sáng kiến trong đoàn viên.",
         "Các sáng kiến của đoàn viên nộp về Văn phòng Liên đoàn Lao động huyện trước ngày 30/9/2024."],
        ["Đến dự hội nghị có đồng chí Vương Thị Hạnh - Trưởng ban Tuyên giáo Liên đoàn Lao động huyện Mỹ Đức.",
         "Đồng chí Quang Văn Lộc - Chủ tịch Liên đoàn Lao động huyện Mỹ Đức phát biểu khai mạc hội nghị."],
        ["Các đoàn viên có sáng kiến nhận giấy khen tại hội nghị.", "(Ảnh: Kiều Minh) |"],
        ["Tạ Minh Khôi"],  # the byline: the author's name alone on the article's last line
    ]),
    "Liên đoàn Lao động huyện Mỹ Đức đại hội nhiệm kỳ mới": (date(2023, 6, 2), [
        ["Năm 2023, đồng chí Hầu Thị Nga là Chủ tịch Liên đoàn Lao động huyện Mỹ Đức."],
    ]),
    "Cụm thi đua số 12 ký kết giao ước thi đua năm 2024": (date(2024, 2, 27), [
        [f"Năm 2024, đồng chí {name} là Chủ tịch Liên đoàn Lao động huyện {district}, đơn vị của Cụm thi đua số 12."
         for name, district in (("Kha Văn Tường", "Ba Vì"), ("Lò Thị Mến", "Phúc Thọ"), ("Âu Văn Khải", "Đan Phượng"),
                                ("Ông Thị Nhàn", "Hoài Đức"), ("Giáp Văn Sơn", "Quốc Oai"),
                                ("Mạc Thị Duyên", "Thạch Thất"), ("Nông Văn Trực", "Chương Mỹ"))],
    ]),
    "Liên đoàn Lao động huyện Mỹ Đức chăm lo sức khỏe đoàn viên năm 2025": (date(2025, 3, 14), [
        ["Liên đoàn Lao động huyện Mỹ Đức tổ chức khám sức khỏe, tầm soát tiểu đường miễn phí cho 412 đoàn viên.",
         "Công đoàn hỗ trợ công nhân tiền ăn trưa trên 25.000 đồng/suất trong ngày khám."],
    ]),
    "Liên đoàn Lao động huyện Mỹ Đức trao quà Tết năm 2025": (date(2025, 1, 20), [
        ["Tết năm 2025, đoàn viên huyện Mỹ Đức được nhận quà Tết với tổng kinh phí 1,2 tỷ đồng.",
         "Có 1.850 lượt người được nhận quà Tết trong dịp này."],
    ]),
    "Giải bóng bàn công nhân huyện Mỹ Đức năm 2025": (date(2025, 8, 1), [
        ["đoàn viên huyện Mỹ Đức được dự giải bóng bàn công nhân năm 2025 do Liên đoàn Lao động huyện tổ chức."],
    ]),  # a sentence as a clause split off a longer one: it starts in lower case
    "Công đoàn huyện Mỹ Đức qua các kỳ đại hội": (date(2024, 5, 6), [
        ["Đại hội Công đoàn huyện Mỹ Đức nhiệm kỳ 2023-2028 bầu 27 ủy viên Ban Chấp hành.",
         "Đại hội Công đoàn huyện Mỹ Đức nhiệm kỳ 2018-2023 đã bầu 25 ủy viên Ban Chấp hành."],
    ]),
}


def _passages() -> list[Passage]:
    return passages_of(DOCUMENTS, "/docs/q")


@pytest.fixture
def asker(app) -> Asker:
    app.core.set_passages(_passages())
    return Asker(app, "613")


_text = text_of


async def test_an_everyday_verb_the_documents_do_not_use_is_no_subject_to_decline_on(asker):
    # "gửi" (the documents write "nộp") and "giữ chức" (they write the title beside the name) name no subject of
    # their own: the question is about its other words, and the sentence holding them answers
    outcome = await asker.ask("sáng kiến của đoàn viên Mỹ Đức phải gửi trước ngày nào vậy?")
    assert not outcome.fallback and "30/9/2024" in _text(outcome)
    outcome = await asker.ask("đồng chí Vương Thị Hạnh giữ chức gì")
    assert not outcome.fallback and "Trưởng ban Tuyên giáo" in _text(outcome)


async def test_who_holds_a_title_of_a_body_the_documents_do_not_name_is_refused_honestly(asker):
    # the documents name the chair of the district's federation only: the city federation's chair, or the union
    # federation's, is no one they name — not the district chair, whose sentence also says "Chủ tịch Liên đoàn"
    for question in ("chủ tịch liên đoàn lao động thành phố hiện nay là ai", "ai là chủ tịch tổng liên đoàn",
                     "chu tich tong ldld la ai"):
        outcome = await asker.ask(question)
        assert outcome.fallback, question
        assert "Quang Văn Lộc" not in _text(outcome) and "chưa có thông tin về" in _text(outcome), question
    outcome = await asker.ask("chủ tịch LĐLĐ huyện Mỹ Đức năm 2024 là ai")
    assert not outcome.fallback and "Quang Văn Lộc" in _text(outcome)


async def test_a_list_answer_keeps_its_source_on_the_first_page_and_the_rest_behind_more(asker):
    # seven chairs answer "những ai": the first page (at most six lines) shows those that fit with the source
    # line under them, never the sentences alone with the source pushed behind "xem thêm"
    outcome = await asker.ask("chủ tịch các huyện trong cụm thi đua số 12 năm 2024 là những ai")
    assert not outcome.fallback
    first = outcome.replies[0].text
    assert len(first.splitlines()) <= pages.MAX_LINES
    assert "Cụm thi đua số 12 ký kết giao ước" in first.splitlines()[-1]  # the source, on the first page
    assert sum(name in first for name in ("Kha Văn Tường", "Lò Thị Mến", "Âu Văn Khải")) == 3
    more = [c.label for c in outcome.replies[-1].choices]
    assert any("Xem thêm" in label for label in more)  # the other chairs are one "xem thêm" away
    rest = "\n".join(r.text for r in (await asker.ask("xem thêm")).replies)
    assert "Nông Văn Trực" in rest or "Nông Văn Trực" in first


async def test_who_wrote_an_article_is_its_byline_and_a_byline_answers_nothing_else(asker):
    outcome = await asker.ask("bài viết về phong trào sáng kiến ở Mỹ Đức năm 2024 là của tác giả nào")
    assert not outcome.fallback and "Tạ Minh Khôi" in _text(outcome), _text(outcome)
    for question, name in (("ai là chủ tịch LĐLĐ huyện Mỹ Đức năm 2024", "Quang Văn Lộc"),
                           ("trưởng ban tuyên giáo LĐLĐ huyện Mỹ Đức là ai", "Vương Thị Hạnh")):
        reply = _text(await Asker(asker.app, "614").ask(question))
        assert name in reply and "Tạ Minh Khôi" not in reply, reply


async def test_two_years_set_side_by_side_get_an_answer_each(asker):
    # a comparison of two years ("năm 2023 với năm 2024") is two questions, one per year — not the span of a term
    outcome = await asker.ask("chủ tịch LĐLĐ huyện Mỹ Đức năm 2023 với năm 2024 có phải một người không")
    assert not outcome.fallback
    assert "Hầu Thị Nga" in _text(outcome) and "Quang Văn Lộc" in _text(outcome), _text(outcome)


async def test_who_took_a_photo_is_its_captions_credit_and_an_unknown_credit_is_declined(asker):
    outcome = await asker.ask("ảnh đoàn viên Mỹ Đức nhận giấy khen ai chụp vậy")
    assert not outcome.fallback and "Kiều Minh" in _text(outcome) and "nhận giấy khen" in _text(outcome)
    # no caption of the cluster's article credits a photo: no entry's or other article's name is given instead
    outcome = await Asker(asker.app, "615").ask("ảnh lễ ký giao ước cụm thi đua số 12 ai chụp")
    assert outcome.fallback and "Kiều Minh" not in _text(outcome) and "Kha Văn Tường" not in _text(outcome)


async def test_a_known_subject_in_a_place_the_documents_do_not_describe_names_the_place_once(asker):
    # the diabetes checks are described in Mỹ Đức only: asked in Ba Vì (a district the documents name elsewhere), the
    # refusal names the place, once, as typed words, not chopped and repeated pieces of the subject
    outcome = await asker.ask("tầm soát tiểu đường miễn phí cho đoàn viên ở ba vì")
    reply = _text(outcome)
    assert outcome.fallback and "412" not in reply
    first = reply.splitlines()[0]
    assert "Ba Vì" in first and "tầm soát" not in first and "miễn" not in first, first
    # a subject no paragraph holds at all is named once, as a whole run of the words typed
    outcome = await Asker(asker.app, "616").ask("đoàn viên mỹ đức có được xét nghiệm máu miễn phí không")
    first = _text(outcome).splitlines()[0]
    assert outcome.fallback and first.count("xét nghiệm") == 1 and "“xét nghiệm máu" in first, first


async def test_a_qualifier_the_documents_do_not_write_does_not_sink_a_found_subject(asker):
    # the document writes "trên 25.000 đồng/suất" for the lunch: "tối thiểu", "ít nhất", "tối đa" qualify the figure
    # asked, they name no subject of their own, so the question is answered, not refused about "tối thiểu"
    for question in ("tiền ăn trưa ngày khám ở mỹ đức tối thiểu bao nhiêu 1 suất",
                     "công đoàn mỹ đức hỗ trợ tiền ăn trưa ít nhất mấy đồng một suất"):
        outcome = await Asker(asker.app, question).ask(question)
        reply = _text(outcome)
        assert not outcome.fallback and "25.000" in reply and "tối thiểu" not in reply, reply


async def test_how_many_people_is_answered_by_a_count_of_people_and_how_much_money_by_money(asker):
    outcome = await asker.ask("có bao nhiêu đoàn viên mỹ đức được nhận quà tết 2025")
    assert not outcome.fallback and "1.850" in _text(outcome) and "1,2 tỷ" not in _text(outcome), _text(outcome)
    outcome = await Asker(asker.app, "617").ask("tết 2025 đoàn viên mỹ đức nhận quà tết tổng bao nhiêu tiền")
    assert not outcome.fallback and "1,2 tỷ" in _text(outcome) and "1.850" not in _text(outcome), _text(outcome)


async def test_a_term_typed_without_its_dash_is_the_term_not_two_years(asker):
    # "nhiệm kỳ 2023 2028" is the term 2023-2028, as typed with a dash: not the term that ended in 2023
    for question in ("đại hội công đoàn mỹ đức nhiệm kỳ 2023 2028 bầu bao nhiêu ủy viên",
                     "đại hội công đoàn mỹ đức nhiệm kỳ 2023-2028", "đại hội công đoàn mỹ đức nhiệm kỳ 2023 2028",
                     "dai hoi cd my duc nhiem ky 2023 2028 bau may uy vien"):
        outcome = await Asker(asker.app, question).ask(question)
        assert not outcome.fallback and "27 ủy viên" in _text(outcome), _text(outcome)
        assert "25 ủy viên" not in _text(outcome), _text(outcome)


async def test_a_yes_no_question_the_evidence_answers_begins_with_yes(asker):
    outcome = await asker.ask("ở mỹ đức có tầm soát tiểu đường miễn phí cho đoàn viên không")
    first = _text(outcome).splitlines()[0]
    assert not outcome.fallback and first.startswith("Có") and "tiểu đường" in first, first
    # a question asking a figure is no yes/no question, even with "có … không"
    outcome = await Asker(asker.app, "618").ask("có bao nhiêu đoàn viên mỹ đức được nhận quà tết 2025")
    assert not _text(outcome).startswith("Có."), _text(outcome)
    # the evidence after "Có." is a sentence of its own: its first letter is a capital
    outcome = await Asker(asker.app, "619").ask("đoàn viên mỹ đức có được dự giải bóng bàn năm 2025 không")
    assert _text(outcome).startswith("Có. Đoàn viên huyện Mỹ Đức"), _text(outcome)


async def test_a_follow_up_naming_only_a_place_keeps_the_subject_and_says_when_it_is_not_there(asker):
    outcome = await asker.ask("ở mỹ đức có tầm soát tiểu đường miễn phí cho đoàn viên không")
    assert not outcome.fallback and "412" in _text(outcome), _text(outcome)
    outcome = await asker.ask("thế ở ba vì?")
    first = _text(outcome).splitlines()[0]
    assert outcome.fallback and "Ba Vì" in first and "Kha Văn Tường" not in _text(outcome), _text(outcome)


async def test_an_undated_articles_source_line_quotes_its_title_like_every_other(app):
    """An article without a date or publication (a page that shows neither) is cited as the dated ones are: its
    title in quotes ("Nguồn: “…”."), one source style over every answer."""
    title = "Công đoàn huyện Mỹ Đức trao học bổng cho con đoàn viên"
    sentence = "Công đoàn huyện Mỹ Đức trao 64 suất học bổng cho con đoàn viên có hoàn cảnh khó khăn."
    app.core.set_passages([Passage(1, 1, title, None, "/docs/u1.txt", 0, 0, sentence)])
    outcome = await Asker(app, "631").ask("công đoàn mỹ đức trao bao nhiêu suất học bổng cho con đoàn viên")
    assert not outcome.fallback and "64" in _text(outcome), _text(outcome)
    assert f"Nguồn: “{title}”." in _text(outcome), _text(outcome)


async def test_two_things_after_a_shared_head_are_asked_one_by_one(app):
    """"ưu đãi áo mưa và mũ vải giảm bao nhiêu": the head ("ưu đãi") is shared, the things are as many words each
    side of "và" — two questions, each answered from its own paragraph, not one refused for a missing word."""
    title = "Công đoàn huyện Mỹ Đức ký thỏa thuận ưu đãi cho đoàn viên"
    sentences = ["Theo thỏa thuận, đoàn viên huyện Mỹ Đức mua áo mưa được ưu đãi giảm 15%.",
                 "Ở một cửa hàng khác, đoàn viên mua mũ vải được ưu đãi giảm 25%."]
    app.core.set_passages([Passage(i + 1, 1, title, date(2025, 5, 1), "/docs/h1.txt", i, 0, text)
                           for i, text in enumerate(sentences)])
    outcome = await Asker(app, "632").ask("ưu đãi áo mưa và mũ vải giảm bao nhiêu")
    assert not outcome.fallback and "15%" in _text(outcome) and "25%" in _text(outcome), _text(outcome)
