"""The web console mounted on a test server over the whole app, and browsers (HTTP clients) per member."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.knowledge import Actor, watch_core
from storage.membership import Identity, MemberRepository
from web.app import mount_console

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def identity_of(app, member_code: str) -> Identity:
    async with app.db.sessions() as session:
        members = MemberRepository(session)
        member = await members.by_code(member_code)
        return Identity(member, await members.grants(member.id))


async def actor_of(app, member_code: str) -> Actor:
    return Actor(await identity_of(app, member_code), f"test:{member_code}")


class Browser:
    """One browser: its own cookies; ``csrf`` is the token of the last page that had a form."""

    def __init__(self, console: ConsoleServer) -> None:
        self.console = console
        self.http = aiohttp.ClientSession(base_url=console.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def get(self, path: str, **kwargs) -> tuple[int, str]:
        async with self.http.get(path, allow_redirects=False, **kwargs) as response:
            text = await response.text(errors="replace")  # a download (a photo, a spreadsheet) is bytes
            if found := CSRF.search(text):
                self.csrf = found.group(1)
            return response.status, text if response.status < 300 or response.status >= 400 else \
                response.headers.get("Location", "")

    async def post(self, path: str, data: dict | None = None, *, csrf: str | None = None) -> tuple[int, str]:
        form = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        async with self.http.post(path, data=form, allow_redirects=False) as response:
            text = await response.text()
            return response.status, text if response.status < 300 or response.status >= 400 else \
                response.headers.get("Location", "")

    async def sign_in(self, token: str) -> int:
        status, _ = await self.get(f"/web/login/{token}")
        assert status == 200
        status, _ = await self.post("/web/login", {"token": token}, csrf="")
        if status == 303:
            await self.get("/web/knowledge")  # a page with forms: its CSRF token
        return status

    async def close(self) -> None:
        await self.http.close()


class ConsoleServer:
    def __init__(self, app, server: TestServer, console) -> None:
        self.app, self.server, self.console = app, server, console
        self.url = str(server.make_url(""))
        self.browsers: list[Browser] = []

    def browser(self) -> Browser:
        browser = Browser(self)
        self.browsers.append(browser)
        return browser

    async def signed_in(self, member_code: str) -> Browser:
        """A browser signed in by a link issued to ``member_code`` (as /web does)."""
        token = await self.console.access.issue_link(await identity_of(self.app, member_code))
        assert token is not None, member_code
        browser = self.browser()
        assert await browser.sign_in(token) == 303
        return browser


BASE_URL = "http://console.test"


@pytest.fixture
def settings(settings):
    """The console on: ``/web`` in chat sends links under this address."""
    return settings.replace(web_base_url=BASE_URL)


@pytest_asyncio.fixture
async def console(app) -> AsyncIterator[ConsoleServer]:
    watcher = watch_core(app.db, app.core)  # knowledge and document passages
    await watcher.check()
    web_app = web.Application()
    mounted = mount_console(web_app, app, watcher)
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    running = ConsoleServer(app, server, mounted)
    try:
        yield running
    finally:
        for browser in running.browsers:
            await browser.close()
        await server.close()


class _FormReader(HTMLParser):
    """The named fields of the first <form class="entry"> of a page, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "entry" in (a.get("class") or ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields[self._textarea] = ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.fields):
            self.fields[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html)
    reader.fields.pop("csrf", None)
    return reader.fields
