"""Statistics for the web console and ``/thongke``: what was asked (per day and channel, topics, the share
answered, 👍/👎), hardship requests by status and the median days to a decision, announcements delivered /
blocked / failed, linked members per unit — for the units an actor chairs (an admin: all), and the charts of it:
what each shows (:func:`series`), drawn here with matplotlib when the ``charts`` extra is installed (Agg, DejaVu
Sans: Vietnamese glyphs; SVG text as paths, so no font is needed to view it), else shown as tables.

Questions and votes are counted with the asker's unit (storage/askers.py, never the person): a chair's figures are
their subtree's; an admin's every unit's, askers linked to no unit included.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from services.authz import may_act_as_chair, subtree_paths, units_acted_on
from services.extras import available, require
from services.knowledge import Actor, Forbidden
from storage.db import Database
from storage.feedback import DOWN, UP, FeedbackLog
from storage.stats import StatsRepository, median

CHANNELS_SHOWN = ("telegram", "zalo")
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class Summary:
    start: date
    end: date
    scope: str  # the units' names ("" for every unit)
    per_day: dict[date, Counter[str]] = field(default_factory=dict)  # day -> channel -> questions
    topics: Counter[str] = field(default_factory=Counter)
    answered: int = 0
    unanswered: int = 0
    votes: dict[str, int] = field(default_factory=lambda: {UP: 0, DOWN: 0})
    requests: dict[str, int] = field(default_factory=dict)
    decided: int = 0
    median_days: float | None = None
    broadcasts: dict[str, int] = field(default_factory=dict)
    linked: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def questions(self) -> int:
        return self.answered + self.unanswered

    @property
    def answered_share(self) -> str:
        return f"{round(100 * self.answered / self.questions)}%" if self.questions else "—"


class StatsService:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 timezone: tzinfo = HANOI) -> None:
        self.db, self.clock, self.timezone = db, clock, timezone

    async def summary(self, actor: Actor, days: int = 30) -> Summary:
        """The last ``days`` days (today included) for the actor's subtree; raise Forbidden for a member."""
        if not (decision := may_act_as_chair(actor.identity)):
            raise Forbidden(decision.reason)
        assert actor.identity is not None
        roots = [] if actor.identity.is_admin else units_acted_on(actor.identity)
        paths = subtree_paths(actor.identity)
        end = self.clock().astimezone(self.timezone).date()
        start = end - timedelta(days=days - 1)
        since = datetime.combine(start, time(), self.timezone)
        out = Summary(start, end, ", ".join(u.name for u in roots))
        out.per_day = {start + timedelta(days=i): Counter() for i in range(days)}
        async with self.db.sessions() as session:
            stats = StatsRepository(session)
            for q in await stats.questions(start, end, paths):
                out.per_day.setdefault(q.day, Counter())[q.channel] += q.count
                if q.answered:
                    out.answered += q.count
                    out.topics[q.intent] += q.count
                else:
                    out.unanswered += q.count
            out.requests = await stats.requests_by_status(paths, since)
            waits = await stats.days_to_decision(paths, since)
            out.decided, out.median_days = len(waits), median(waits)
            out.broadcasts = await stats.broadcast_deliveries(paths, since)
            out.linked = await stats.linked_per_unit(paths)
        for counts in (await FeedbackLog(self.db.sessions).counts(since, paths)).values():
            for vote in (UP, DOWN):
                out.votes[vote] += counts.get(vote, 0)
        return out


# ----- charts ----------------------------------------------------------------------------------------
COLORS = {"telegram": "#2AABEE", "zalo": "#0068FF", "other": "#98A2B3"}
PRIMARY, ACCENT, MUTED, GOOD, REST = "#1f5fbf", "#b42318", "#98A2B3", "#12b76a", "#D0D5DD"
CHARTS = ("questions", "topics", "answered", "votes", "requests", "broadcasts", "linked")


def charts_drawn() -> bool:
    """Whether the charts are pictures (the ``charts`` extra, matplotlib): the one place that decides. Without
    it the console shows each chart's :func:`series` as a table and ``/thongke`` sends its lines only."""
    return available("charts")


@dataclass(frozen=True)
class Part:
    legend: str
    value: int
    color: str


