"""A feedback line under the bot's answers: 👍/👎 (buttons on Telegram, numbered choices on Zalo and the console).

Only knowledge and fact answers carry it — not form steps, lists to pick from, small talk or fallbacks (a
fallback is logged as unanswered already). A vote is counted for statistics (storage/feedback.py); a 👎 also
puts the question, scrubbed of personal details (nlu/privacy.py), on the chairs' unanswered list, marked as
a rejected answer. The question waiting for a vote is kept in the member's conversation state, scrubbed too;
the button carries only the vote and a short reference to it (one vote per answer).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from handlers.capability import Capability, asker_of, state_key
from handlers.core import CHOICES_FLOW
from handlers.registry import ActionPrefix, Callback, Declaration
from handlers.types import Choice, Incoming, Outcome, Reply
from nlu import intents
from nlu.normalize import fold
from nlu.privacy import scrub
from storage.conversation import State

if TYPE_CHECKING:
    from nlu.matcher import Understanding
    from storage.feedback import FeedbackLog
    from storage.unanswered import UnansweredLog

#: the intent a rejected answer is listed under in the unanswered log
REJECTED = "rejected_answer"
#: the key prefix of rejected answers in the unanswered log (they are not merged with the bot's fallbacks)
REJECTED_KEY = "rejected:"
UP, DOWN = "up", "down"
#: the key of the chat's idle state that holds the answer awaiting a vote
PENDING = "feedback"
_VOTES = {"u": UP, "d": DOWN}


@dataclass(frozen=True)
class FeedbackButton(Callback):
    """"fb:u:<ref>" / "fb:d:<ref>": a vote on the answer ``ref`` (8 hex digits) names."""

    prefix: ClassVar[str] = "fb"
    vote: str
    ref: str


def is_answer(outcome: Outcome) -> bool:
    """A knowledge or fact answer (not a fallback, not a list to pick from, not small talk or a form)."""
    if outcome.fallback or not outcome.replies or outcome.intent not in intents.INTENT_KINDS:
        return False
    return not any(c.action.startswith("kb:") for r in outcome.replies for c in r.choices)


class Feedback(Capability):
    def __init__(self, *parts, votes: FeedbackLog, unanswered: UnansweredLog) -> None:
        super().__init__(*parts)
        self.votes = votes
        self.unanswered = unanswered

    async def attach(self, incoming: Incoming, outcome: Outcome, u: Understanding | None, lang: str,
                     state: State | None, picked: str | None = None) -> Outcome:
        """``outcome`` with the 👍/👎 line under its last reply, when it is an answer to a typed question — or to
        the entry ``picked`` from a list (by number or button: its name stands for the question) — in a private
        chat that is in no form (``state``, the chat's as the core read it: the question is remembered, scrubbed,
        for the vote)."""
        if incoming.is_group or (incoming.action and picked is None) or not is_answer(outcome):
            return outcome
        if state is not None and state.flow != CHOICES_FLOW:
            return outcome
        if picked is not None:
            question, key = scrub(picked), scrub(fold(picked))
        else:
            question, key = scrub(incoming.text or ""), scrub(u.normalized.folded or "") if u is not None else ""
        if not key.strip(" []"):
            return outcome
        ref = hashlib.blake2s(f"{key}|{self.clock().isoformat()}".encode(), digest_size=4).hexdigest()
        pending = {"ref": ref, "text": question, "key": key, "intent": outcome.intent,
                   "confidence": round(outcome.confidence, 3)}
        last = outcome.replies[-1]
        line = (Choice(self.t("feedback.up", lang), FeedbackButton("u", ref).encode()),
                Choice(self.t("feedback.down", lang), FeedbackButton("d", ref).encode()))
        replies = [*outcome.replies[:-1], replace(last, choices=(*last.choices, *line))]
        # kept by the core with the choices shown, in the same write (``Outcome.keep``)
        return replace(outcome, replies=replies, keep={**(outcome.keep or {}), PENDING: pending})

    async def vote(self, incoming: Incoming, data: str, lang: str) -> Outcome | None:
        button = FeedbackButton.decode(data)
        if button is None or button.vote not in _VOTES:
            return None
        state = await self.states.get(state_key(incoming))
        pending = state.data.get(PENDING) if state else None
        if state is None or not pending or pending.get("ref") != button.ref:
            return Outcome([self._reply("feedback.gone", lang)], "feedback", 1.0, False)
        rest = {k: v for k, v in state.data.items() if k != PENDING}
        if rest or state.flow != CHOICES_FLOW:
            await self.save_state(incoming, State(state.flow, state.step, rest))
        else:
            await self.clear_state(incoming)
        vote = _VOTES[button.vote]
        now = self.clock()
        await self.votes.record(vote, pending["intent"], incoming.channel, now, asker_of(incoming))
        if vote == DOWN:
            self.unanswered.record(REJECTED_KEY + pending["key"], pending["text"], incoming.channel, REJECTED,
                                   float(pending.get("confidence", 0.0)), now, asker_of(incoming))
        return Outcome([self._reply("feedback.thanks_up" if vote == UP else "feedback.thanks_down", lang)],
                       "feedback", 1.0, False)

    def _reply(self, key: str, lang: str) -> Reply:
        return Reply(self.t(key, lang))


DECLARATION = Declaration(
    "feedback",
    actions=(ActionPrefix("fb", lambda feedback, i, data, lang: feedback.vote(i, data, lang)),),
    callbacks=(FeedbackButton,))
