"""Knowledge loading: the demo files, bad files rejected whole with precise errors, idempotent loads."""

import shutil
from pathlib import Path

import pytest
import yaml

from bot.app import load_knowledge_files
from bot.settings import Settings
from storage import migrate
from storage.db import Database
from storage.knowledge import KINDS, KnowledgeError, KnowledgeRepository, load_directory

DEMO = Settings(_env_file=None).knowledge.dir
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

GOOD_ENTRY = {
    "id": "test-entry", "kind": "fact", "name": "Ngày thử", "summary": "Một dữ kiện thử.",
    "source": {"document": "test.txt", "title": "Bài thử"}, "as_of": "2020-12-31", "fact": {},
}


def write(directory: Path, name: str, entries) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")


def test_demo_knowledge_is_valid_and_covers_every_kind_the_product_needs():
    entries = load_directory(DEMO)
    kinds = {e.kind for e in entries}
    assert {"benefit", "programme", "loan", "campaign", "movement", "title", "cluster", "fact",
            "commendation"} <= kinds <= set(KINDS)
    assert all(e.source.document and e.source.title and e.as_of for e in entries)


def test_demo_knowledge_holds_the_seed_facts():
    entries = {e.id: e for e in load_directory(DEMO)}
    rice = entries["kim-sang-gao"].benefit
    assert (rice.discount_min_pct, rice.discount_max_pct) == (20, 40)
    milk = entries["sua-ha-lan"].benefit
    assert milk.discount_max_pct == 30
    phases = [p for e in entries.values() if e.campaign for p in e.campaign.phases]
    assert any(p.number == 2 and p.starts_on.isoformat() == "2021-07-01" and p.ends_on.isoformat() == "2021-12-31"
               for p in phases)
    clusters = {e.cluster.number: e.cluster for e in entries.values() if e.cluster}
    assert {1, 3, 6} <= set(clusters)
    assert clusters[1].leader_person == "Nguyễn Xuân Trọng"


def test_every_source_document_is_a_seed_article():
    if not SEEDS.exists():
        pytest.skip("seed articles not found beside the repository")
    seeds = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    for entry in load_directory(DEMO):
        assert entry.source.document in seeds, entry.id


@pytest.mark.parametrize(("mutation", "expected"), [
    ({"kind": "recipe"}, "field 'kind'"),
    ({"as_of": "31/12/2020"}, "field 'as_of'"),
    ({"summary": None}, "field 'summary'"),
    ({"colour": "red"}, "field 'colour'"),
    ({"id": "Có Dấu"}, "field 'id'"),
    ({"kind": "benefit"}, "needs exactly the block 'benefit:'"),
])
def test_a_bad_entry_is_reported_with_file_entry_and_field(tmp_path, mutation, expected):
    write(tmp_path, "a.yaml", [GOOD_ENTRY])
    write(tmp_path, "b.yaml", [{**GOOD_ENTRY, "id": "bad-one", **mutation}])
    with pytest.raises(KnowledgeError) as err:
        load_directory(tmp_path)
    [message] = err.value.errors
    assert message.startswith("b.yaml: entry '") and expected in message


def test_duplicate_ids_and_broken_yaml_are_reported(tmp_path):
    write(tmp_path, "a.yaml", [GOOD_ENTRY])
    write(tmp_path, "b.yaml", [GOOD_ENTRY])
    (tmp_path / "c.yaml").write_text("entries: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_directory(tmp_path)
    text = "\n".join(err.value.errors)
    assert "b.yaml: entry 'test-entry': field 'id': duplicate" in text
    assert "c.yaml: not valid YAML" in text


async def test_load_is_idempotent_and_a_bad_file_changes_nothing(database_url, tmp_path):
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        settings = Settings(_env_file=None, knowledge_dir=DEMO)
        first = await load_knowledge_files(db, settings)
        async with db.sessions() as session:
            before = [e.model_dump() for e in await KnowledgeRepository(session).all()]
        assert await load_knowledge_files(db, settings) == first
        async with db.sessions() as session:
            assert [e.model_dump() for e in await KnowledgeRepository(session).all()] == before

        broken = tmp_path / "broken"
        shutil.copytree(DEMO, broken)
        write(broken, "zz-bad.yaml", [{**GOOD_ENTRY, "as_of": "not a date"}])
        with pytest.raises(KnowledgeError):
            await load_knowledge_files(db, settings.replace(knowledge_dir=broken))
        async with db.sessions() as session:
            assert [e.model_dump() for e in await KnowledgeRepository(session).all()] == before

        # a removed entry disappears on the next load; nothing is duplicated
        smaller = tmp_path / "smaller"
        write(smaller, "only.yaml", [GOOD_ENTRY])
        assert await load_knowledge_files(db, settings.replace(knowledge_dir=smaller)) == 1
        async with db.sessions() as session:
            assert [e.id for e in await KnowledgeRepository(session).all()] == ["test-entry"]
    finally:
        await db.dispose()
