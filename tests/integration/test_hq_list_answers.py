"""A list answer longer than it shows says how many entries there are (through ``Core.handle``). The menu's
"Chương trình hỗ trợ" showed ``MAX_LIST`` of the programmes, its first page "Xem thêm (còn 7)" of those, and the
list ended there: a member reading to the end took it for all there is (issue 13: list answers are complete or say
how many more there are)."""

from handlers.qa import MAX_LIST
from handlers.smalltalk import MenuButton
from nlu import intents


def _listed(replies) -> list[str]:
    return [c.label for r in replies for c in r.choices if c.action.startswith("kb:")]


async def test_a_list_capped_says_how_many_entries_there_are(app, member):
    total = len(app.core.answers.kb.of_kind(*intents.INTENT_KINDS[intents.PROGRAMME]))
    assert total > MAX_LIST  # (the knowledge holds more programmes than one list shows)
    first_page = await member.presses(MenuButton(intents.PROGRAMME).encode())
    assert len(_listed(member.replies)) == MAX_LIST
    # said on the first page, beside the hint: how many there are, and how many this list has
    assert f" {total} " in first_page and f" {MAX_LIST} " in first_page


async def test_a_list_shown_whole_says_no_count(app, member):
    clusters = app.core.answers.kb.of_kind(*intents.INTENT_KINDS[intents.CLUSTER])
    assert 1 < len(clusters) <= MAX_LIST
    reply = await member.presses(MenuButton(intents.CLUSTER).encode())
    assert len(_listed(member.replies)) == len(clusters)
    assert f" {len(clusters)} " not in reply.splitlines()[-1]
