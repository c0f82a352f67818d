"""👍/👎 under the bot's answers, through Core.handle: buttons where the channel has them, "1/2" elsewhere;
only on knowledge and fact answers; a 👎 puts the question (scrubbed) on the chairs' unanswered list."""

from __future__ import annotations

import pytest

from storage.feedback import FeedbackLog
from storage.unanswered import UnansweredRepository
from tests.conftest import Member

ANSWER = "Gạo Kim Sáng giảm giá bao nhiêu?"


@pytest.fixture
def app(app_on_both):
    """The votes and the rejected answers are stored on SQLite and on PostgreSQL (when configured)."""
    return app_on_both


def votes_of(member: Member) -> list[str]:
    return [c.action for r in member.replies for c in r.choices if c.action.startswith("fb:")]


async def counts(app) -> dict:
    return await FeedbackLog(app.db.sessions).counts()


async def rejected(app) -> list:
    await app.core.unanswered.flush()
    async with app.db.sessions() as session:
        return [r for r in await UnansweredRepository(session).most_frequent() if r.last_intent == "rejected_answer"]


async def test_an_answer_carries_the_vote_buttons_within_64_bytes(member):
    await member.says(ANSWER)
    votes = votes_of(member)
    assert len(votes) == 2 and all(len(v.encode()) <= 64 for v in votes)
    assert votes_of(member) == [c.action for c in member.replies[-1].choices][-2:]  # under the last reply


@pytest.mark.parametrize("text", ["xin chào", "cảm ơn ad", "có những ưu đãi gì cho đoàn viên",
                                  "giá vàng SJC hôm nay", "/hotro", "menu"])
async def test_small_talk_lists_fallbacks_forms_and_menus_carry_no_vote(member, text):
    await member.says(text)
    assert member.replies and votes_of(member) == []


async def test_a_thumbs_down_lists_the_question_scrubbed_and_counts_it(app, member):
    await member.says("gạo kim sáng giảm bao nhiêu, gọi em 0901234567")
    down = next(v for v in votes_of(member) if v.startswith("fb:d:"))
    reply = await member.presses(down)
    assert "Ban Chấp hành" in reply
    rows = await rejected(app)
    assert len(rows) == 1 and "0901234567" not in rows[0].sample_text + rows[0].key
    assert "kim sáng" in rows[0].sample_text.lower()
    assert sum(c["down"] for c in (await counts(app)).values()) == 1


async def test_a_thumbs_up_is_counted_and_lists_nothing(app, member):
    await member.says(ANSWER)
    reply = await member.presses(next(v for v in votes_of(member) if v.startswith("fb:u:")))
    assert reply and await rejected(app) == []
    assert sum(c["up"] for c in (await counts(app)).values()) == 1


async def test_one_vote_per_answer(app, member):
    await member.says(ANSWER)
    up = votes_of(member)[0]
    await member.presses(up)
    second = await member.presses(up)
    assert "đánh giá rồi" in second
    assert sum(c["up"] + c["down"] for c in (await counts(app)).values()) == 1


async def test_without_buttons_the_member_answers_with_the_number(app):
    member = Member(app, user="202", channel="zalo")
    await member.says(ANSWER, buttons=False)
    choices = member.replies[-1].choices
    down = next(i for i, c in enumerate(choices, start=1) if c.action.startswith("fb:d:"))
    reply = await member.says(str(down), buttons=False)
    assert "Ban Chấp hành" in reply
    assert len(await rejected(app)) == 1


async def test_the_vote_line_does_not_stay_on_the_next_question(app):
    member = Member(app, user="203", channel="zalo")
    await member.says(ANSWER, buttons=False)
    await member.says("xin chào", buttons=False)
    assert votes_of(member) == []
