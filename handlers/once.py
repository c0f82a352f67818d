"""Steps that happen once: what a repeat of a finished step (a second tap, a retry) is answered with.

The step itself takes the conversation state with a compare-and-set (``Capability.take``) and leaves a
"done" state with its result (the request's reference, the broadcast's number) for a few minutes. A repeat
arriving meanwhile — the same button, or the same confirming words typed again on Zalo — is answered "đã gửi
rồi" with that result; anything else ends the "done" state and is handled as usual.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.capability import DONE
from handlers.types import Incoming, Outcome, Reply
from locales import Translator
from nlu.normalize import fold
from storage.conversation import State

REMEMBER_FOR = timedelta(minutes=10)

#: per kind of step: the buttons and the words that repeat it
REPEATS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "hardship": (frozenset({"hs:submit"}), frozenset({"gui", "xac nhan", "gui di", "dong y", "send", "submit",
                                                      "confirm"})),
    "broadcast": (frozenset({"bc:now"}), frozenset({"gui", "gui ngay", "gui luon", "send", "send now", "now"})),
    "review": (frozenset(), frozenset()),
    "info": (frozenset(), frozenset()),
}


def already_done(t: Translator, state: State, lang: str) -> Reply:
    """"Đã gửi rồi" with the result the finished step left in ``state``."""
    d = state.data
    return Reply(t(f"once.{state.step}", lang, reference=d.get("reference", ""), id=d.get("id", "")))


def repeat_of(state: State, incoming: Incoming, now: datetime) -> bool:
    """Whether ``incoming`` repeats the step that left this "done" state, while it is remembered."""
    at = state.data.get("at")
    if not at or now - datetime.fromisoformat(at) > REMEMBER_FOR:
        return False
    actions, words = REPEATS.get(state.step, (frozenset(), frozenset()))
    said = fold(incoming.text or "").strip(" .!")
    if incoming.action:
        return incoming.action in actions or incoming.action == state.data.get("action")
    return bool(said) and (said in words or said == state.data.get("words"))


def answer_repeat(t: Translator, state: State | None, incoming: Incoming, now: datetime, lang: str) -> Outcome | None:
    """"Đã gửi rồi" when ``incoming`` repeats the step that left ``state`` "done", else None. Asked by the core before
    a button runs, and by a form's buttons when they read the state: two taps at once can both pass the core's look
    before the first one finishes, and the second then finds the "done" state only in its form's handler."""
    if state is None or state.flow != DONE or not repeat_of(state, incoming, now):
        return None
    return Outcome([already_done(t, state, lang)], state.step, 1.0, False)
