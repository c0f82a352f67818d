"""Issue 13, the phrase a refusal names (helper fu): the words the evidence lacks and the words typed that belong to
them — "vé tàu", "dầu ăn", "tiền khám răng" — not the verb or the offer asked before them ("mua vé tàu", "ưu đãi dầu
ăn", "hỗ trợ tiền khám răng"); a word cut in two is still named whole ("xét nghiệm máu", test_fact_quality.py).

Through ``Core.process`` on the app with the seed articles ingested (as test_nl_refusals.py, whose expectations
hold too). The questions are written for these tests (in none of the eval sets).
"""

import pytest

from tests.integration.conftest import Asker, named_in, needs_seeds, text_of

pytestmark = needs_seeds


@pytest.mark.parametrize(("question", "phrase"), [
    ("đoàn viên mua vé tàu có được giảm không", "vé tàu"),
    ("có ưu đãi dầu ăn cho công nhân không ạ", "dầu ăn"),
    ("đoàn viên mua dầu ăn có được giảm giá không ạ", "dầu ăn"),
    ("công đoàn có hỗ trợ tiền khám răng cho đoàn viên không", "tiền khám răng"),
])
async def test_a_refusal_names_the_thing_not_the_verb_before_it(seeded, question, phrase):  # noqa: F811
    outcome = await Asker(seeded, "fu-n").ask(question)
    assert outcome.fallback and named_in(text_of(outcome)) == [phrase], text_of(outcome)
