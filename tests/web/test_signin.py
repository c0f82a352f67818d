"""Sign-in without passwords: ``/web`` in chat gives chairs and admins a single-use link valid ten minutes; the
session cookie is HttpOnly and SameSite, Secure behind HTTPS, ends after inactivity, at logout or by an admin."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from sqlalchemy import select

from storage.models import WebLoginTokenRow
from tests.conftest import Member
from tests.web.conftest import BASE_URL
from tests.web.test_requests_console import member_chat

LINK = re.compile(re.escape(BASE_URL) + r"/web/login/([A-Za-z0-9_-]+)")


async def link_from_chat(app, user: str, member_code: str) -> str:
    chat = await member_chat(app, user, member_code)
    reply = await chat.says("/web")
    found = LINK.search(reply)
    assert found, reply
    return found.group(1)


async def test_web_in_chat_for_chairs_and_admins_only(app):
    assert "/lienket" in await Member(app, user="201").says("/web")  # not linked
    member = await member_chat(app, "202", "NTL-0103")
    assert LINK.search(await member.says("/web")) is None
    assert await member.says("/web") == app.translator("web.chairs_only")
    chair = await member_chat(app, "205", "NTL-0101")
    assert LINK.search(await chair.says("/web", is_group=True)) is None  # never in front of a group
    for user, code in (("203", "NTL-0101"), ("204", "DEMO-ADMIN")):
        token = await link_from_chat(app, user, code)
        async with app.db.sessions() as session:
            hashes = set(await session.scalars(select(WebLoginTokenRow.token_hash)))
        assert token not in hashes and hashlib.sha256(token.encode()).hexdigest() in hashes  # stored hashed


async def test_a_link_signs_in_once(console, app):
    token = await link_from_chat(app, "301", "NTL-0101")
    browser = console.browser()
    status, page = await browser.get(f"/web/login/{token}")  # a link preview's GET does not use it up
    assert status == 200 and 'name="token"' in page
    async with browser.http.post("/web/login", data={"token": token}, allow_redirects=False) as response:
        assert response.status == 303
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web" in cookie and "Secure" not in cookie
    status, page = await browser.get("/web/knowledge")
    assert status == 200 and "NTL-0101" in page
    again = console.browser()
    assert await again.sign_in(token) == 403  # used
    assert (await again.get("/web/knowledge"))[0] == 303


async def test_an_expired_or_unknown_link_is_refused(console, app, clock):
    token = await link_from_chat(app, "302", "NTL-0101")
    clock.now += timedelta(minutes=10, seconds=1)
    assert await console.browser().sign_in(token) == 403
    assert await console.browser().sign_in("not-a-token") == 403
    fresh = await link_from_chat(app, "303", "NTL-0101")
    clock.now += timedelta(minutes=9, seconds=59)
    assert await console.browser().sign_in(fresh) == 303


async def test_a_session_ends_after_inactivity_not_while_in_use(console, clock):
    browser = await console.signed_in("NTL-0001")
    for _ in range(3):  # used every 20 minutes: still signed in after an hour
        clock.now += timedelta(minutes=20)
        assert (await browser.get("/web/knowledge"))[0] == 200
    clock.now += timedelta(minutes=30, seconds=1)
    assert await browser.get("/web/knowledge") == (303, "/web/signin")
    status, _ = await browser.post("/web/preview", {"q": "xin chào"})
    assert status == 403


async def test_logout_and_an_admins_revoke_end_sessions(console):
    chair = await console.signed_in("NTL-0101")
    assert (await chair.post("/web/logout"))[0] == 303
    cookie = chair.http.cookie_jar.filter_cookies(console.url)
    assert (await chair.get("/web/knowledge"))[0] == 303
    assert not cookie.get("unionbot_web") or cookie["unionbot_web"].value == ""

    other = await console.signed_in("NTL-0201")
    admin = await console.signed_in("DEMO-ADMIN")
    status, page = await admin.get("/web/sessions")
    assert status == 200 and "NTL-0201" in page
    session_id = re.search(r"<td>(\d+)</td><td>NTL-0201</td>", page).group(1)
    assert (await admin.post(f"/web/sessions/{session_id}/revoke"))[0] == 303
    assert await other.get("/web/knowledge") == (303, "/web/signin")
    assert (await admin.get("/web/knowledge"))[0] == 200


async def test_the_cookie_is_secure_when_the_public_address_is_https(settings, clock):
    """Behind a reverse proxy that ends TLS (the bot itself is reached over plain HTTP), UNIONBOT_WEB_BASE_URL
    https://... alone makes the cookie Secure: the link in chat is under that address, the cookie says Secure."""
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from bot.app import build_app
    from web.app import mount_console

    app = await build_app(settings.replace(web_base_url="https://congdoan.example.org"), clock=clock)
    try:
        reply = await (await member_chat(app, "304", "NTL-0101")).says("/web")
        found = re.search(r"https://congdoan\.example\.org/web/login/([A-Za-z0-9_-]+)", reply)
        assert found, reply
        web_app = web.Application()
        mount_console(web_app, app)
        server = TestServer(web_app, host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as http, http.post(
                    server.make_url("/web/login"), data={"token": found.group(1)}, allow_redirects=False,
                    headers={"Origin": "https://congdoan.example.org"}) as response:
                assert response.status == 303
                cookie = response.headers["Set-Cookie"]
        finally:
            await server.close()
    finally:
        await app.close()
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web" in cookie


async def test_a_form_posted_from_another_site_is_refused(console, app):
    token = await link_from_chat(app, "305", "NTL-0101")
    browser = console.browser()
    async with browser.http.post("/web/login", data={"token": token}, allow_redirects=False,
                                 headers={"Origin": "https://evil.example"}) as response:
        assert response.status == 403 and "Set-Cookie" not in response.headers
    async with browser.http.post("/web/login", data={"token": token}, allow_redirects=False,
                                 headers={"Origin": console.url.rstrip("/")}) as response:
        assert response.status == 303  # the refused attempt did not use the link up


async def test_web_says_the_console_is_off_when_no_public_address_is_set(settings, clock):
    """A chair's /web on a bot without UNIONBOT_WEB_BASE_URL gets a sentence, not the apology of a crash."""
    from bot.app import build_app

    app = await build_app(settings.replace(web_base_url=""), clock=clock)
    try:
        chair = await member_chat(app, "410", "NTL-0101")
        assert await chair.says("/web") == "Trang quản trị web chưa được bật trên máy chủ này."
        assert await chair.says("/web", language="en") == "The web console is not enabled on this server."
        member = await member_chat(app, "411", "NTL-0103")  # not a chair: told so, whether the console is on or off
        assert await member.says("/web") == app.translator("web.chairs_only")
    finally:
        await app.close()
