"""Amounts of money as members write them (handlers/inputs.py ``parse_vnd``): figures, units, words."""

import pytest

from handlers.inputs import parse_vnd

CASES = [
    # figures with thousands separators and a currency
    ("2000000", 2_000_000), ("2.000.000", 2_000_000), ("2.000.000đ", 2_000_000), ("2.000.000 đ", 2_000_000),
    ("2,000,000 VND", 2_000_000), ("2.000.000 đồng", 2_000_000), ("2000000vnđ", 2_000_000),
    ("1.000.000.000", 1_000_000_000), ("500.000", 500_000), ("500.000 đồng chẵn", 500_000),
    # figures with a unit
    ("2 triệu", 2_000_000), ("2 trieu", 2_000_000), ("2tr", 2_000_000), ("2 tr", 2_000_000),
    ("2 triệu đồng", 2_000_000), ("2 củ", 2_000_000), ("500 nghìn", 500_000), ("500 ngàn", 500_000),
    ("500 nghin dong", 500_000), ("500k", 500_000), ("10K", 10_000), ("1 tỷ", 1_000_000_000),
    ("1,5 triệu", 1_500_000), ("1.5tr", 1_500_000), ("1,2 tỷ", 1_200_000_000), ("2,5tr", 2_500_000),
    # a unit and what follows it
    ("1tr5", 1_500_000), ("1tr2", 1_200_000), ("2tr500", 2_500_000), ("1 triệu 5", 1_500_000),
    ("1 triệu 500 nghìn", 1_500_000), ("1 triệu 500k", 1_500_000), ("1tr 250k", 1_250_000),
    ("2 triệu rưỡi", 2_500_000), ("2 trieu ruoi", 2_500_000), ("2tr rưỡi", 2_500_000),
    ("5 trăm nghìn", 500_000), ("1 tỷ 2", 1_200_000_000),
    # words
    ("hai triệu", 2_000_000), ("năm triệu", 5_000_000), ("nam trieu", 5_000_000), ("mười triệu", 10_000_000),
    ("mười lăm triệu", 15_000_000), ("hai mươi triệu", 20_000_000), ("hai mươi mốt triệu", 21_000_000),
    ("hai mươi tư triệu", 24_000_000), ("năm trăm nghìn", 500_000), ("ba trăm ngàn", 300_000),
    ("hai trăm năm mươi nghìn", 250_000), ("một trăm linh năm nghìn", 105_000), ("một triệu hai", 1_200_000),
    ("hai triệu rưỡi", 2_500_000), ("một triệu năm trăm nghìn", 1_500_000), ("Hai Triệu", 2_000_000),
    ("khoảng 2 triệu", 2_000_000), ("tám trăm nghìn đồng", 800_000),
    # the form is also answered in English
    ("2 million", 2_000_000), ("500 thousand", 500_000), ("1.5 million", 1_500_000),
    # too large for a form, still read (the form's range check answers): no float overflow
    ("9" * 30, int("9" * 30)),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:30] for c in CASES])
def test_amounts_are_read_as_people_write_them(text, expected):
    assert parse_vnd(text) == expected


@pytest.mark.parametrize("text", [
    "", "  ", "abc", "triệu", "rưỡi", "1.5.5 tr", "1,5,5 triệu", "²", "２ triệu", "2 nghìn 3 triệu",
    "sữa hà lan giảm bao nhiêu", "2 triệu hay 3 triệu", "1,5", "hai hai triệu", "-2 triệu", "2 rưỡi",
])
def test_what_is_no_amount_is_none(text):
    assert parse_vnd(text) is None
