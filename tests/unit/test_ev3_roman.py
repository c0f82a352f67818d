"""One roman-numeral rule ("khóa XV", "lần thứ III", "Đại hội I"): 1–39, in lower-case folded form."""

import pytest

from nlu.normalize import is_roman

_ROMANS = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xiv", "xv", "xix", "xx", "xxiv",
           "xxx", "xxxi", "xxxiv", "xxxix"]


@pytest.mark.parametrize("word", _ROMANS)
def test_every_numeral_from_one_to_thirty_nine_is_roman(word):
    assert is_roman(word)


def test_every_number_from_one_to_thirty_nine_written_in_roman_is_roman():
    for n in range(1, 40):
        tens, rest = divmod(n, 10)
        word = "x" * tens + ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"][rest]
        assert is_roman(word), word


@pytest.mark.parametrize("word", ["", "xl", "xxxx", "iiii", "vv", "ic", "vx", "iix", "xvx", "hoi", "xi2", "l", "c"])
def test_no_empty_word_nor_other_word_is_roman(word):
    assert not is_roman(word)
