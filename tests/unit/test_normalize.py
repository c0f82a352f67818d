import re
import unicodedata
from pathlib import Path

import pytest

from nlu.data import load_abbreviations
from nlu.normalize import MAX_CHARS, Normalizer, clean, fold, has_diacritics, normalize_tones, tokens

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def test_nfc_decomposed_input_equals_composed():
    decomposed = unicodedata.normalize("NFD", "Công đoàn Việt Nam")
    assert clean(decomposed) == "Công đoàn Việt Nam"


@pytest.mark.parametrize(("old", "new"), [
    ("hoá học", "hóa học"), ("thuỷ lợi", "thủy lợi"), ("khoẻ", "khỏe"), ("thoả thuận", "thỏa thuận"),
    ("lựơng", "lượng"), ("nghịêm", "nghiệm"), ("baỏ", "bảo"), ("tòan", "toàn"), ("qủa", "quả"),
    ("gìa", "già"), ("ngoaì", "ngoài"), ("Hoà Bình", "Hòa Bình"),
])
def test_tone_marks_are_placed_by_spelling_rules(old, new):
    assert normalize_tones(old) == new


def test_words_already_well_formed_are_unchanged():
    for word in ["Công", "đoàn", "người", "lao", "động", "giường", "quyết", "khuya", "thuở", "gì", "quý"]:
        assert normalize_tones(word) == word


def test_tone_normalisation_agrees_with_underthesea_on_seed_vocabulary():
    underthesea = pytest.importorskip("underthesea")
    words = set()
    for path in SEEDS.glob("*.txt"):
        words.update(re.findall(r"[^\W\d_]+", path.read_text(encoding="utf-8")))
    if not words:
        pytest.skip("seed articles not found beside the repository")
    misplaced = [w for w in words if w.islower() and normalize_tones(w) != underthesea.text_normalize(w)]
    assert len(misplaced) <= len(words) * 0.005, misplaced[:20]


def test_fold_removes_every_diacritic_and_lowercases():
    assert fold("ĐOÀN VIÊN Người Lao Động") == "doan vien nguoi lao dong"
    assert fold("Ðảm bảo") == "ðam bao" or fold(clean("Ðảm bảo")) == "dam bao"
    assert fold(clean("Ðảm bảo")) == "dam bao"


def test_fold_removes_combining_marks_of_every_block_and_only_those():
    # the marks outside U+0300–U+036F (one regular expression removes those) are removed one by one; the grapheme
    # joiner U+034F, inside that block, combines nothing and stays, as do letters of other scripts
    assert fold("a\u1dc0b\u20d0c\ufe20") == "abc"
    assert fold("a\u034fb") == "a\u034fb"
    assert fold("İstanbul Ñandú 漢字") == "istanbul nandu 漢字"
    assert fold("Ω\u0301") == "ω"


def test_clean_drops_symbols_of_any_kind_and_keeps_the_rest():
    assert clean("a^b`c © d\u200de\ud800f") == "a b c d e f"
    assert clean("Ðồng ý") == "Đồng ý"
    assert clean("gạo kim sáng") == "gạo kim sáng"


def test_tone_marks_are_moved_in_words_next_to_plain_ones():
    assert normalize_tones("gao hoá học va thoả 2020 thuận_x") == "gao hóa học va thỏa 2020 thuận_x"


def test_has_diacritics():
    assert has_diacritics("gạo") and not has_diacritics("gao kim sang")


def test_clean_removes_controls_and_emoji_and_caps_length():
    assert clean("gạo\x00\x07 😀 kim\u200b sáng") == "gạo kim sáng"
    assert len(clean("a" * 100_000)) == MAX_CHARS


def test_tokens_keep_dates_and_percentages():
    assert tokens("ngày 28/7/1929 giảm 20% đến 40%") == ["ngày", "28/7/1929", "giảm", "20%", "đến", "40%"]


def test_abbreviations_are_expanded_with_or_without_diacritics():
    normalize = Normalizer(load_abbreviations())
    assert normalize("đv có đc giảm ko").tokens == normalize("doan vien co duoc giam khong").tokens
    assert normalize("cđ hỗ trợ nlđ bn tiền").folded == "cong doan ho tro nguoi lao dong bao nhieu tien"
    assert normalize("ntn").tokens == ("nhu", "the", "nao")


def test_normalizer_survives_empty_and_symbol_only_input():
    normalize = Normalizer({})
    assert normalize("").tokens == ()
    assert normalize("😀😀 ??? !!!").tokens == ()
