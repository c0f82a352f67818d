"""Issue #15, the hardship form that understands (through Core.handle): categories in words, a kind start,
going back with the earlier answer shown, cancelling that asks first and keeps a draft, a chair's confirmation."""

from datetime import timedelta

import pytest

from tests.integration.test_hardship import as_member, fill, inbox

CATEGORY = {"illness": "Ốm đau", "accident": "Tai nạn lao động", "disaster": "Thiên tai, hỏa hoạn",
            "job_loss": "Mất việc", "death": "Gia đình có người mất", "family": "Hoàn cảnh gia đình"}


@pytest.mark.parametrize(("answer", "category"), [
    ("3", "disaster"), ("Thiên tai, hỏa hoạn", "disaster"), ("thiên tai", "disaster"), ("thien tai", "disaster"),
    ("nhà bị cháy", "disaster"), ("lũ lụt", "disaster"), ("thien taii", "disaster"),
    ("bi benh", "illness"), ("ốm đau", "illness"), ("tai nạn lao động", "accident"), ("mất việc", "job_loss"),
    ("bố em mới mất", "death"), ("hoàn cảnh gia đình khó khăn", "family"),
])
async def test_step_one_accepts_the_number_the_label_or_the_words(app, answer, category):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    reply = await member.says(answer)
    assert "Bước 2/8" in reply
    await member.says("quay lại")
    assert f"Trước đó bạn trả lời: {CATEGORY[category]}" in member.text


async def test_words_that_name_no_category_are_refused(app):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    assert "Bạn chọn một loại trong danh sách" in await member.says("xyz abc")


async def test_back_shows_the_earlier_answer_at_every_step(app):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    for answer in ("1", "hôm qua", "Em bị sốt xuất huyết phải nằm viện 5 ngày", "2 triệu"):
        await member.says(answer)
    assert "Bước 5/8" in member.text
    assert "Trước đó bạn trả lời: 2.000.000 đ" in await member.says("quay lại")
    assert "Bước 4/8" in member.text
    assert "Trước đó bạn trả lời: Em bị sốt xuất huyết" in await member.says("quay lại")
    assert "Bước 3/8" in member.text


@pytest.mark.parametrize(("said", "condolence", "category"), [
    ("ad ơi bố em mới mất, em muốn xin hỗ trợ", "chia buồn", "death"),
    ("em bị tai nạn lao động, muốn xin hỗ trợ công đoàn", "tai nạn", "accident"),
    ("nhà em bị cháy, em muốn xin hỗ trợ", "thiệt hại", "disaster"),
])
async def test_a_request_in_words_starts_kindly_with_the_category_chosen(app, said, condolence, category):
    member = await as_member(app, "NTL-0103", "m1")
    reply = await member.says(said)
    first = reply.splitlines()[0]
    assert condolence in first
    assert f"Mình đã chọn sẵn loại khó khăn: {CATEGORY[category]}" in reply and "Bước 2/8" in reply
    assert f"Trước đó bạn trả lời: {CATEGORY[category]}" in await member.says("quay lại")


async def test_hotro_without_words_asks_the_category_without_condolence(app):
    member = await as_member(app, "NTL-0103", "m1")
    reply = await member.says("/hotro")
    assert "Bước 1/8" in reply and "chia buồn" not in reply and "chọn sẵn" not in reply


FIRST = ["1", "hôm qua", "Em bị sốt xuất huyết phải nằm viện 5 ngày", "2 triệu", "bỏ qua", "đúng"]


@pytest.mark.parametrize(("stop", "again", "final"), [
    ("hủy", "hủy", "Đã hủy đề nghị hỗ trợ"),
    ("Không đồng ý", "không đồng ý", "cần sự đồng ý của bạn"),
])
async def test_stopping_a_form_with_answers_asks_once_and_keeps_a_draft(app, clock, stop, again, final):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    for answer in FIRST:
        await member.says(answer)
    assert "Bước 7/8" in member.text
    asked = await member.says(stop)
    assert "Bạn muốn hủy đề nghị? Các câu trả lời sẽ được giữ 24 giờ" in asked
    assert "Bước 7/8" in await member.says("/hotro")  # the draft, resumed where the member stopped
    assert "Bước 8/8" in await member.says("đồng ý") and "2.000.000 đ" in member.text
    assert "Bạn muốn hủy đề nghị?" in await member.says("hủy")
    assert "Bước 8/8" in await member.presses("hs:resume")
    await member.says("quay lại")
    await member.says(stop)
    assert final in await member.says(again)  # a second one cancels
    assert "Bước 1/8" in await member.says("/hotro")


async def test_a_draft_is_kept_a_day_only(app, clock):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    for answer in FIRST[:3]:
        await member.says(answer)
    await member.says("hủy")
    clock.now += timedelta(hours=25)
    assert "Bước 1/8" in await member.says("/hotro")


async def test_cancelling_before_any_answer_does_not_ask(app):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    assert "Đã hủy đề nghị hỗ trợ" in await member.says("hủy")


async def _approving(app):
    member = await as_member(app, "NTL-0103", "m1")
    chair = await as_member(app, "NTL-0101", "c1")
    reference = await fill(member)
    request_id = (await inbox(app, chair))[0]["choices"][0][1].split(":")[-1]
    await chair.presses(f"req:approve:{request_id}")
    await chair.says("2 triệu")
    asked = await chair.says("Nhận tại văn phòng")
    assert f"Duyệt hỗ trợ 2.000.000 đ cho hồ sơ {reference}?" in asked
    assert f"req:yes:{request_id}" in chair.actions and f"req:no:{request_id}" in chair.actions
    assert not any("đã được duyệt" in n["text"] for n in await inbox(app, member))  # nothing decided yet
    return member, chair, request_id


