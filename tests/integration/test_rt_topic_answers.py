"""Issue 13: an entry's sheet or a category's list answers only what it is about (``KnowledgeAnswers.covers``).

The knowledge here is invented (two offers, a support programme, two campaigns of clusters the real knowledge does
not have) and the questions are written for these tests: asked about a thing no offer names, the bot declines
instead of listing the offers it has; asked in general, it lists them; a campaign of the cluster and year asked is
shown, not another's phases.
"""

from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from bot.app import build_app
from tests.integration.conftest import Asker, text_of

SOURCE = {"document": "ung-hoa-uu-dai.txt", "title": "Ứng Hòa ký thỏa thuận ưu đãi cho đoàn viên"}
ENTRIES = [
    {"id": "nuoc-mam-lang-chai", "kind": "benefit", "name": "Nước mắm Làng Chài", "aliases": ["nước mắm", "Làng Chài"],
     "summary": "Thỏa thuận ưu đãi cho đoàn viên của LĐLĐ huyện Ứng Hòa với Công ty cổ phần Làng Chài: nước mắm cá "
                "cơm được giảm 15% so với giá bán lẻ.",
     "source": SOURCE, "as_of": "2024-06-30", "unit": "LĐLĐ huyện Ứng Hòa",
     "benefit": {"partner": "Công ty cổ phần Làng Chài", "products": ["nước mắm cá cơm"],
                 "discount": "giảm 15% so với giá bán lẻ"}},
    {"id": "banh-mi-sao-mai", "kind": "benefit", "name": "Bánh mì Sao Mai", "aliases": ["bánh mì", "Sao Mai"],
     "summary": "Thỏa thuận ưu đãi cho đoàn viên của LĐLĐ huyện Ứng Hòa với Công ty TNHH Sao Mai: bánh mì, bánh ngọt "
                "được giảm 10% tại các cửa hàng Sao Mai.",
     "source": SOURCE, "as_of": "2024-06-30", "unit": "LĐLĐ huyện Ứng Hòa",
     "benefit": {"partner": "Công ty TNHH Sao Mai", "products": ["bánh mì", "bánh ngọt"], "discount": "giảm 10%"}},
    {"id": "ung-hoa-tham-hoi-2024", "kind": "programme", "name": "Thăm hỏi công nhân ốm đau (Ứng Hòa, 2024)",
     "aliases": ["thăm hỏi ốm đau"],
     "summary": "Năm 2024, LĐLĐ huyện Ứng Hòa thăm hỏi 120 công nhân ốm đau và tổ chức khám sức khỏe cho công nhân, "
                "mỗi suất 500.000 đồng; đại diện Công đoàn trao tiền tận nhà.",
     "source": {"document": "ung-hoa-cham-lo.txt", "title": "Ứng Hòa chăm lo đoàn viên"}, "as_of": "2024-12-31",
     "unit": "LĐLĐ huyện Ứng Hòa", "programme": {"category": "health", "figures": "120 công nhân; 500.000 đồng"}},
    {"id": "cum9-thi-dua-2024", "kind": "campaign", "name": "Thi đua Cụm thi đua số 9 năm 2024",
     "aliases": ["thi đua cụm 9"],
     "summary": "Năm 2024, Cụm thi đua số 9 thi đua theo 2 đợt: Đợt 1 từ 01/01/2024 đến 30/06/2024; Đợt 2 từ "
                "01/07/2024 đến 31/12/2024.",
     "source": {"document": "cum-9.txt", "title": "Cụm thi đua số 9 ký giao ước thi đua năm 2024"},
     "as_of": "2024-01-05", "unit": "Cụm thi đua số 9",
     "campaign": {"year": 2024, "phases": [
         {"number": 1, "starts_on": "2024-01-01", "ends_on": "2024-06-30", "theme": "Chào mừng ngày thành lập"},
         {"number": 2, "starts_on": "2024-07-01", "ends_on": "2024-12-31", "theme": "Lao động giỏi"}]}},
    {"id": "cum8-cao-diem-2023", "kind": "campaign", "name": "Đợt thi đua cao điểm năm 2023 (Cụm thi đua số 8)",
     "aliases": ["đợt thi đua cao điểm", "thi đua cao điểm"],
     "summary": "Năm 2023, các đơn vị Cụm thi đua số 8 phát động đợt thi đua cao điểm chào mừng Đại hội Công đoàn các "
                "cấp.",
     "source": {"document": "cum-8.txt", "title": "Cụm thi đua số 8 phát động thi đua cao điểm"},
     "as_of": "2023-03-01", "unit": "Cụm thi đua số 8", "campaign": {"year": 2023}},
]


