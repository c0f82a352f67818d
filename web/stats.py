"""The console's statistics page: charts drawn on the server (services/stats.py, matplotlib SVG), for the units
the signed-in chair acts on (an admin: every unit), each with its figures as a table under it; without the
charts extra, those tables with bars alone (``services.stats.series``)."""

from __future__ import annotations

from aiohttp import web

from services.stats import CHARTS, StatsService, chart, charts_drawn, grouped_days, series
from web.app import CONSOLE, Console, actor

PERIODS = (7, 30, 90)


def service(request: web.Request) -> StatsService:
    console: Console = request.app[CONSOLE]
    return StatsService(console.app.db, clock=console.app.core.clock, timezone=console.app.core.config.timezone)


def _days(request: web.Request) -> int:
    value = request.query.get("days", "30")
    return int(value) if value.isdigit() and int(value) in PERIODS else 30


async def stats_page(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    days = _days(request)
    summary = await service(request).summary(actor(request), days)
    drawn = charts_drawn()
    # the figures of each chart as a table: the page itself without the charts extra, else folded under the
    # picture (the numbers a screen reader, a copy or a test can read: the SVG's text is drawn as paths)
    tables = {name: series(name, summary, console.app.core.t) for name in CHARTS}
    return console.render(request, "stats_page.html", s=summary, days=days, periods=PERIODS, charts=CHARTS,
                          per_channel=grouped_days(summary), drawn=drawn, tables=tables,
                          unanswered_share=unanswered_share(summary.unanswered, summary.questions))


def unanswered_share(unanswered: int, questions: int) -> str:
    """The share the bot could not answer, written beside that count ("11 chưa trả lời được (22%)")."""
    return f"{round(100 * unanswered / questions)}%" if questions else "—"


async def stats_chart(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    name = request.match_info["name"]
    if name not in CHARTS or not charts_drawn():  # without the charts extra the page shows tables instead
        raise web.HTTPNotFound()
    summary = await service(request).summary(actor(request), _days(request))
    svg = chart(name, summary, console.app.core.t)
    return web.Response(body=svg, content_type="image/svg+xml",
                        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def routes() -> list[web.RouteDef]:
    return [web.get("/stats", stats_page), web.get("/stats/chart/{name}.svg", stats_chart)]
