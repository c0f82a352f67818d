"""Issue 13 (round ev3): a question naming no entry is answered with the list of the related entries; when there are
more of them than a list shows (``MAX_LIST``), the list says how many there are in all — not the count the retriever
happened to stop at (through ``Core.handle``, on the knowledge files)."""

from handlers.qa import MAX_LIST


def _listed(replies) -> list[str]:
    return [c.label for r in replies for c in r.choices if c.action.startswith("kb:")]


async def test_a_list_of_related_entries_longer_than_it_shows_says_how_many(app, member):
    await member.says("có những phong trào thi đua nào")
    shown = _listed(member.replies)
    pages = "\n".join([r.text for r in member.replies] + [p for r in member.replies for p in r.more])
    t = app.core.t
    totals = [n for n in range(MAX_LIST + 1, 200) if t("answer.list_others", "vi", total=n, shown=MAX_LIST) in pages]
    assert len(shown) == MAX_LIST and totals, pages


async def test_a_short_list_of_related_entries_says_no_count(app, member):
    await member.says("cụm thi đua số 1 gồm những đơn vị nào")
    pages = "\n".join([r.text for r in member.replies] + [p for r in member.replies for p in r.more])
    assert t_prefix(app) not in pages, pages


def t_prefix(app) -> str:
    return app.core.t("answer.list_others", "vi", total=0, shown=0).split("0")[0]
