"""The numbered things a text names: an edition ("lần thứ II", "khóa XV", "Đại hội XIII"), an anniversary
("kỷ niệm 91 năm", "95 năm thành lập") or a numbered document ("Chỉ thị 05", "Nghị quyết số 02").

A question naming one the evidence names only with other numbers ("hội thi lần 3" where the articles have "lần
thứ II", "kỷ niệm 95 năm" where they have 91) asks about something the evidence does not describe: a constraint
like a year or a cluster (``EvidenceIndex.unknown``). Read from folded tokens; a number is written in digits or in
roman numerals, "05" and "5" and "V" alike."""

from __future__ import annotations

from collections.abc import Sequence

from nlu.normalize import roman_value

#: the words before the number, folded, and the kind of thing they number
_BEFORE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("lan", "thu"), "lần thứ"),
    (("lan",), "lần thứ"),
    (("khoa",), "khóa"),
    (("dai", "hoi"), "đại hội"),
    (("ky", "niem"), "kỷ niệm"),
    (("chi", "thi", "so"), "chỉ thị"),
    (("chi", "thi"), "chỉ thị"),
    (("nghi", "quyet", "so"), "nghị quyết"),
    (("nghi", "quyet"), "nghị quyết"),
)
#: the words after it: "91 năm thành lập", "95 năm ngày thành lập"
_AFTER: tuple[tuple[tuple[str, ...], str], ...] = (
    (("nam", "thanh", "lap"), "kỷ niệm"),
    (("nam", "ngay", "thanh", "lap"), "kỷ niệm"),
)
MAX_NUMBER = 200  # "lần thứ 2021" is no edition


def number(word: str) -> int | None:
    """The value of a number written in digits ("05") or as a roman numeral of 1–39 ("xiii"), else None."""
    if word.isdigit():
        value = int(word)
        return value if 0 < value <= MAX_NUMBER else None
    return roman_value(word)


def editions(tokens: Sequence[str]) -> list[tuple[str, int, int, int]]:
    """(kind, number, first token, end token) of each numbered thing the tokens name, in order. Only the tokens
    that are numbers are looked around (a question has one or two)."""
    out: list[tuple[str, int, int, int]] = []
    taken = 0  # tokens before this are part of a numbered thing already
    for i, word in enumerate(tokens):
        if i < taken or not (word[:1].isdigit() or word[:1] in "ivx") or (value := number(word)) is None:
            continue
        found = None
        for words, kind in _BEFORE:
            k = len(words)
            if i >= k and i - k >= taken and tuple(tokens[i - k:i]) == words:
                end = i + 1
                # "kỷ niệm 91 năm thành lập": the words after the number belong to it too
                end += next((len(after) for after, _ in _AFTER if tuple(tokens[end:end + len(after)]) == after), 0)
                found = (kind, value, i - k, end)
                break
        if found is None:
            found = next(((kind, value, i, i + 1 + len(after)) for after, kind in _AFTER
                          if tuple(tokens[i + 1:i + 1 + len(after)]) == after), None)
        if found is not None:
            out.append(found)
            taken = found[3]
    return out
