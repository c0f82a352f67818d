"""The console speaks to office staff: no command lines, package names, settings variables or program names on
its pages (a user trial found "(như lệnh unionbot requests export)" and "pip install 'unionbot[charts]'")."""

from __future__ import annotations

import re

import yaml

from locales import LOCALES_DIR
from tests.web.test_stats_console import without_charts

#: what only a developer or an operator would read: the program's commands, installers, settings variables, files
DEVELOPER = re.compile(r"unionbot|pip install|bash |scripts/|setup\.sh|UNIONBOT_|dòng lệnh|\.py\b", re.IGNORECASE)


def strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    return [node] if isinstance(node, str) else []


def test_no_console_string_is_developer_text():
    texts = strings(yaml.safe_load((LOCALES_DIR / "web" / "vi.yaml").read_text(encoding="utf-8")))
    assert len(texts) > 100
    assert [text for text in texts if DEVELOPER.search(text)] == []


async def test_the_requests_and_statistics_pages_name_no_command(console, monkeypatch):
    without_charts(monkeypatch)  # the page then says why it shows tables: in words for the office
    chair = await console.signed_in("NTL-0001")
    for path in ("/web/requests", "/web/stats", "/web/documents", "/web/members"):
        status, page = await chair.get(path)
        assert status == 200, path
        main = page[page.index("<main>"):]
        assert not DEVELOPER.search(re.sub(r"<[^>]+>", " ", main)), (path, DEVELOPER.search(main))
