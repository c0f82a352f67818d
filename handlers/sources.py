"""The source line under an answer, one renderer for the knowledge answers (qa.py) and the fact answers (facts.py).

"Nguồn: Lao động Thủ đô, “<tiêu đề>”, 19/07/2022." — the publication, the article's title and date when they
are known — then "— theo thông tin năm 2020" (the entry's "as of") unless it only repeats the article's date.
An answer about an offer (a benefit agreement, a discount) older than a year by the clock adds one line: the
offer may have changed, ask the grassroots union's committee.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from handlers.text import fmt_date
from locales import Translator

#: an offer this old may no longer apply
STALE_AFTER = timedelta(days=365)


def year_only(d: date) -> bool:
    """An "as of" written as 31/12 or 1/1 stands for the year, not for that day."""
    return (d.month, d.day) in ((12, 31), (1, 1))


def as_of_text(t: Translator, lang: str, as_of: date, exact: bool = True) -> str:
    if not exact or year_only(as_of):
        return t("answer.as_of_year", lang, year=as_of.year)
    return t("answer.as_of_day", lang, day=fmt_date(as_of))


_INNER_QUOTES = re.compile(r"[“\"]([^”\"]*)[”\"]")


def _nested(title: str) -> str:
    """A title's own quotes as single ones, inside the line's double quotes ("“‘Chuyến bay…’ đưa 450…”")."""
    return _INNER_QUOTES.sub(r"‘\1’", title)


def source_line(t: Translator, lang: str, *, title: str, publication: str | None = None,
                published: date | None = None, as_of: date | None = None, exact: bool = True) -> str:
    """The one source line: where it was said (publication, title, date) and as of when it was true."""
    where = ", ".join(x for x in (publication, t("source.title", lang, title=_nested(title.strip().rstrip("."))),
                                  fmt_date(published) if published else None) if x)
    if as_of is None or (published is not None and as_of <= published):
        return t("source.line", lang, where=where)
    return t("source.line_as_of", lang, where=where, as_of=as_of_text(t, lang, as_of, exact))


def stale_line(t: Translator, lang: str, as_of: date, today: date | None, many: bool = False) -> str | None:
    """For an offer (``many``: a list of offers, ``as_of`` the newest): the line saying it may have changed, when
    its information is over a year old."""
    if today is None or today - as_of <= STALE_AFTER:
        return None
    return t("source.stale_offers" if many else "source.stale_offer", lang, year=as_of.year)
