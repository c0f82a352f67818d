"""Dates and times as people write them in Vietnamese (nlu/dates.py), relative to a given "now".

"Now" is Tuesday 1 December 2026, 10:00 in Hanoi, unless a case says otherwise.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nlu.dates import parse_when

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=HANOI)  # a Tuesday


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HANOI)


CASES = [
    # the forms scheduling used to read (kept)
    ("25/12/2026 08:00", at(12, 25, 8)),
    ("8:30 25/12", at(12, 25, 8, 30)),
    ("08:00 02/12/2026", at(12, 2, 8)),
    ("2026-12-25 08:00", at(12, 25, 8)),
    # a time alone: today when still ahead, else tomorrow
    ("15:00", at(12, 1, 15)),
    ("8h", at(12, 2, 8)),
    ("20h", at(12, 1, 20)),
    ("8h30", at(12, 2, 8, 30)),
    ("8h 30", at(12, 2, 8, 30)),
    ("8g30", at(12, 2, 8, 30)),
    ("8 giờ 30 phút", at(12, 2, 8, 30)),
    ("8 gio 30", at(12, 2, 8, 30)),
    ("8 giờ sáng", at(12, 2, 8)),
    ("8h tối", at(12, 1, 20)),
    ("8h toi", at(12, 1, 20)),
    ("7 giờ rưỡi tối", at(12, 1, 19, 30)),
    ("9h kém 15", at(12, 2, 8, 45)),
    ("10h đêm", at(12, 1, 22)),
    ("1h trưa", at(12, 1, 13)),
    ("12h trưa", at(12, 1, 12)),
    ("3h chiều", at(12, 1, 15)),
    ("tám giờ sáng mai", at(12, 2, 8)),
    # days
    ("hôm nay 15h", at(12, 1, 15)),
    ("hom nay 15h", at(12, 1, 15)),
    ("mai 8h", at(12, 2, 8)),
    ("ngày mai 8h", at(12, 2, 8)),
    ("ngay mai 8 gio", at(12, 2, 8)),
    ("8h ngày mai", at(12, 2, 8)),
    ("ngày kia 8h", at(12, 3, 8)),
    ("mốt 8h", at(12, 3, 8)),
    ("mot 8h", at(12, 3, 8)),
    ("ngày mốt 9h", at(12, 3, 9)),
    ("một giờ chiều mai", at(12, 2, 13)),
    ("sáng mai", at(12, 2, 8)),
    ("sang mai", at(12, 2, 8)),
    ("chiều nay 3h", at(12, 1, 15)),
    ("chieu nay 3h", at(12, 1, 15)),
    ("tối nay", at(12, 1, 19)),
    ("trưa mai", at(12, 2, 12)),
    ("9h sáng mai", at(12, 2, 9)),
    # weekdays (Monday starts the week)
    ("thứ hai tuần sau 8h", at(12, 7, 8)),
    ("8h sáng thứ hai tuần sau", at(12, 7, 8)),
    ("thu hai tuan sau 8h", at(12, 7, 8)),
    ("thứ 2 8h", at(12, 7, 8)),
    ("t2 8h", at(12, 7, 8)),
    ("thứ tư 14h", at(12, 2, 14)),
    ("thứ 5 9h", at(12, 3, 9)),
    ("thứ sáu 8h", at(12, 4, 8)),
    ("thứ bảy 8h", at(12, 5, 8)),
    ("chủ nhật 9h", at(12, 6, 9)),
    ("chu nhat 9h", at(12, 6, 9)),
    ("cn 9h", at(12, 6, 9)),
    ("chủ nhật tuần sau 9h", at(12, 13, 9)),
    ("thứ ba 15h", at(12, 1, 15)),  # today, still ahead
    ("thứ ba 9h", at(12, 8, 9)),  # today's 9:00 has passed: next Tuesday
    ("thứ ba tuần sau 9h", at(12, 8, 9)),
    ("thứ sáu tuần này 8h", at(12, 4, 8)),
    ("thứ hai tới 8h", at(12, 7, 8)),
    ("tối thứ bảy", at(12, 5, 19)),
    # dates
    ("25/12", at(12, 25, 8)),  # a day without an hour: its morning
    ("25/12 20h", at(12, 25, 20)),
    ("20h 25/12", at(12, 25, 20)),
    ("25-12-2026 8h", at(12, 25, 8)),
    ("25/12/26 8h", at(12, 25, 8)),
    ("ngày 25/12 lúc 8h", at(12, 25, 8)),
    ("ngày 25 tháng 12 lúc 8 giờ", at(12, 25, 8)),
    ("ngày 25 tháng 12 năm 2026, 8h", at(12, 25, 8)),
    ("15/1 8h", at(1, 15, 8, year=2027)),  # a day already passed this year: next year's
    ("1/12 8h", at(12, 1, 8)),  # today, in the past: returned as written (the caller refuses it)
    # relative
    ("2 tiếng nữa", NOW + timedelta(hours=2)),
    ("30 phút nữa", NOW + timedelta(minutes=30)),
    ("3 ngày nữa 8h", at(12, 4, 8)),
    ("1 tuần nữa 8h", at(12, 8, 8)),
    # siblings: capitals, "lúc", the order of the parts
    ("Ngày Mai 8H", at(12, 2, 8)),
    ("lúc 8h sáng ngày 25/12", at(12, 25, 8)),
    ("9h30 sáng chủ nhật", at(12, 6, 9, 30)),
    ("T7 tuần sau lúc 9h30", at(12, 12, 9, 30)),
    ("bảy giờ tối mai", at(12, 2, 19)),
    ("12h đêm nay", at(12, 2, 0)),
    # the English interface
    ("tomorrow 8am", at(12, 2, 8)),
    ("today 8:30 pm", at(12, 1, 20, 30)),
    ("12pm 25/12", at(12, 25, 12)),
    ("tomorrow 20:00", at(12, 2, 20)),
    # the past is returned, never moved silently
    ("hôm qua 8h", at(11, 30, 8)),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_vietnamese_dates_and_times(text, expected):
    got = parse_when(text, NOW)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize("text", [
    "", "   ", "abc", "khi nào cũng được", "25/13 8h", "31/2 8h", "32/12", "25h", "8h75", "tuần sau",
    "bây giờ là mấy giờ", "tôi", "8.30", "13pm", "31/12/99999", "1/2/3/2026",
])
def test_what_is_no_date_and_time_is_none(text):
    assert parse_when(text, NOW) is None


def test_now_in_another_zone_is_read_in_the_union_zone():
    now_utc = NOW.astimezone(UTC)  # 03:00 UTC is 10:00 in Hanoi
    assert parse_when("mai 8h", now_utc, HANOI) == at(12, 2, 8)
    # late in the evening in Hanoi is still "today" there, whatever the date in UTC
    evening = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)  # 23:30 in Hanoi
    assert parse_when("mai 8h", evening, HANOI) == at(12, 2, 8)
    assert parse_when("23:45", evening, HANOI) == at(12, 1, 23, 45)


def test_on_a_sunday_evening_and_on_new_years_eve():
    sunday = datetime(2026, 12, 6, 21, 0, tzinfo=HANOI)
    assert parse_when("thứ hai 8h", sunday) == at(12, 7, 8)
    assert parse_when("thứ hai tuần sau 8h", sunday) == at(12, 7, 8)
    assert parse_when("chủ nhật 9h", sunday) == at(12, 13, 9)
    assert parse_when("mai 8h", datetime(2026, 12, 31, 22, 0, tzinfo=HANOI)) == at(1, 1, 8, year=2027)


#: a weekday's digit before "tuần sau/trước" is the weekday, not a count of weeks ("thứ 6 tuần sau" once read as
#: six weeks ahead)
@pytest.mark.parametrize(("text", "expected"), [
    ("thứ 6 tuần sau 8h", at(12, 11, 8)),
    ("thu 2 tuan sau", at(12, 7, 8)),
    ("thứ 6 tuần trước", at(11, 27, 8)),
    ("2 tuần sau", at(12, 15, 8)),
    ("3 ngày trước", at(11, 28, 8)),
])
def test_a_weekdays_digit_is_no_count_of_weeks(text, expected):
    assert parse_when(text, NOW) == expected


#: ``past=True``: a day that has happened (Tuesday 1/12/2026, 10:00)
PAST = [
    ("hôm nay", at(12, 1, 8)), ("hôm qua", at(11, 30, 8)), ("yesterday", at(11, 30, 8)), ("hôm kia", at(11, 29, 8)),
    ("3 ngày trước", at(11, 28, 8)), ("1 tuần trước", at(11, 24, 8)), ("thứ 2", at(11, 30, 8)),
    ("thứ ba", at(12, 1, 8)), ("chủ nhật", at(11, 29, 8)), ("thứ sáu tuần trước", at(11, 27, 8)),
    ("30/11", at(11, 30, 8)), ("25/12", at(12, 25, 8, year=2025)), ("ngày 1", at(12, 1, 8)),
    ("ngày 15", at(11, 15, 8)), ("1/12/2026", at(12, 1, 8)), ("14h", at(12, 1, 14)),
    ("đêm qua", at(11, 30, 22)), ("tối qua nhà em bị cháy", at(11, 30, 19)), ("sáng qua", at(11, 30, 8)),
    ("chiều hôm qua", at(11, 30, 14)), ("tối hôm kia", at(11, 29, 19)),
]


@pytest.mark.parametrize(("text", "expected"), PAST, ids=[p[0] for p in PAST])
def test_what_is_left_out_of_a_day_that_happened_leans_to_the_past(text, expected):
    assert parse_when(text, NOW, past=True) == expected


def test_in_january_ngay_20_is_last_decembers():
    january = datetime(2027, 1, 10, 9, 0, tzinfo=HANOI)
    assert parse_when("ngày 20", january, past=True) == at(12, 20, 8)
    assert parse_when("31/12", january, past=True) == at(12, 31, 8)
