"""``/web``: a chair or admin gets a single-use link to the union office web console (services/web_access.py)."""

from __future__ import annotations

from handlers.registry import CHAIRS, Command, Declaration
from handlers.types import Incoming, Outcome, Reply
from locales import Translator
from services.web_access import WebAccess, may_use_console
from storage.membership import IdentityCache


class WebSignIn:
    def __init__(self, access: WebAccess, identities: IdentityCache, t: Translator, base_url: str) -> None:
        self.access = access
        self.identities = identities
        self.t = t
        self.base_url = base_url.rstrip("/")

    async def link(self, incoming: Incoming, lang: str) -> Outcome:
        identity = await self.identities.get(incoming.bot_id, incoming.channel, incoming.user_id)
        if not may_use_console(identity):  # who may not use it is told so, whether or not it is on
            key = "authz.not_linked" if identity is None else "web.chairs_only"
            return Outcome([Reply(self.t(key, lang))], "web", 1.0, False)
        if not self.base_url:
            return Outcome([Reply(self.t("web.off", lang))], "web", 1.0, False)
        token = await self.access.issue_link(identity)
        if token is None:
            return Outcome([Reply(self.t("web.chairs_only", lang))], "web", 1.0, False)
        url = f"{self.base_url}/web/login/{token}"
        return Outcome([Reply(self.t("web.link", lang, url=url, minutes=10))], "web", 1.0, False)


DECLARATION = Declaration(
    "web",
    commands=(Command("web", "web", lambda w, i, arg, lang: w.link(i, lang), CHAIRS, menu=False),))
