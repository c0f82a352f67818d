"""A `/lienket CODE` burst waits on the database's round trips (issue 12): linking is one transaction, and a chat with
no conversation state costs none to clear (counted with SQLAlchemy events, not timed; bench/link_statements.py)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import event

from handlers.types import Incoming
from storage.membership import format_code
from tests.load.roster import members_with_codes


async def test_linking_a_code_is_one_transaction_of_few_statements(app):
    codes = await members_with_codes(app.db, 3, now=app.core.clock())
    seen: Counter[str] = Counter()
    engine = app.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cu, statement, *_: seen.update([statement.split(None, 1)[0].upper()]))
    event.listen(engine, "commit", lambda *_: seen.update(["COMMIT"]))
    for i, code in enumerate(codes):
        user = str(9_000 + i)
        replies = await app.core.handle(Incoming(channel="telegram", bot_id="1", chat_id=user, user_id=user,
                                                 text=f"/lienket {format_code(code)}", message_id=str(i)))
        assert "Đã liên kết" in replies[0].text
    per_link = {kind: n / len(codes) for kind, n in seen.items()}
    assert per_link["COMMIT"] == 1, per_link  # the whole link, nothing after it
    # the throttle's count and clear, the code's owner with its lock, the redemption, the member with their unit,
    # the account (unlink + link), the audit line; and at most one PRAGMA data_version (another process's writes)
    assert sum(n for kind, n in per_link.items() if kind not in ("COMMIT", "PRAGMA")) <= 8, per_link
    assert per_link.get("PRAGMA", 0) <= 1, per_link


async def test_an_answered_question_waits_for_no_write_its_follow_up_and_vote_are_written_behind(app):
    """The answer's follow-up context and its pending 👍/👎 are what the chat keeps: on SQLite (the cache is
    authoritative) they are written behind, several chats in one transaction, not on the reply path (before: one
    transaction per answer, ~1.5 ms of aiosqlite round trips; bench/nlu_latency.py)."""
    from storage.conversation import StateKey, StateStore

    seen: Counter[str] = Counter()
    engine = app.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cu, statement, *_: seen.update([statement.split(None, 1)[0].upper()]))
    event.listen(engine, "commit", lambda *_: seen.update(["COMMIT"]))
    questions = 5
    for i in range(questions):
        user = str(9_100 + i)
        for buttons in (True, False):  # Telegram's buttons, and numbered choices (Zalo, the console)
            replies = await app.core.handle(Incoming(channel="telegram" if buttons else "zalo", bot_id="1",
                                                     chat_id=user, user_id=user, text="gạo kim sáng giảm bao nhiêu",
                                                     message_id=str(i), buttons=buttons))
            assert "20%" in replies[0].text and any(c.action.startswith("fb:") for c in replies[-1].choices)
    await app.core.states.flush()
    per_question = {kind: n / (2 * questions) for kind, n in seen.items()}
    assert per_question["COMMIT"] < 1, per_question  # written together
    # what the database holds (read past the cache) is what the chats keep: the follow-up and the vote
    stored = StateStore(app.db.sessions, cache=False)
    for i in range(questions):
        for channel in ("telegram", "zalo"):
            user = str(9_100 + i)
            key = StateKey("1", channel, user, user)
            state = await stored.get(key)
            assert state is not None and state == await app.core.states.get(key)
            assert "asked" in state.data, state.data
