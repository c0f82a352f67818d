"""Every interface language is complete: an English user never falls into Vietnamese halfway through a form."""

import string

import pytest

from locales import DEFAULT_LANGUAGE, Translator

TRANSLATOR = Translator()
OTHERS = [lang for lang in TRANSLATOR.languages if lang != DEFAULT_LANGUAGE]


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", OTHERS)
def test_every_key_is_translated_with_the_same_placeholders(lang):
    default, table = TRANSLATOR.tables[DEFAULT_LANGUAGE], TRANSLATOR.tables[lang]
    assert sorted(set(default) - set(table)) == []
    assert sorted(set(table) - set(default)) == []  # a key only one language has is a typo
    assert [k for k in default if placeholders(default[k]) != placeholders(table[k])] == []


def test_a_missing_value_stays_visible_instead_of_crashing():
    assert TRANSLATOR("broadcast.progress", id=7) == "Thông báo #7: đã xử lý {done}/{total} người nhận ({percent}%)."
    with pytest.raises(KeyError):
        TRANSLATOR("no.such.key")


def test_a_key_yaml_reads_as_a_boolean_is_refused_at_load(tmp_path):
    (tmp_path / "vi.yaml").write_text("web:\n  off: Tắt\n", encoding="utf-8")
    with pytest.raises(ValueError, match="web.False"):
        Translator(tmp_path)
