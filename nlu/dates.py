"""Dates and times as people write them in Vietnamese: "mai 8h", "8h sáng thứ hai tuần sau", "chiều nay 3h".

``parse_when(text, now, tz)`` returns an aware datetime in the union's timezone, read relative to ``now``, or
None when the text names no time. It is pure and total (no I/O, never raises). Accents are optional: the
text is folded, except for the few words whose accents change the meaning in a time ("tôi" is "I", "tối"
the evening; "một" is one, "mốt" the day after tomorrow; "tới" is "coming"; "bây giờ" is now, "bảy giờ" 7:00).

What it reads (docs/decisions.md, "Issue 15: Vietnamese dates and times"):

- a day: hôm nay / nay, (ngày) mai, ngày kia / (ngày) mốt, hôm qua (tối qua, đêm qua), hôm kia;
  a weekday (thứ hai … thứ bảy,
  thứ 2 … thứ 7, t2 … t7, chủ nhật, cn) with tuần này / tuần sau / tuần tới / tuần trước; a date
  (25/12, 25-12-2026, 25/12/26, 2026-12-25, ngày 25 tháng 12 năm 2026, ngày 25); N ngày / tuần nữa;
- a time: 8h, 8h30, 8g30, 8:30, 8 giờ (30 phút), tám giờ, 8 giờ rưỡi, 9h kém 15; N tiếng / giờ / phút nữa;
- a part of the day: sáng, trưa, chiều, tối, đêm ("8h tối" is 20:00, "3h chiều" 15:00, "1h trưa" 13:00);
- for the English interface: today, tomorrow, 8am, 8:30 pm.

Choices where people leave things out: a time alone is today when still ahead, else tomorrow; a weekday
alone is the next such day (today when the time is still ahead); a date without a year is the next such
date (today included); a part of the day without an hour is its usual hour (sáng 8:00, trưa 12:00,
chiều 14:00, tối 19:00, đêm 22:00); a day without any time is its morning (8:00). A day named in the past
("hôm qua", "1/12" said on 1/12 at 10:00) is returned as written: the caller refuses it, nothing is moved.

``past=True`` reads a day that has happened (the /hotro form's "when did it happen?"): a date without a year
is the latest such date up to today, "ngày 20" after the 20th last month's, a weekday alone the latest such
day (today included), a time alone today's; "N ngày / tuần trước" counts back.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo

from nlu.normalize import clean, fold, normalize_tones

_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8,
                 "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12}
_WEEKDAYS = {"hai": 0, "ba": 1, "tu": 2, "nam": 3, "sau": 4, "bay": 5}  # thứ hai = Monday
#: accented words whose folded form is a time word of another meaning
_ACCENTED = (("tôi", " ta "), ("một", " 1 "), ("tới", " sau "), ("bây", " ta "))
_PERIOD_HOUR = {"sang": 8, "trua": 12, "chieu": 14, "toi": 19, "dem": 22}
DAY_DEFAULT_HOUR = 8

_HOUR_WORD = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_RELATIVE = re.compile(r"(?<!thu )\b(\d{1,3}|mot)\s*(ngay|tuan|tieng|gio|phut)\s*(nua|toi|sau|truoc)\b")
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DMY = re.compile(r"(?<![\d:/])(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?(?![\d:/])")
_WORDED_DATE = re.compile(r"\bngay\s*(\d{1,2})(?:\s*thang\s*(\d{1,2})(?:\s*nam\s*(\d{4}))?)?\b")
_TIME = re.compile(
    r"(?<![\d/])(\d{1,2}|" + _HOUR_WORD + r")\s*(?:gio|h|g|:)(?![a-z])"
    r"(?:\s*(\d{1,2})(?![\d/])\s*(?:phut|p\b)?)?"
    r"(?:\s*(ruoi)\b)?(?:\s*kem\s*(\d{1,2})\s*(?:phut|p\b)?)?")
_WEEKDAY = re.compile(r"\b(?:thu\s*(hai|ba|tu|nam|sau|bay|[2-7])|t([2-7])|(chu\s*nhat|cn))\b")
_WEEK = re.compile(r"\btuan\s*(sau|nay|truoc)\b")
_DAY_WORDS = ((re.compile(r"\bhom\s*nay\b|\b(?:sang|trua|chieu|toi|dem)\s*nay\b|\btoday\b"), 0),
              (re.compile(r"\b(?:ngay\s*)?mai\b|\btomorrow\b"), 1),
              (re.compile(r"\bngay\s*(?:kia|mot)\b|\bmot\b(?!\s*(?:gio|h\b|g\b|:))"), 2),
              (re.compile(r"\bhom\s*qua\b|\b(?:sang|trua|chieu|toi|dem)\s*qua\b|\byesterday\b"), -1),
              (re.compile(r"\bhom\s*kia\b"), -2))
_PERIOD = re.compile(r"\b(sang|trua|chieu|toi|dem)\b")
_AM_PM = re.compile(r"(?<![\d:])(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b")  # the form's English: "8am", "8:30 pm"


def parse_when(text: str, now: datetime, tz: tzinfo | None = None, *, past: bool = False) -> datetime | None:
    """The moment ``text`` names, in ``tz`` (default: ``now``'s zone), read relative to ``now``; None if none;
    ``past``: what is left out is read as a day that has happened."""
    local = now.astimezone(tz) if tz is not None else now
    s = _prepare(text)
    if not s.strip():
        return None
    found = False

    match = _RELATIVE.search(s)
    offset = timedelta()
    if match:
        n = 1 if match.group(1) == "mot" else int(match.group(1))
        unit = match.group(2)
        if match.group(3) == "truoc":
            n = -n
        if unit in ("tieng", "gio", "phut"):
            delta = timedelta(hours=n) if unit != "phut" else timedelta(minutes=n)
            rest = _blank(s, match)
            if _TIME.search(rest) or _PERIOD.search(rest):
                return None  # "2 tiếng nữa 8h": two times
            return local.replace(second=0, microsecond=0) + delta
        offset = timedelta(days=n * (7 if unit == "tuan" else 1))
        s, found = _blank(s, match), True

    day: date | None = None
    day_named = False
    for pattern in (_ISO, _DMY, _WORDED_DATE):
        match = pattern.search(s)
        if not match:
            continue
        day = _date(pattern, match, local.date(), past)
        if day is None:
            return None  # "31/2", "25/13": a date that is none
        s, found, day_named = _blank(s, match), True, True
        break

    weekday: int | None = None
    week: str | None = None
    match = _WEEKDAY.search(s)
    if match:
        word, short, sunday = match.groups()
        weekday = 6 if sunday else (int(word or short) - 2 if (word or short).isdigit() else _WEEKDAYS[word])
        s, found = _blank(s, match), True
        week_match = _WEEK.search(s)
        if week_match:
            week = week_match.group(1)
            s = _blank(s, week_match)

    relative_day: int | None = None
    for pattern, days in _DAY_WORDS:
        match = pattern.search(s)
        if match:
            relative_day, found = days, True
            s = _blank(s, match, keep=r"\b(sang|trua|chieu|toi|dem)\b")
            break

    hour: int | None = None
    minute = 0  # set with hour on every path that sets it
    match = _AM_PM.search(s)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match.group(3) == "pm" else 0)
        s, found = _blank(s, match), True
    match = _TIME.search(s) if hour is None else None
    if match:
        value = match.group(1)
        hour = _NUMBER_WORDS[value] if value in _NUMBER_WORDS else int(value)
        minute = int(match.group(2) or 0)
        if match.group(3):
            minute = 30
        if match.group(4):
            hour, minute = hour - 1, 60 - int(match.group(4))
            if not 0 < 60 - minute < 60:
                return None
        s, found = _blank(s, match), True
    period_match = _PERIOD.search(s)
    period = period_match.group(1) if period_match else None
    if period:
        found = True
    if not found:
        return None
    if week and weekday is None:
        return None  # "tuần sau": no day named

    next_day = False
    if hour is None:
        hour, minute = (_PERIOD_HOUR[period], 0) if period else (DAY_DEFAULT_HOUR, 0)
        if not (day_named or weekday is not None or relative_day is not None or offset or period):
            return None
    elif period:
        hour, next_day = _in_period(hour, period)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None

    today = local.date()
    if day is None and weekday is not None:
        start = today - timedelta(days=today.weekday())  # this week's Monday
        if week in ("sau",):
            day = start + timedelta(days=7 + weekday)
        elif week == "truoc":
            day = start + timedelta(days=weekday - 7)
        elif week == "nay":
            day = start + timedelta(days=weekday)
        elif past:
            day = today - timedelta(days=(today.weekday() - weekday) % 7)
        else:
            day = today + timedelta(days=(weekday - today.weekday()) % 7)
            if day == today and _moment(day, hour, minute, next_day, local) <= local:
                day += timedelta(days=7)
    elif day is None and relative_day is not None:
        day = today + timedelta(days=relative_day)
    elif day is None:
        day = today
        if not offset and not past and _moment(day, hour, minute, next_day, local) <= local:
            day += timedelta(days=1)  # "8h" said at 10:00: tomorrow's
    return _moment(day + offset, hour, minute, next_day, local)


def _prepare(text: str) -> str:
    s = normalize_tones(clean(text or "")).lower()
    for accented, replacement in _ACCENTED:
        s = re.sub(rf"(?<!\w){accented}(?!\w)", replacement, s)
    s = fold(s).replace(",", " ")
    return " ".join(s.split())


def _blank(s: str, match: re.Match, keep: str | None = None) -> str:
    """``s`` with the match replaced by spaces (so what is read once is not read again); ``keep``: a part of
    the match to leave ("chiều" of "chiều nay")."""
    piece = match.group(0)
    kept = re.search(keep, piece) if keep else None
    filler = " " * len(piece)
    if kept:
        filler = filler[:kept.start()] + kept.group(0) + filler[kept.end():]
    return s[:match.start()] + filler + s[match.end():]


def _date(pattern: re.Pattern, match: re.Match, today: date, past: bool = False) -> date | None:
    if pattern is _ISO:
        y, m, d = (int(g) for g in match.groups())
        year: int | None = y
    else:
        d = int(match.group(1))
        m = int(match.group(2)) if match.group(2) else today.month
        year = int(match.group(3)) if match.group(3) else None
        if year is not None and year < 100:
            year += 2000
    try:
        if year is not None:
            return date(year, m, d)
        candidate = date(today.year, m, d)
    except ValueError:
        return None
    if past:
        return candidate if candidate <= today else _earlier(pattern, match, today, m, d)
    if candidate >= today:
        return candidate
    if pattern is _WORDED_DATE and not match.group(2):  # "ngày 5" after the 5th: next month's
        month = today.month % 12 + 1
        try:
            return date(today.year + (month == 1), month, d)
        except ValueError:
            return None
    try:
        return date(today.year + 1, m, d)
    except ValueError:  # 29/2 of a leap year
        return None


def _earlier(pattern: re.Pattern, match: re.Match, today: date, m: int, d: int) -> date | None:
    """A day of the month or a date without a year that is still ahead this year, read as the latest one past:
    "ngày 20" said on the 15th is last month's 20th, "20/12" said in March last year's."""
    try:
        if pattern is _WORDED_DATE and not match.group(2):
            month = (today.month - 2) % 12 + 1
            return date(today.year - (month == 12), month, d)
        return date(today.year - 1, m, d)
    except ValueError:
        return None


def _in_period(hour: int, period: str) -> tuple[int, bool]:
    """The hour of the day an hour of a part of the day means, and whether it falls on the next day."""
    if period == "trua" and 1 <= hour <= 2 or period == "chieu" and 1 <= hour <= 11:
        return hour + 12, False
    if period == "toi" and 1 <= hour <= 11 or period == "dem" and 6 <= hour <= 11:
        return hour + 12, False
    if period in ("toi", "dem") and hour in (0, 12):
        return 0, True  # "12h đêm": midnight, at the end of the day named
    if period == "dem" and hour <= 5:
        return hour, True  # "2h đêm nay": the small hours after tonight
    return hour, False


def _moment(day: date, hour: int, minute: int, next_day: bool, local: datetime) -> datetime:
    if next_day:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=local.tzinfo)
