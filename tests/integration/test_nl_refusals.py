"""Issue 13, honest refusals (helper nl): a refusal names what the evidence has nothing about, never a word the
documents write.

Through ``Core.process`` on the app with the seed articles ingested (``../shared/seeds``; skipped without them) and
the knowledge entries loaded, as ``unionbot ask`` runs. The questions are written for these tests (in none of the eval
sets): things the articles never mention, asked beside words they do write ("giảm giá", "ưu đãi", "hỗ trợ").
"""

import pytest

from tests.integration.conftest import Asker, named_in, needs_seeds, text_of

pytestmark = needs_seeds

# (question, the phrase the refusal must name): an accented word the articles never write ("dầu", "răng", "vé" fold
# as the stop words "đâu", "rằng", "về") beside words they write many times ("giảm giá", "ưu đãi")
UNSEEN = [
    ("dầu ăn có giảm giá cho đoàn viên không", "dầu ăn"),
    ("khám răng có được giảm giá không", "khám răng"),
    ("đoàn viên mua dầu ăn có được giảm giá không ạ", "dầu ăn"),
    ("có ưu đãi dầu ăn cho công nhân không ạ", "dầu ăn"),
    ("công đoàn có hỗ trợ tiền khám răng cho đoàn viên không", "khám răng"),
    ("vé xe buýt có được giảm giá không", "vé xe buýt"),
    ("đoàn viên mua vé tàu có được giảm không", "vé tàu"),
    # a syllable typed without accents in a question typed with them is what it was typed as: "phim", not "phí"
    ("giảm giá vé xem phim cho đoàn viên", "phim"),
]


async def test_a_refusal_names_what_the_evidence_lacks_not_a_word_it_writes(seeded):
    wrong = []
    for n, (question, phrase) in enumerate(UNSEEN):
        outcome = await Asker(seeded, f"nl-r{n}").ask(question)
        reply = text_of(outcome)
        named = named_in(reply)
        # declined, naming the thing asked (with the words around it the member typed), and nothing the documents
        # write alone ("giảm", "khám") nor a word the member did not type ("dam" for "dầu")
        if not outcome.fallback or not any(phrase in n for n in named) \
                or any(n in ("giảm", "khám", "giảm giá", "ưu đãi", "dam", "gia", "phi") for n in named):
            wrong.append((question, named, reply.splitlines()[0] if reply else ""))
    assert not wrong, wrong


async def test_an_accented_word_the_documents_write_is_never_named_missing(seeded):
    # "giảm", "khám", "tàu", "ăn" are written in the articles or the entries: a refusal that names one of them alone
    # says the bot knows nothing of a word it holds
    written = {"giảm", "giảm giá", "khám", "tàu", "ăn", "giá", "ưu đãi", "hỗ trợ"}
    for n, (question, _phrase) in enumerate(UNSEEN):
        outcome = await Asker(seeded, f"nl-w{n}").ask(question)
        named = set(named_in(text_of(outcome)))
        assert not named & written, (question, named)


@pytest.mark.parametrize("question", [
    "doan vien kham suc khoe o dong da duoc giam bao nhieu",  # folded, as before: not refused for "giam"
])
async def test_a_question_the_evidence_covers_is_still_not_refused_for_its_words(seeded, question):
    outcome = await Asker(seeded, "nl-ok").ask(question)
    assert "“giảm”" not in text_of(outcome) and "“giam”" not in text_of(outcome), text_of(outcome)