CHAIR = {"id": "chu-tich-ung-hoa-2024", "kind": "fact", "name": "Chủ tịch LĐLĐ huyện Ứng Hòa (2024): Nguyễn Văn Toản",
     "aliases": ["Nguyễn Văn Toản", "chủ tịch LĐLĐ Ứng Hòa"],
     "summary": "Năm 2024, đồng chí Nguyễn Văn Toản là Chủ tịch LĐLĐ huyện Ứng Hòa.",
     "details": "6 tháng đầu năm 2024, LĐLĐ huyện Ứng Hòa tập trung thu đoàn phí công đoàn và phát triển đoàn viên.",
     "source": {"document": "ung-hoa-cham-lo.txt", "title": "Ứng Hòa chăm lo đoàn viên"}, "as_of": "2024-12-31",
     "unit": "LĐLĐ huyện Ứng Hòa", "fact": {}}


def _knowledge(folder: Path, entries: list[dict]) -> Path:
    folder.mkdir()
    (folder / "invented.yaml").write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def own_cache(tmp_path_factory) -> Path:
    """The models trained on this invented knowledge, apart from the session's cache (which other tests copy whole)."""
    return tmp_path_factory.mktemp("rt-nlu-cache")


async def _asker(settings, clock, folder: Path, cache: Path) -> Asker:
    return Asker(await build_app(settings.replace(knowledge_dir=folder, cache_dir=cache), clock=clock), "731")


@pytest_asyncio.fixture
async def asker(settings, clock, tmp_path: Path, own_cache: Path):
    asking = await _asker(settings, clock, _knowledge(tmp_path / "knowledge", ENTRIES), own_cache)
    yield asking
    await asking.app.close()


@pytest_asyncio.fixture
async def chair_asker(settings, clock, tmp_path: Path, own_cache: Path):
    asking = await _asker(settings, clock, _knowledge(tmp_path / "knowledge", [*ENTRIES, CHAIR]), own_cache)
    yield asking
    await asking.app.close()


async def test_a_question_about_the_category_lists_every_offer(asker):
    for question in ("có những ưu đãi gì cho đoàn viên", "co nhung uu dai gi cho doan vien"):
        outcome = await asker.ask(question)
        assert not outcome.fallback, question
        assert "Nước mắm Làng Chài" in text_of(outcome) and "Bánh mì Sao Mai" in text_of(outcome), question


@pytest.mark.parametrize("question", [
    "công đoàn có chương trình giảm tiền điện cho đoàn viên không",
    "cong doan co chuong trinh giam tien dien cho doan vien khong",
    "đoàn viên khám răng có được ưu đãi gì không",  # "khám" is a word of the programme, not of any offer
])
async def test_a_thing_no_offer_names_is_declined_not_answered_with_the_offers(asker, question):
    outcome = await asker.ask(question)
    assert outcome.fallback, text_of(outcome)
    assert "15%" not in text_of(outcome) and "10%" not in text_of(outcome)
    # said plainly (that nothing was found, or naming what it has nothing about), with the topics the bot knows
    # (without their figures)
    said = text_of(outcome)
    assert ("chưa tìm thấy thông tin" in said or "chưa có thông tin về" in said) and "ưu đãi cho đoàn viên" in said