@dataclass(frozen=True)
class Bar:
    """One bar of a chart (one slice of the ring): its label and its parts, stacked in this order."""

    label: str
    parts: tuple[Part, ...]

    @property
    def total(self) -> int:
        return sum(p.value for p in self.parts)


def _single(items: list[tuple[str, int]], color: str) -> list[Bar]:
    return [Bar(label, (Part(label, n, color),)) for label, n in items]


def series(name: str, s: Summary, t) -> list[Bar]:
    """What chart ``name`` shows, in its order, labelled (``stats.chart.*``) and coloured: matplotlib draws
    it, the console's tables show the same when the charts extra is not installed. Empty: nothing to show."""
    if name == "questions":
        if not any(s.per_day.values()):
            return []
        channels = sorted({c for counts in s.per_day.values() for c in counts},
                          key=lambda c: (c not in CHANNELS_SHOWN, c))
        return [Bar(d.strftime("%d/%m"), tuple(Part(_label(t, "stats.chart.channels", c), s.per_day[d][c],
                                                    COLORS.get(c, COLORS["other"])) for c in channels))
                for d in sorted(s.per_day)]
    if name == "topics":
        items = [(_label(t, "stats.chart.intents", k), n) for k, n in s.topics.most_common(6)]
        return _single(items, PRIMARY) if any(n for _, n in items) else []
    if name == "answered":
        return [Bar(t("stats.chart.answered_yes"), (Part(t("stats.chart.answered_yes"), s.answered, GOOD),)),
                Bar(t("stats.chart.answered_no"), (Part(t("stats.chart.answered_no"), s.unanswered, ACCENT),))] \
            if s.questions else []
    if name == "votes":
        items = [(t("stats.chart.vote_up_short"), s.votes[UP]), (t("stats.chart.vote_down_short"), s.votes[DOWN])]
        return _single(items, PRIMARY) if any(n for _, n in items) else []
    if name == "requests":
        statuses = ("submitted", "info_requested", "forwarded", "approved", "rejected")
        return _single([(_label(t, "hardship.status", k), s.requests[k]) for k in statuses if s.requests.get(k)],
                       PRIMARY)
    if name == "broadcasts":
        outcomes = ("sent", "blocked", "failed", "pending", "sending", "cancelled")
        return _single([(_label(t, "stats.chart.outbox", k), s.broadcasts[k]) for k in outcomes
                        if s.broadcasts.get(k)], PRIMARY)
    if name == "linked":
        return [Bar(n if len(n) <= 34 else n[:33] + "…", (Part(t("stats.chart.linked_yes"), a, GOOD),
                                                          Part(t("stats.chart.linked_no"), m - a, REST)))
                for n, a, m in s.linked]
    raise KeyError(name)


def _pyplot():
    require("charts")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 10, "svg.fonttype": "path",
                         "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "unionbot"})
    return plt


