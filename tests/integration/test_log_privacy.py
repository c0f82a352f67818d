"""No personal data in logs at any level: a whole hardship cycle logged at DEBUG, and a database error at ERROR."""

import io
import logging

import pytest
from sqlalchemy.exc import IntegrityError

from bot.logs import setup_logging
from storage.hardship import HardshipRepository
from storage.models import MemberRow
from tests.integration.test_hardship import REF, as_member, inbox

NAME = "Nguyễn Văn An"  # NTL-0103 of the demo roster
ROSTER_PHONE = "0900000103"
PHONE_TYPED, PHONE = "0987 654 321", "0987654321"
DESCRIPTION = "Con em bị tai nạn giao thông gãy chân phải mổ ở bệnh viện Việt Đức"
QUESTION = "Bạn gửi thêm giấy ra viện và hóa đơn nhé"
ANSWER = "Dạ em gửi giấy ra viện của cháu ạ"
NOTE = "Chuyển khoản vào tài khoản Vietcombank 0011004123456 chủ tài khoản Nguyễn Văn An"
REASON = "Hồ sơ thiếu xác nhận của bệnh viện Bạch Mai cho cháu"
LOGGERS = ("", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg")


@pytest.fixture
def debug_log():
    """Every logger at DEBUG through the bot's own logging setup; yields the captured text."""
    saved_root = logging.getLogger().handlers[:]
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield stream
    logging.getLogger().handlers[:] = saved_root
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def app(debug_log, app_on_both):
    """The app on SQLite and PostgreSQL (tests/integration/conftest.py), built with every logger at DEBUG."""
    return app_on_both


def leaks(text: str) -> list[str]:
    found = [secret for secret in (NAME, ROSTER_PHONE, PHONE, DESCRIPTION, QUESTION, ANSWER, NOTE, REASON,
                                   "0011004123456", "Việt Đức", "Bạch Mai") if secret in text]
    return found + [line for line in text.splitlines() if PHONE_TYPED in line]


async def test_a_whole_hardship_cycle_at_debug_logs_no_personal_data(app, debug_log, monkeypatch):
    member = await as_member(app, "NTL-0103", "m1")
    chair = await as_member(app, "NTL-0101", "c1")
    for answer in ["/hotro", "2", "hôm qua", DESCRIPTION, "3 triệu", "bỏ qua", PHONE_TYPED, "đồng ý"]:
        await member.says(answer)
    reference = REF.search(await member.says("gửi")).group(0)
    request_id = (await inbox(app, chair))[0]["choices"][0][1].split(":")[-1]
    assert DESCRIPTION in await chair.presses(f"req:view:{request_id}")
    await chair.presses(f"req:ask:{request_id}")
    await chair.says(QUESTION)
    assert reference in await member.says(ANSWER)
    await chair.presses(f"req:approve:{request_id}")
    await chair.says("2 triệu")
    await chair.says(NOTE)
    assert "Đã cập nhật" in await chair.says("xác nhận")  # money: confirmed (issue #15)
    assert NOTE in (await inbox(app, member))[-1]["text"]
    await member.says("/toi")
    await member.says("/hoso")

    # a database error inside a handler: the member's data is in the failing statement's parameters
    original = HardshipRepository.record

    async def failing_record(self, *args, **kwargs):
        now = app.core.clock()
        self.session.add(MemberRow(member_code="NTL-0103", full_name=NAME, phone=PHONE, unit_id=1, status="active",
                                   created_at=now, updated_at=now))  # the member code exists: a unique violation
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(HardshipRepository, "record", failing_record)
    second = await as_member(app, "NTL-0104", "m2")
    for answer in ["/hotro", "1", "hôm qua", DESCRIPTION, "bỏ qua", "xong", "đúng", "đồng ý", "gửi"]:
        await second.says(answer)
    second_id = (await inbox(app, chair))[-1]["choices"][0][1].split(":")[-1]
    await chair.presses(f"req:reject:{second_id}")
    assert await chair.says(REASON) == app.translator("bot.apology")

    text = debug_log.getvalue()
    assert len(text.splitlines()) > 100 and "sqlalchemy.engine" in text  # the log was written, at DEBUG
    errors = [line for line in text.splitlines() if " ERROR " in line]
    assert errors and IntegrityError.__name__ in text and "parameters hidden" in text
    assert "[parameters:" not in text
    assert not leaks(text), leaks(text)