@pytest.mark.parametrize("question", ["bánh mì Sao Mai loại BM40 có được giảm giá không",
                                      "nước mắm NM30 có ưu đãi không"])
async def test_a_model_the_offer_does_not_name_is_declined(asker, question):
    # the offer named is about its products, not a model code it never mentions
    outcome = await asker.ask(question)
    assert outcome.fallback, text_of(outcome)


async def test_an_offer_asked_by_its_product_is_still_answered(asker):
    outcome = await asker.ask("đoàn viên mua bánh mì được giảm bao nhiêu")
    assert not outcome.fallback and "10%" in text_of(outcome)


async def test_the_campaign_of_the_cluster_and_year_asked_is_shown_not_anothers_phases(asker):
    for question in ("cụm 8 năm 2023 thi đua mấy đợt", "đợt thi đua cụm 8 năm 2023 gồm những đợt nào"):
        outcome = await asker.ask(question)
        reply = text_of(outcome)
        assert not outcome.fallback and "Cụm thi đua số 8" in reply, question
        assert "Cụm thi đua số 9" not in reply and "01/07/2024" not in reply, question
    outcome = await asker.ask("đợt 1 của cụm 9 năm 2024 bắt đầu khi nào")
    assert not outcome.fallback and "01/01/2024" in text_of(outcome)


async def test_a_slip_of_one_letter_is_no_new_subject_of_the_question(asker):
    # the gate reads the question as the evidence index corrects it: "ưu đãii", "nhữg", "mìi" are the words meant
    for question in ("có những ưu đãii gì cho đoàn viên", "có nhữg ưu đãi gì cho đoàn viên"):
        outcome = await asker.ask(question)
        assert not outcome.fallback and "Bánh mì Sao Mai" in text_of(outcome), question
    outcome = await asker.ask("đoàn viên mua bánh mìi được giảm bao nhiêu")
    assert not outcome.fallback and "10%" in text_of(outcome)
    outcome = await asker.ask("đoàn viên khám răngg có được ưu đãi gì không")
    assert outcome.fallback and "15%" not in text_of(outcome)


@pytest.mark.parametrize("question, said", [
    ("cho em hỏi thăm hỏi ốm đau là gì", "tổ chức khám sức khỏe"),  # what it is, not its figures alone
    ("thi đua cụm 9 là gì vậy ad", "Đợt 2"),  # the campaign's sheet: both phases, not the first one's line
    ("bánh mì sao mai là gì", "cửa hàng Sao Mai"),
])
async def test_what_an_entry_named_whole_is_is_its_sheet(asker, question, said):
    outcome = await asker.ask(question)
    assert not outcome.fallback and said in text_of(outcome), text_of(outcome)


async def test_an_acronym_alone_is_still_the_language_datas(asker):
    outcome = await asker.ask("CĐCS là gì")
    assert not outcome.fallback and "viết tắt của “công đoàn cơ sở”" in text_of(outcome)


async def test_a_declined_topic_question_is_logged_for_the_chairs(asker):
    from storage.unanswered import UnansweredRepository

    app = asker.app
    await asker.ask("công đoàn có chương trình giảm tiền điện cho đoàn viên không")
    await app.core.unanswered.flush()
    async with app.db.sessions() as session:
        rows = await UnansweredRepository(session).most_frequent(10)
    assert any("tien dien" in r.key for r in rows)


async def test_an_entry_sharing_the_question_only_in_its_background_does_not_answer_it(chair_asker):
    # the chair's sheet mentions the dues in its details (what the district did): it says nothing of how much
    outcome = await chair_asker.ask("đoàn phí công đoàn mỗi tháng đóng bao nhiêu")
    assert outcome.fallback and "Nguyễn Văn Toản" not in text_of(outcome), text_of(outcome)
    outcome = await chair_asker.ask("chủ tịch LĐLĐ huyện Ứng Hòa năm 2024 là ai")
    assert not outcome.fallback and "Nguyễn Văn Toản" in text_of(outcome)
