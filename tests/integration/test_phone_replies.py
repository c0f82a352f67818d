"""Replies for a phone (issue #15), through Core.handle: ≤ 6 lines with "xem thêm" for the rest (a button where
the channel has buttons, a number or the words elsewhere), the source line (publication, article date, "as of"),
the line under old offers, the tone for union questions without an answer, the /hotro hint only under hardship
topics, and the 👍/👎 line under an entry picked from a list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.pages import MAX_LINES
from handlers.types import Incoming, Reply
from locales import Translator
from tests.integration.test_hardship import as_member

T = Translator()


class Phone:
    """A member typing in one channel: ``buttons`` True like Telegram, False like Zalo and the console."""

    def __init__(self, app, user: str, buttons: bool) -> None:
        self.app, self.user, self.buttons = app, user, buttons
        self.replies: list = []

    async def send(self, text: str = "", action: str | None = None) -> str:
        self.replies = await self.app.core.handle(Incoming(channel="test", chat_id=self.user, user_id=self.user,
                                                           text=text, action=action, buttons=self.buttons))
        return "\n".join(r.text for r in self.replies)

    def more(self):
        return next((c for r in self.replies for c in r.choices if c.action.startswith("more:")), None)

    async def read_all(self, first: str, how: str) -> list[str]:
        """``first``, then "xem thêm" until there is none: the pages' texts (each checked to fit a phone)."""
        texts = [await self.send(first)]
        for _ in range(20):
            assert all(len(r.text.splitlines()) <= MAX_LINES for r in self.replies), self.replies
            more = self.more()
            if more is None:
                return texts
            if how == "button":
                texts.append(await self.send(action=more.action))
            elif how == "number":
                number = [c.action for r in self.replies for c in r.choices].index(more.action) + 1
                texts.append(await self.send(str(number)))
            else:
                texts.append(await self.send("xem thêm"))
        raise AssertionError("no end to the pages")


@pytest.mark.parametrize("how", ["button", "number", "words"])
async def test_a_chairs_help_fits_a_phone_and_xem_them_shows_every_command(app, how):
    chair = await as_member(app, "NTL-0101", "c1")
    phone = Phone(app, chair.user, buttons=how == "button")
    pages = await phone.read_all("/help", how)
    assert len(pages) > 1
    whole = "\n".join(pages)
    for command in ("/duyet", "/thongbao", "/capma", "/nhacnho_them", "/huylienket"):
        assert command in whole
    assert "/duyet" in pages[0] and "/lienket" not in pages[0]  # a chair's own work first: the page they read
    assert T("more.button", count=1).split(" (")[0] in " ".join(c.label for c in await _first_choices(app, chair))


async def _first_choices(app, chair):
    replies = await app.core.handle(Incoming(channel="test", chat_id=chair.user, user_id=chair.user, text="/help"))
    return [c for r in replies for c in r.choices]


@pytest.mark.parametrize("buttons", [True, False])
async def test_a_long_list_shows_its_first_items_and_the_rest_behind_xem_them(app, buttons):
    phone = Phone(app, "m-list", buttons)
    pages = await phone.read_all("có những chương trình hỗ trợ nào", "button" if buttons else "number")
    items = [line for page in pages for line in page.splitlines() if line[:1].isdigit() and ". " in line[:4]]
    assert len(pages) > 1 and len(items) > MAX_LINES
    assert [int(x.split(".")[0]) for x in items] == list(range(1, len(items) + 1))  # none lost, none twice


async def test_an_old_xem_them_button_says_its_pages_are_gone(app):
    phone = Phone(app, "m-old", buttons=True)
    await phone.send("/help")
    old = phone.more()
    await phone.send("có những chương trình hỗ trợ nào")
    assert phone.more() is not None
    await phone.send(action=old.action)
    assert phone.replies[0].text == T("more.gone")


async def test_the_source_line_names_the_publication_and_the_articles_date(member):
    reply = await member.says("cụm thi đua số 1 gồm những đơn vị nào")
    assert "Nguồn: Lao động Thủ đô, “Cụm thi đua số 1" in reply and "19/07/2022" in reply
    assert reply.count("19/07/2022") == 1  # the "as of" is the article's date: said once


async def test_a_founding_date_is_no_as_of_date(member):
    reply = await member.says("ngày thành lập công đoàn việt nam là ngày nào")
    assert "28/7/1929" in reply
    assert "theo thông tin ngày 28/07/1929" not in reply and "theo thông tin năm 2020" in reply


@pytest.mark.parametrize(("now", "stale"), [(datetime(2021, 3, 15, 9, 0, tzinfo=UTC), False),
                                            (datetime(2026, 12, 2, 2, 0, tzinfo=UTC), True)])
@pytest.mark.parametrize("how", ["picked", "typed"])
async def test_an_offer_older_than_a_year_says_it_may_have_changed(app, member, clock, now, stale, how):
    clock.now = now
    if how == "picked":
        reply = await member.presses("kb:sua-ha-lan")
    else:
        reply = await member.says("sữa hà lan giảm bao nhiêu")
    line = T("source.stale_offer", year=2020)
    assert (line in reply) is stale
    assert "Nguồn:" in reply


@pytest.mark.parametrize("text", ["Gạo Kim Sáng giảm giá bao nhiêu?", "gao kim sang giam bn",
                                  "ưu đãi sữa hà lan cho đv", "mua gạo kim sáng có được giảm ko",
                                  "5 mặt hàng sữa hà lan giảm mấy phần trăm"])
