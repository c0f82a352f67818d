import pytest

from handlers.text import clip, split_text


def test_short_text_is_one_chunk():
    assert split_text("xin chào", 4096) == ["xin chào"]


@pytest.mark.parametrize("limit", [50, 200, 2000, 4096])
def test_chunks_respect_the_limit_and_keep_every_word(limit):
    text = "\n\n".join(f"Đoạn {i}: " + " ".join(f"từ{j}" for j in range(60)) for i in range(40))
    chunks = split_text(text, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())


def test_split_prefers_paragraph_breaks():
    text = "a" * 30 + "\n\n" + "b" * 30
    assert split_text(text, 40) == ["a" * 30, "b" * 30]


def test_a_word_longer_than_the_limit_is_cut():
    chunks = split_text("x" * 95, 40)
    assert [len(c) for c in chunks] == [40, 40, 15]


def test_clip():
    assert clip("một hai ba bốn năm", 10).endswith("…")
    assert len(clip("một hai ba bốn năm", 10)) <= 10
    assert clip("ngắn", 10) == "ngắn"
