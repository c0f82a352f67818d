"""The web console: server time per page (aiohttp + Jinja2, a real session over HTTP on 127.0.0.1), the time an
edit takes to reach the bot's answers in the same process, and what the stack adds (import time, size on disk).

Usage: .venv/bin/python bench/web_console.py [--rounds 50] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import header, write_section  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402


def package_size(name: str) -> int:
    files = importlib.metadata.distribution(name).files or []
    return sum(f.locate().stat().st_size for f in files if f.locate().is_file())


def import_ms(module: str, after: str = "bot.app") -> float:
    """What importing ``module`` adds once ``after`` (the bot itself) is imported."""
    code = f"import {after}, time; t=time.perf_counter(); import {module}; print((time.perf_counter()-t)*1000)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(5)]
    return statistics.median(runs)


async def main(rounds: int, write: bool) -> None:
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from handlers.types import Incoming
    from services.knowledge import Actor, KnowledgeWatcher, apply_to_core
    from storage.membership import Identity, MemberRepository
    from web.app import mount_console

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), documents_dir=None,
                            cache_dir=Path(tmp) / "cache", web_base_url="http://127.0.0.1")
        app = await build_app(settings)
        watcher = KnowledgeWatcher(app.db, lambda entries: apply_to_core(app.core, entries))
        await watcher.check()
        web_app = web.Application()
        console = mount_console(web_app, app, watcher)
        server = TestServer(web_app, host="127.0.0.1")
        await server.start_server()
        async with app.db.sessions() as session:
            members = MemberRepository(session)
            member = await members.by_code("NTL-0001")
            identity = Identity(member, await members.grants(member.id))
        token = await console.access.issue_link(identity)
        http = aiohttp.ClientSession(base_url=str(server.make_url("")), cookie_jar=aiohttp.CookieJar(unsafe=True))
        await http.post("/web/login", data={"token": token}, allow_redirects=False)
        pages = {"knowledge list (all entries)": "/web/knowledge", "search": "/web/knowledge?q=sua+ha+lan",
                 "entry": "/web/knowledge/sua-ha-lan", "edit form": "/web/knowledge/sua-ha-lan/edit"}
        rows = []
        count = 0
        for name, path in pages.items():
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                async with http.get(path) as response:
                    body = await response.read()
                    assert response.status == 200, (path, response.status)
                times.append((time.perf_counter() - started) * 1000)
            if path == "/web/knowledge":
                count = body.count(b"<tr>") - 1
            rows.append((name, statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1], len(body)))
        # an edit through the console, until the bot answers with it (same process: the save reloads at once)
        async with http.get("/web/knowledge") as response:
            csrf = (await response.text()).split('name="csrf" value="', 1)[1].split('"', 1)[0]
        reach = []
        for i in range(10):
            view, _ = await console.knowledge.entry(Actor(identity, "bench"), "sua-ha-lan")
            entry = view.entry
            data = entry.model_dump(mode="json", exclude_none=True)
            form = {"csrf": csrf, "id": data["id"], "kind": data["kind"], "name": data["name"],
                    "aliases": "\n".join(data.get("aliases", [])), "summary": f"Bản thử số {i}: giảm 3{i}%.",
                    "details": data.get("details", ""), "as_of": data["as_of"], "unit": data.get("unit", ""),
                    "source_document": data["source"]["document"], "source_title": data["source"]["title"],
                    "block": "partner: Công ty cổ phần Sữa Hà Lan\ndiscount: giảm 30%"}
            started = time.perf_counter()
            async with http.post("/web/knowledge/sua-ha-lan/edit", data=form, allow_redirects=False) as response:
                assert response.status == 303, await response.text()
            replies = await app.core.handle(Incoming(channel="bench", chat_id="1", user_id="1", text="sữa hà lan"))
            assert f"Bản thử số {i}" in replies[0].text
            reach.append((time.perf_counter() - started) * 1000)
        await http.close()
        await server.close()
        await app.close()

    lines = [header("web console"), "",
             f"Server-rendered pages (aiohttp + Jinja2), a signed-in chair over HTTP on 127.0.0.1, SQLite, "
             f"{count} knowledge entries, {rounds} requests per page (session check included).", "",
             "| page | median ms | p95 ms | bytes |", "|---|---|---|---|"]
    lines += [f"| {name} | {med:.1f} | {p95:.1f} | {size:,} |" for name, med, p95, size in rows]
    lines += ["", f"An edit saved in the console until the bot answers with it (save, revision, version, reload of "
              f"the matcher and indexes, then Core.handle): median **{statistics.median(reach):.0f} ms** over 10. "
              "Other processes poll the version every `UNIONBOT_KNOWLEDGE_POLL_SECONDS` (2 s).", "",
              "The stack's cost: jinja2 + markupsafe "
              f"{(package_size('jinja2') + package_size('markupsafe')) / 1e6:.1f} MB on disk; once the bot is imported,"
              f" `import jinja2` adds {import_ms('jinja2'):.0f} ms and `import web.app` {import_ms('web.app'):.0f} ms "
              "(aiohttp is already the webhook server's); imported only when the console is on."]
    text = "\n".join(lines)
    print(text)
    if write:
        write_section("web-console", text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.write))