@pytest.mark.parametrize("confirm", [("press", "req:yes:{id}"), ("say", "xác nhận"), ("say", "Có")])
async def test_a_chairs_approval_is_decided_by_the_confirmation_only_and_once(app, confirm):
    member, chair, request_id = await _approving(app)
    how, what = confirm
    act = chair.presses if how == "press" else chair.says
    assert "Đã cập nhật" in await act(what.format(id=request_id))
    assert "đã được xử lý rồi" in await chair.presses(f"req:yes:{request_id}")  # a second tap decides nothing
    approved = [n["text"] for n in await inbox(app, member) if "đã được duyệt" in n["text"]]
    assert len(approved) == 1 and "2.000.000 đ" in approved[0]


@pytest.mark.parametrize("stop", [("press", "req:no:{id}"), ("say", "không")])
async def test_a_chairs_no_at_the_confirmation_approves_nothing(app, stop):
    member, chair, request_id = await _approving(app)
    how, what = stop
    assert "hồ sơ giữ nguyên" in await (chair.presses if how == "press" else chair.says)(what.format(id=request_id))
    assert "Bạn muốn" not in chair.text
    assert not any("đã được duyệt" in n["text"] for n in await inbox(app, member))
    assert "đang chờ xem xét" in await member.says("/hoso")


@pytest.mark.parametrize(("before", "step"), [(2, "Bước 3/8"), (1, "Bước 2/8"), (3, "Bước 4/8")])
async def test_a_question_typed_mid_form_is_answered_and_the_step_asked_again(app, before, step):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    for answer in FIRST[:before]:
        await member.says(answer)
    reply = await member.says("sữa hà lan giảm bao nhiêu")
    assert "Hà Lan" in reply.split("\n\n")[0] and "Mình tiếp tục đề nghị hỗ trợ" in reply and step in reply
    assert "Bước" not in member.replies[0].text  # the answer first, then the form
    await member.says(FIRST[before])
    await member.says("quay lại")
    assert "sữa hà lan" not in member.text.lower()  # the question was never stored as the answer


@pytest.mark.parametrize("description", ["Em bị sốt xuất huyết phải nằm viện 5 ngày",
                                         "Bố em mất đột ngột, gia đình rất khó khăn",
                                         "Nhà bị dột nát sau bão cần sửa, không ở được"])
async def test_a_description_is_not_taken_for_a_question(app, description):
    member = await as_member(app, "NTL-0103", "m1")
    await member.says("/hotro")
    for answer in FIRST[:2]:
        await member.says(answer)
    assert "Bước 4/8" in await member.says(description)


@pytest.mark.parametrize("verb", ["reject", "ask"])
async def test_a_chairs_quay_lai_is_no_reason_and_no_question(app, verb):
    """ "quay lại" typed where a chair writes a reason or a question goes back (the request untouched), never
    sends "quay lại" to the member as the reason of a refusal or as a question (issue 15, the form's sibling)."""
    member = await as_member(app, "NTL-0103", "m1")
    chair = await as_member(app, "NTL-0101", "c1")
    await fill(member)
    request_id = (await inbox(app, chair))[0]["choices"][0][1].split(":")[-1]
    before = len(await inbox(app, member))
    await chair.presses(f"req:{verb}:{request_id}")
    assert "hồ sơ giữ nguyên" in await chair.says("quay lại")
    assert len(await inbox(app, member)) == before  # nothing told to the member
    assert "đang chờ xem xét" in await member.says("/hoso")


async def test_a_chairs_quay_lai_in_an_approval_shows_the_earlier_value(app):
    member, chair, request_id = await _approving(app)
    back = await chair.says("quay lại")  # the confirmation -> the note, with the note typed before
    assert "Trước đó bạn trả lời: Nhận tại văn phòng" in back and "Ghi chú" in back
    back = await chair.says("quay lại")  # the note -> the amount, with the amount typed before
    assert "Trước đó bạn trả lời: 2.000.000 đ" in back and "Mức hỗ trợ" in back
    await chair.says("3 triệu")
    assert "Duyệt hỗ trợ 3.000.000 đ" in await chair.says("bỏ qua")
    assert "Đã cập nhật" in await chair.says("xác nhận")
    approved = [n["text"] for n in await inbox(app, member) if "đã được duyệt" in n["text"]]
    assert len(approved) == 1 and "3.000.000 đ" in approved[0]


async def test_a_members_quay_lai_is_no_answer_to_a_chairs_question(app):
    member = await as_member(app, "NTL-0103", "m1")
    chair = await as_member(app, "NTL-0101", "c1")
    await fill(member)
    request_id = (await inbox(app, chair))[0]["choices"][0][1].split(":")[-1]
    await chair.presses(f"req:ask:{request_id}")
    await chair.says("Bạn gửi thêm hóa đơn viện phí nhé")
    notices = len(await inbox(app, chair))
    assert await member.says("quay lại") == app.translator("hardship.info_later")
    assert len(await inbox(app, chair)) == notices  # nothing attached, nobody told
