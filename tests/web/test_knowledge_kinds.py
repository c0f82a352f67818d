"""Every kind of knowledge entry added and edited through the console's form (its kind-specific block written as
YAML, as in the knowledge files): a campaign with its phases, a cluster, a loan, a commendation, a programme, the
kinds without a block, a benefit. A bad block is refused with the problems the YAML loader (``unionbot kb load``)
finds in the same entry in a file — one line each, in Vietnamese with the form's labels — and nothing is written."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

import pytest
import yaml

from storage.knowledge import KnowledgeEditRepository, KnowledgeError, load_directory
from tests.web.conftest import form_fields

SOURCE = {"source_document": "ke-hoach-thu.txt", "source_title": "Kế hoạch thử nghiệm", "as_of": "2026-01-05"}


@dataclass(frozen=True)
class Kind:
    kind: str
    block: dict | None  # None: a kind without a block of its own
    edit: dict | None  # the block after the edit
    bad: dict  # a block the loader refuses
    shown: str  # a value of the block, as the entry's page shows it


CASES = [
    Kind("campaign",
         {"year": 2026, "theme": "Lao động giỏi, lao động sáng tạo",
          "phases": [{"number": 1, "starts_on": date(2026, 1, 1), "ends_on": date(2026, 6, 30), "theme": "Đợt một"},
                     {"number": 2, "starts_on": date(2026, 7, 1), "ends_on": date(2026, 12, 31)}]},
         {"year": 2026, "theme": "Lao động giỏi, lao động sáng tạo",
          "phases": [{"number": 1, "starts_on": date(2026, 1, 1), "ends_on": date(2026, 6, 30), "theme": "Đợt một"},
                     {"number": 2, "starts_on": date(2026, 7, 1), "ends_on": date(2026, 11, 30),
                      "theme": "Đợt hai, về đích sớm"}]},
         {"year": 2026, "phases": [{"number": 1, "starts_on": date(2026, 6, 30), "ends_on": date(2026, 1, 1)},
                                   {"number": 0, "starts_on": date(2026, 7, 1), "ends_on": date(2026, 8, 1)}]},
         "2026-07-01"),
    Kind("cluster", {"number": 7, "year": 2026, "members": ["LĐLĐ quận Thử Một", "LĐLĐ quận Thử Hai"],
                     "leader_unit": "LĐLĐ quận Thử Một"},
         {"number": 7, "year": 2026, "members": ["LĐLĐ quận Thử Một", "LĐLĐ quận Thử Hai", "LĐLĐ quận Thử Ba"],
          "leader_unit": "LĐLĐ quận Thử Hai"},
         {"number": 101, "year": 1800, "members": "không phải danh sách"}, "LĐLĐ quận Thử Hai"),
    Kind("loan", {"fund": "Quỹ trợ vốn thử nghiệm", "figures": "vay tối đa 30 triệu đồng"},
         {"fund": "Quỹ trợ vốn thử nghiệm", "figures": "vay tối đa 40 triệu đồng"},
         {"figures": "thiếu tên quỹ", "rate": "1%"}, "Quỹ trợ vốn thử nghiệm"),
    Kind("commendation", {"period": "2021-2025", "figures": "12 tập thể, 30 cá nhân"},
         {"period": "2021-2025", "figures": "14 tập thể, 31 cá nhân"}, {"period": ""}, "12 tập thể, 30 cá nhân"),
    Kind("programme", {"category": "tet", "figures": "500 suất quà"}, {"category": "tet", "figures": "600 suất quà"},
         {"category": "khong-co"}, "500 suất quà"),
    Kind("benefit", {"partner": "Nhà sách thử nghiệm", "discount": "giảm 15%", "discount_max_pct": 15},
         {"partner": "Nhà sách thử nghiệm", "discount": "giảm 20%", "discount_max_pct": 20},
         {"partner": "Nhà sách thử nghiệm", "discount_max_pct": 150}, "Nhà sách thử nghiệm"),
    Kind("movement", None, None, {"leader": "không có trường này"}, ""),
    Kind("title", None, None, {"year": 2026}, ""),
    Kind("fact", None, None, {"text": "không có trường này"}, ""),
]


def fields(case: Kind, block: dict | None, **more) -> dict:
    entry_id = f"thu-{case.kind}"
    return {"id": entry_id, "kind": case.kind, "name": f"Mục thử loại {case.kind}", "aliases": "",
            "summary": f"Tóm tắt của mục thử loại {case.kind}.", "details": "", "unit": "", **SOURCE,
            "source_publication": "", "source_published": "", "source_passages": "",
            "block": yaml.safe_dump(block, allow_unicode=True, sort_keys=False) if block else "", **more}


def knowledge_file(tmp_path, case: Kind, block: dict | None, name: str):
    """A knowledge folder with the entry of the form, as a YAML file ``unionbot kb load`` reads."""
    entry = {"id": f"thu-{case.kind}", "kind": case.kind, "name": f"Mục thử loại {case.kind}",
             "summary": f"Tóm tắt của mục thử loại {case.kind}.", "as_of": date(2026, 1, 5),
             "source": {"document": SOURCE["source_document"], "title": SOURCE["source_title"]},
             case.kind: {} if block is None else block}  # "movement: {}", as the knowledge files write it
    folder = tmp_path / name
    folder.mkdir()
    (folder / "thu.yaml").write_text(yaml.safe_dump({"entries": [entry]}, allow_unicode=True), encoding="utf-8")
    return folder


def loaded(tmp_path, case: Kind, block: dict | None, name: str):
    """The entry's block as the loader reads it from a file."""
    [entry] = load_directory(knowledge_file(tmp_path, case, block, name))
    return getattr(entry, case.kind)