def _save(fig, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    fig.savefig(buffer, format=fmt, bbox_inches="tight", dpi=110, metadata=metadata)
    _pyplot().close(fig)
    return buffer.getvalue()


def _empty(ax, t) -> None:
    ax.text(0.5, 0.5, t("stats.chart.none"), ha="center", va="center", color=MUTED, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _label(t, prefix: str, key: str) -> str:
    try:
        return t(f"{prefix}.{key}")
    except KeyError:
        return key


def _draw_columns(ax, bars: list[Bar], t) -> None:
    """Stacked columns (questions per day and channel), a tick every few days."""
    bottom = [0] * len(bars)
    for i in range(len(bars[0].parts)):
        values = [b.parts[i].value for b in bars]
        ax.bar(range(len(bars)), values, bottom=bottom, color=bars[0].parts[i].color, label=bars[0].parts[i].legend)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    step = max(1, len(bars) // 8)
    ax.set_xticks(range(0, len(bars), step), [bars[i].label for i in range(0, len(bars), step)])
    ax.set_ylabel(t("stats.chart.count_axis"))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize=9)


def _draw_ring(ax, bars: list[Bar], t) -> None:
    ax.pie([b.total for b in bars], labels=[b.label for b in bars], colors=[b.parts[0].color for b in bars],
           autopct="%1.0f%%", startangle=90, counterclock=False, wedgeprops={"width": 0.45}, pctdistance=0.78,
           textprops={"fontsize": 9})
    ax.set_aspect("equal")


def _draw_hbars(ax, bars: list[Bar], t) -> None:
    """Horizontal bars, the first on top; several parts: stacked, with a legend and an axis of members."""
    rows = bars[::-1]
    names = [b.label for b in rows]
    if len(rows[0].parts) == 1:
        drawn = ax.barh(names, [b.total for b in rows], color=rows[0].parts[0].color)
        ax.bar_label(drawn, padding=3, fontsize=9)
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        return
    left = [0] * len(rows)
    for i in range(len(rows[0].parts)):
        values = [b.parts[i].value for b in rows]
        ax.barh(names, values, left=left, color=rows[0].parts[i].color, label=rows[0].parts[i].legend)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_xlabel(t("stats.chart.members_axis"))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False, fontsize=9, loc="lower right")


def _draw(ax, name: str, s: Summary, t) -> None:
    bars = series(name, s, t)
    if not bars:
        _empty(ax, t)
    elif name == "questions":
        _draw_columns(ax, bars, t)
    elif name == "answered":
        _draw_ring(ax, bars, t)
    else:
        _draw_hbars(ax, bars, t)


SIZES = {"questions": (10, 3.2), "answered": (4.2, 3.2), "linked": (10, 4)}


def chart(name: str, s: Summary, t, fmt: str = "svg") -> bytes:
    """One chart of the summary as SVG (or PNG); ``t`` the chat translator (labels: ``stats.chart.*``).
    Raises :class:`services.extras.MissingExtra` without the charts extra (ask :func:`charts_drawn` first)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZES.get(name, (6, 3.2)))
    _draw(ax, name, s, t)
    return _save(fig, fmt)


def weekly_picture(s: Summary, t) -> bytes | None:
    """``/thongke``'s picture: questions per day, topics, the share answered and requests, as one PNG (None
    without the charts extra: the lines say the same)."""
    if not charts_drawn():
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4))
    for ax, name in zip((*axes[0], *axes[1]), ("questions", "topics", "answered", "requests"), strict=True):
        _draw(ax, name, s, t)
        ax.set_title(t(f"stats.titles.{name}"), loc="left", fontsize=11, fontweight="bold")
    fig.suptitle(t("stats.weekly.caption", start=s.start.strftime("%d/%m"), end=s.end.strftime("%d/%m/%Y"),
                   unit=s.scope or t("stats.weekly.all_units")), fontsize=12)
    fig.tight_layout()
    return _save(fig, "png")


def weekly_lines(s: Summary, t, lang: str = "vi") -> list[str]:
    """The few lines under ``/thongke``'s picture."""
    topics = ", ".join(f"{_label(t, 'stats.chart.intents', k)} ({n})" for k, n in s.topics.most_common(3)) or "—"
    new_requests = sum(s.requests.values())
    lines = [t("stats.weekly.caption", lang, start=s.start.strftime("%d/%m"), end=s.end.strftime("%d/%m/%Y"),
               unit=s.scope or t("stats.weekly.all_units", lang)),
             t("stats.weekly.questions", lang, count=s.questions, share=s.answered_share),
             t("stats.weekly.top", lang, topics=topics),
             t("stats.weekly.votes", lang, up=s.votes[UP], down=s.votes[DOWN])]
    if s.median_days is not None:
        lines.append(t("stats.weekly.requests", lang, count=new_requests, decided=s.decided,
                       days=f"{s.median_days:.1f}".replace(".", ",")))
    else:
        lines.append(t("stats.weekly.requests_none", lang, count=new_requests))
    b = s.broadcasts
    lines.append(t("stats.weekly.broadcasts", lang, sent=b.get("sent", 0), blocked=b.get("blocked", 0),
                   failed=b.get("failed", 0)))
    lines.append(t("stats.weekly.linked", lang, linked=sum(a for _, a, _ in s.linked),
                   members=sum(m for _, _, m in s.linked)))
    return lines


def grouped_days(s: Summary) -> dict[str, int]:
    """Questions per channel over the whole period (for the page's table)."""
    total: dict[str, int] = defaultdict(int)
    for counts in s.per_day.values():
        for channel, n in counts.items():
            total[channel] += n
    return dict(total)
