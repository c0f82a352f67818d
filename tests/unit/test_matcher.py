from datetime import date

import pytest

from bot.app import build_matcher
from bot.settings import Settings
from nlu import intents
from storage.knowledge import Entry, load_directory


@pytest.fixture(scope="module")
def entries():
    return load_directory(Settings(_env_file=None).knowledge.dir)


@pytest.fixture(scope="module")
def matcher(entries, tmp_path_factory):
    return build_matcher(entries, Settings(_env_file=None, cache_dir=tmp_path_factory.mktemp("cache")))


@pytest.mark.parametrize(("text", "intent"), [
    ("gạo Kim Sáng giảm bao nhiêu phần trăm?", intents.BENEFIT),
    ("gao kim sang giam bn %", intents.BENEFIT),
    ("sua ha lan dc giam ko ad", intents.BENEFIT),
    ("có hỗ trợ tiền thuê trọ cho công nhân không", intents.PROGRAMME),
    ("vay von quy tro von can gi", intents.LOAN),
    ("đợt 2 thi đua bắt đầu khi nào", intents.EMULATION_PHASE),
    ("dot thi dua hien tai la dot may", intents.EMULATION_PHASE),
    ("phong trào xanh sạch đẹp là gì", intents.MOVEMENT),
    ("cum thi dua so 1 gom nhung don vi nao", intents.CLUSTER),
    ("ngày thành lập công đoàn việt nam", intents.UNION_FACT),
    ("bao nhieu cong nhan gioi duoc bieu duong", intents.COMMENDATION),
    ("nhà em bị cháy, công đoàn có hỗ trợ không", intents.HARDSHIP_REQUEST),
    ("xin chào", intents.GREETING),
    ("cam on ad nhieu", intents.THANKS),
    ("giá vàng SJC hôm nay bao nhiêu", intents.OUT_OF_SCOPE),
    ("thoi tiet ha noi ngay mai co mua khong", intents.OUT_OF_SCOPE),
])
def test_intents_with_and_without_diacritics(matcher, text, intent):
    assert matcher.understand(text).intent == intent


def test_entities_are_found_despite_typos_and_missing_diacritics(matcher):
    u = matcher.understand("gaoj kim sangg giam bao nhieu")
    assert u.intent == intents.BENEFIT
    assert u.entities_of("benefit")[0].entry_id == "kim-sang-gao"


def test_cluster_named_by_number_or_by_member_district(matcher, entries):
    cluster_one = next(e.id for e in entries if e.cluster and e.cluster.number == 1)
    assert matcher.understand("cụm số 1 gồm những ai").entities_of("cluster")[0].entry_id == cluster_one
    assert cluster_one in [m.entry_id for m in matcher.understand("quan ba dinh thuoc cum nao").entities_of("cluster")]


def test_empty_input_is_unsure(matcher):
    assert matcher.understand("   ").intent == intents.UNSURE


def test_an_entry_added_to_the_knowledge_base_is_understood_without_code_changes(entries, tmp_path):
    extra = Entry.model_validate({
        "id": "test-banh-mi", "kind": "benefit", "name": "Bánh mì Phượng Hoàng",
        "aliases": ["Phượng Hoàng", "bánh mì"], "summary": "Dữ liệu thử nghiệm.",
        "source": {"document": "test", "title": "test"}, "as_of": date(2026, 1, 1),
        "benefit": {"partner": "Tiệm bánh Phượng Hoàng", "discount": "giảm 10%"},
    })
    matcher = build_matcher([*entries, extra], Settings(_env_file=None, cache_dir=tmp_path))
    u = matcher.understand("banh mi phuong hoang giam bao nhieu")
    assert u.intent == intents.BENEFIT
    assert u.entities_of("benefit")[0].entry_id == "test-banh-mi"


def test_the_dev_set_is_kept_apart_from_the_training_examples():
    import json

    from bot.settings import PROJECT_ROOT
    from nlu.data import load_abbreviations, load_training_examples
    from nlu.normalize import Normalizer

    normalize = Normalizer(load_abbreviations())
    train = {normalize(text).folded for text, _ in load_training_examples()}
    dev = [json.loads(line)["text"] for line in (PROJECT_ROOT / "eval" / "dev.jsonl").read_text().splitlines() if line]
    assert len(dev) >= 300
    assert [q for q in dev if normalize(q).folded in train] == []


def test_a_matcher_loaded_from_the_cache_understands_as_the_one_built(entries, tmp_path):
    """The stored matcher indexes (the retriever's postings packed for a fast unpickling) give the same
    understanding, entities and scores as the freshly built ones, on every question of the dev set."""
    import json
    from pathlib import Path

    settings = Settings(_env_file=None, cache_dir=tmp_path / "cache")
    built = build_matcher(entries, settings)  # built, then stored
    assert any((tmp_path / "cache").glob("matcher-*.pickle"))
    loaded = build_matcher(entries, settings)  # read from the cache dir
    dev = Path(__file__).resolve().parents[2] / "eval" / "dev.jsonl"
    texts = [json.loads(line)["text"] for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(texts) > 400
    assert [repr(loaded.understand(t)) for t in texts] == [repr(built.understand(t)) for t in texts]
    assert any(loaded.understand(t).related for t in texts)  # the retriever is on the path compared
