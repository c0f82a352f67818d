"""What the unanswered-question log keeps of a question: the question, never the person (nlu/privacy.py)."""

from __future__ import annotations

import pytest

from nlu.privacy import scrub

REMOVED = [  # (text, the detail that must be gone, the marker put instead)
    ("gọi em số 0901234567 nhé", "0901234567", "[phone]"),
    ("sđt 090 123 4567 ạ", "4567", "[phone]"),
    ("sdt 0901.234.567", "234", "[phone]"),
    ("+84 912.345.678 ạ", "912", "[phone]"),
    ("liên hệ 84912345678", "84912345678", "[phone]"),
    ("cố định 024 3825 1234", "3825", "[phone]"),
    ("email em là an.nguyen@gmail.com", "gmail", "[email]"),
    ("gửi về Thu.Ha+cd@congdoan.org.vn giúp em", "congdoan", "[email]"),
    ("CCCD 001203004567 của em", "001203004567", "[id]"),
    ("căn cước công dân số 001 203 004 567", "004", "[id]"),
    ("cmnd: 123456789", "123456789", "[id]"),
    ("so cmt 123456789 cua em", "123456789", "[id]"),
    ("stk 0123456789012 vietcombank", "0123456789012", "[account]"),
    ("số tài khoản: 1903 5555 1234 56", "5555", "[account]"),
    ("tk agribank 3100205123456", "3100205123456", "[account]"),
    ("nhà em ở số 12 ngõ 34 Lê Lợi, phường 5, quận 3 bị cháy", "Lê Lợi", "[address]"),
    ("địa chỉ: 45 đường Trần Phú, TP Vinh", "Trần Phú", "[address]"),
    ("so nha 7 hem 3 nguyen trai, quan 5 muon xin ho tro", "nguyen trai", "[address]"),
    ("ngõ 12 Hàng Bạc, nhà em bị cháy", "Hàng Bạc", "[address]"),
    ("em ở 15/3 kiệt Lê Duẩn, phường Hải Châu", "Hải Châu", "[address]"),
    ("mã số 001203004567 là của em", "001203004567", "[number]"),
]

KEPT = [  # nothing personal: the text is kept as it is
    "sữa hà lan giảm 30% đến 25/12/2026",
    "em xin hỗ trợ 5.000.000 đồng",
    "hỗ trợ 10.000.000 đ có được không",
    "năm 2020 có chương trình gì",
    "2 triệu rưỡi",
    "tổ 5 đi thi",
    "mã NTL-0103",
    "đợt 2 thi đua bắt đầu 8h ngày 3/4",
    "đường dây nóng của công đoàn là gì",
    "gạo kim sáng giảm giá bao nhiêu",
]


@pytest.mark.parametrize(("text", "detail", "marker"), REMOVED)
def test_a_personal_detail_is_replaced_by_its_marker(text, detail, marker):
    scrubbed = scrub(text)
    assert detail not in scrubbed and marker in scrubbed


@pytest.mark.parametrize(("text", "detail", "marker"), REMOVED)
def test_the_same_detail_without_diacritics_is_removed_too(text, detail, marker):
    from nlu.normalize import fold

    scrubbed = scrub(fold(text))  # the log's key is the folded question
    assert fold(detail) not in scrubbed and marker in scrubbed


@pytest.mark.parametrize("text", KEPT)
def test_amounts_dates_percentages_and_plain_questions_are_kept(text):
    assert scrub(text) == text


def test_the_words_around_a_detail_are_kept():
    assert scrub("nhà em ở số 12 ngõ 34 Lê Lợi bị cháy, gọi 0901234567") == "nhà em ở [address] bị cháy, gọi [phone]"
