"""``/web``: a chair or admin gets a single-use link to the union office web console (services/web_access.py)."""

from __future__ import annotations

from handlers.types import Incoming, Outcome, Reply


async def web_link(core, incoming: Incoming, lang: str) -> Outcome:
    base = core.config.web_base_url.rstrip("/")
    if not base:
        return Outcome([Reply(core.t("web.off", lang))], "web", 1.0, False)
    identity = await core.identities.get(incoming.bot_id, incoming.channel, incoming.user_id)
    token = await core.web_access.issue_link(identity)
    if token is None:
        key = "authz.not_linked" if identity is None else "web.chairs_only"
        return Outcome([Reply(core.t(key, lang))], "web", 1.0, False)
    return Outcome([Reply(core.t("web.link", lang, url=f"{base}/web/login/{token}", minutes=10))], "web", 1.0, False)
