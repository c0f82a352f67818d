"""Issue 13, latency: a topic question the knowledge entries answer costs one evidence reading (through
``Core.handle``). The fact answers read it, then the topic gate (``KnowledgeAnswers.covers``) read it again, then the
context kept for a follow-up a third time; now they share the one reading. ``EvidenceIndex.read`` is wrapped to
count its calls; the replies are those of before."""

import pytest

from nlu.evidence import EvidenceIndex
from tests.integration.conftest import count_calls


@pytest.fixture
def reads(monkeypatch) -> list:
    return count_calls(monkeypatch, EvidenceIndex, "read")


async def test_a_topic_question_answered_by_the_entries_is_read_once(member, reads):
    reply = await member.says("có những ưu đãi gì cho đoàn viên")
    assert any(c.action.startswith("kb:") for r in member.replies for c in r.choices)  # the entries' list
    assert "ưu đãi" in reply.lower()
    assert len(reads) == 1


async def test_an_entry_named_by_a_definition_question_is_read_once(member, reads):
    reply = await member.says("cụm thi đua số 3 là gì")
    assert "Cụm thi đua số 3" in reply
    assert len(reads) == 1  # the context kept for a follow-up


async def test_the_follow_up_of_a_topic_answer_is_read_against_it(member, reads):
    await member.says("có những ưu đãi gì cho đoàn viên")
    reads.clear()
    await member.says("còn sữa thì sao?")
    assert "sữa" in member.last_reply.lower()
    assert len(reads) == 1