async def test_every_answer_about_an_old_offer_says_it_may_have_changed(member, clock, text):
    """Whichever sentence answers (an entry's offer, another entry's or an article's), an offer of 2020 read in 2026
    carries the line saying it may have changed and whom to ask."""
    clock.now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    reply = await member.says(text)
    assert T("source.stale_offer", year=2020) in reply or T("source.stale_offers", year=2020) in reply, reply


@pytest.mark.parametrize("text", ["lương tối thiểu vùng là bao nhiêu", "mức lương tối thiểu năm nay",
                                  "đoàn phí đóng bao nhiêu", "có giảm giá vé xe buýt ko",
                                  "đv có được giảm giá vé xem phim không"])
async def test_a_union_question_without_an_answer_is_not_called_out_of_scope(member, text):
    reply = await member.says(text)
    assert T("fallback.out_of_scope") not in reply
    # the first line says plainly that the bot has no information on it, and the reply says whom to ask
    first = reply.splitlines()[0]
    honest = (T("fallback.union_unknown"), T("facts.not_found"))
    assert first in honest or first.startswith(T("facts.unknown", what="\0").split("\0")[0]), reply
    assert T("fallback.union_unknown") in reply or T("help.contact") in reply, reply


@pytest.mark.parametrize("text", ["giá vàng SJC hôm nay", "thời tiết mai thế nào", "kết quả bóng đá tối qua"])
async def test_an_off_topic_question_keeps_the_plain_out_of_scope_line(member, text):
    reply = await member.says(text)
    assert T("fallback.union_unknown") not in reply
    assert reply.splitlines()[0] == T("fallback.out_of_scope"), reply


@pytest.mark.parametrize(("entry", "hint"), [
    ("ntl-ho-tro-covid-2020", True), ("ntl-giam-tien-tro-2020", True), ("cum1-tet-tro-cap-2022", True),
    ("hoi-thi-tho-gioi-ha-noi-2021", False), ("hoan-kiem-hoi-khoe-2025", False), ("ntl-tien-an-ca", False),
    ("sua-ha-lan", False)])
async def test_the_hotro_hint_is_shown_only_under_hardship_topics(member, entry, hint):
    reply = await member.presses(f"kb:{entry}")
    assert (T("answer.programme.request_hint") in reply) is hint
    assert any(c.action == "menu:hotro" for r in member.replies for c in r.choices) is hint


@pytest.mark.parametrize("buttons", [True, False])
async def test_an_entry_picked_from_a_list_carries_the_vote_line(app, buttons):
    phone = Phone(app, "m-pick", buttons)
    await phone.send("có những ưu đãi gì cho đoàn viên")
    pick = next(c for r in phone.replies for c in r.choices if c.action.startswith("kb:"))
    if buttons:
        await phone.send(action=pick.action)
    else:
        await phone.send("1")
    votes = [c for r in phone.replies for c in r.choices if c.action.startswith("fb:")]
    assert [c.label for c in votes] == [T("feedback.up"), T("feedback.down")]
    thanks = await phone.send(action=votes[0].action) if buttons else await phone.send(
        str([c.action for r in phone.replies for c in r.choices].index(votes[0].action) + 1))
    assert thanks == T("feedback.thanks_up")


@pytest.mark.parametrize(("entry", "name", "discount"), [("kim-sang-gao", "Gạo sạch Kim Sáng", "20%"),
                                                         ("sua-ha-lan", "Sữa Hà Lan", "30%")])
async def test_a_benefit_gives_its_discount_in_the_first_line_and_no_figure_three_times(member, entry, name,
                                                                                      discount):
    reply = await member.presses(f"kb:{entry}")
    first = reply.splitlines()[0]
    assert first.startswith(name + ":") and discount in first
    assert reply.count(discount) <= 2
    assert reply.count("Công ty cổ phần") == 1  # the partner named once


@pytest.mark.parametrize(("now", "stale"), [(datetime(2021, 3, 15, 9, 0, tzinfo=UTC), False),
                                            (datetime(2026, 12, 2, 2, 0, tzinfo=UTC), True)])
async def test_asking_whether_an_offer_still_applies_lists_them_with_their_age(member, clock, now, stale):
    clock.now = now
    reply = await member.says("ưu đãi này còn áp dụng không")
    assert T("fallback.out_of_scope") not in reply
    assert (T("source.stale_offers", year=2020) in reply) is stale


@pytest.mark.parametrize("buttons", [True, False])
async def test_a_long_answer_is_cut_between_sentences_never_inside_a_figure(app, monkeypatch, buttons):
    sentences = [f"Đơn vị số {i} đã hỗ trợ {i}.936 người lao động, tổng số tiền 3 tỷ 521,45 triệu đồng." for i in
                 range(1, 25)]
    long_answer = " ".join(sentences)  # one line of about 2,000 characters, like the Covid support list once was
    monkeypatch.setattr(app.core.answers, "answer", lambda *_args: [Reply(long_answer)])
    monkeypatch.setattr(app.core.facts, "respond", _no_fact)
    phone = Phone(app, "m-long", buttons)
    pages = await phone.read_all("có những ưu đãi gì", "button" if buttons else "number")
    assert len(pages) > 1
    assert all(page.endswith("đồng.") for page in pages)  # every page ends where a sentence does
    assert " ".join(pages).split() == long_answer.split()  # nothing lost, nothing twice


async def _no_fact(*_args, **_kwargs):
    return None
