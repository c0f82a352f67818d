"""An off-topic question right after a fact question is a question of its own, refused: it is not read against the
previous one (the merged reading once answered "giá vàng hôm nay" after a rice question with a Tết support entry)."""

import pytest

from tests.conftest import Member


@pytest.mark.parametrize("off_topic", ["giá vàng hôm nay", "gia vang hom nay", "thời tiết hà nội mai thế nào"])
async def test_an_off_topic_question_after_a_fact_question_is_refused(app, off_topic):
    member = Member(app, "501")
    assert "20%" in await member.says("gạo kim sáng giảm bao nhiêu")
    await member.says(off_topic)
    reply = member.replies[0].text
    assert "ngoài phạm vi" in reply or "chưa có thông tin" in reply, reply
    assert "Nguồn" not in reply, reply
