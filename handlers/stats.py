"""``/thongke``: a chair gets the last week's statistics of their units as a picture and a few lines
(services/stats.py: the same counts, rules and charts as the web console's statistics page)."""

from __future__ import annotations

import asyncio

from handlers.registry import CHAIRS, Command, Declaration
from handlers.types import Incoming, Outcome, Reply
from locales import Translator
from services.knowledge import Actor, Forbidden
from services.stats import StatsService, weekly_lines, weekly_picture
from storage.membership import IdentityCache

INTENT = "stats"


class WeeklyStats:
    def __init__(self, service: StatsService, identities: IdentityCache, t: Translator, base_url: str) -> None:
        self.service, self.identities, self.t = service, identities, t
        self.base_url = base_url.rstrip("/")

    async def weekly(self, incoming: Incoming, lang: str) -> Outcome:
        identity = await self.identities.get(incoming.bot_id, incoming.channel, incoming.user_id)
        label = f"{incoming.channel}:{identity.member.member_code}" if identity else incoming.channel
        try:
            summary = await self.service.summary(Actor(identity, label), 7)
        except Forbidden as denied:
            return Outcome([Reply(self.t(denied.reason, lang))], INTENT, 1.0, False)
        picture = await asyncio.to_thread(weekly_picture, summary, self.t)  # a second of CPU off the event loop
        # (None without the charts extra: the lines below say the same)
        lines = weekly_lines(summary, self.t, lang)
        if self.base_url:
            lines.append(self.t("stats.weekly.web", lang, url=f"{self.base_url}/web/stats?days=7"))
        return Outcome([Reply("\n".join(lines), pictures=(picture,) if picture else ())], INTENT, 1.0, False)


DECLARATION = Declaration(
    "stats",
    commands=(Command("thongke", "stats", lambda s, i, arg, lang: s.weekly(i, lang), CHAIRS, menu=False),))
