import pytest

from nlu.normalize import Normalizer
from nlu.slots import asks_current, phase_number

norm = Normalizer({})


@pytest.mark.parametrize(("text", "number"), [
    ("đợt 2 bắt đầu khi nào", 2), ("dot 1 ket thuc ngay nao", 1), ("đợt thứ hai", 2),
    ("dot thi dua so 1", 1), ("đợt thi đua thứ 2 năm 2021", 2), ("đợt số 2", 2), ("phase 1", 1), ("giai đoạn 2", 2),
    ("đợt thi đua hiện tại", None), ("năm 2021 có mấy đợt", None),
])
def test_phase_number(text, number):
    assert phase_number(norm(text).tokens) == number


@pytest.mark.parametrize(("text", "current"), [
    ("đợt thi đua hiện tại là gì", True), ("bây giờ đang là đợt nào", True), ("dot nay ket thuc khi nao", True),
    ("đợt 2 bắt đầu khi nào", False),
])
def test_asks_current(text, current):
    assert asks_current(norm(text).tokens) is current