def loader_errors(tmp_path, case: Kind, block: dict) -> list[str]:
    """What the loader says of the same entry in a knowledge file, without the file and entry names."""
    with pytest.raises(KnowledgeError) as refused:
        load_directory(knowledge_file(tmp_path, case, block, "bad"))
    prefix = f"thu.yaml: entry 'thu-{case.kind}': "
    assert refused.value.errors and all(e.startswith(prefix) for e in refused.value.errors)
    return [e.removeprefix(prefix) for e in refused.value.errors]


def shown_errors(page: str) -> list[str]:
    box = page.split('id="errors"')[1].split("</div>")[0]
    return [html.unescape(e) for e in re.findall(r"<li>(.*?)</li>", box, re.S)]


def same_problems(shown: list[str], loader: list[str]) -> bool:
    """One line per problem the loader finds, each in Vietnamese naming the form's field (no pydantic English)."""
    english = re.compile(r"field '|should|Input|String|Extra inputs|required")
    return len(shown) == len(loader) and all(": " in e and not english.search(e) for e in shown)


async def stored(app, entry_id: str):
    async with app.db.sessions() as session:
        return await KnowledgeEditRepository(session).get(entry_id)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
async def test_each_kind_is_added_and_edited_in_the_console_with_the_loaders_validation(console, case, tmp_path):
    app = console.app
    admin = await console.signed_in("DEMO-ADMIN")
    status, page = await admin.get(f"/web/knowledge/new?kind={case.kind}")
    assert status == 200 and form_fields(page)["kind"] == case.kind
    entry_id = f"thu-{case.kind}"

    # a bad block: the loader's errors, on the page, nothing stored
    expected = loader_errors(tmp_path, case, case.bad)
    status, page = await admin.post("/web/knowledge/new", fields(case, case.bad, owner=""))
    assert status == 422 and same_problems(shown_errors(page), expected), (shown_errors(page), expected)
    assert await stored(app, entry_id) is None

    status, where = await admin.post("/web/knowledge/new", fields(case, case.block, owner=""))
    assert (status, where) == (303, f"/web/knowledge/{entry_id}"), where
    entry = await stored(app, entry_id)
    assert entry.kind == case.kind
    assert getattr(entry, case.kind) == loaded(tmp_path, case, case.block, "added")
    status, page = await admin.get(where)
    assert status == 200 and f"Mục thử loại {case.kind}" in page and html.escape(case.shown) in page

    # the edit form shows the block as it is stored; an edit of it is saved, a bad one refused as the loader does
    status, page = await admin.get(f"{where}/edit")
    form = form_fields(page)
    assert status == 200 and form["kind"] == case.kind
    if case.block is not None:  # the form's YAML reads back as the same block
        assert loaded(tmp_path, case, yaml.safe_load(form["block"]), "form") == getattr(entry, case.kind)
    status, page = await admin.post(f"{where}/edit", {**form, "block": fields(case, case.bad)["block"]})
    assert status == 422 and same_problems(shown_errors(page), expected)
    if case.edit is not None:
        status, _ = await admin.post(f"{where}/edit", {**form, "block": fields(case, case.edit)["block"]})
        assert status == 303
        after = getattr(await stored(app, entry_id), case.kind)
        assert after == loaded(tmp_path, case, case.edit, "edited") and after != getattr(entry, case.kind)
    else:
        status, _ = await admin.post(f"{where}/edit", {**form, "summary": "Tóm tắt đã sửa."})
        assert status == 303 and (await stored(app, entry_id)).summary == "Tóm tắt đã sửa."
