"""Run 30 member and chair conversations through the console channel and write them to docs/transcripts.md.

    PYTHONPATH=. python bench/transcripts.py [--out docs/transcripts.md]

Each conversation is typed as the console types it (``Core.handle`` with the console's ``Incoming``, the
numbered choices answered by their number), as one of the demo roster's people (NTL-0103 a member, NTL-0101
the chair of a grassroots union, NTL-0001 the district union, DEMO-ADMIN an admin) or an account not linked
yet. The clock is fixed and the database fresh, so the file changes only when the bot's answers do: re-run it
after every change and read the diff. One-time link codes are random: they are shown as ``XXXX-XXXX``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.channels.base import CONSOLE  # noqa: E402
from bot.channels.console import BOT_ID, CHANNEL, Inbox, render, sign_in  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.types import Incoming  # noqa: E402
from storage.feedback import FeedbackLog  # noqa: E402
from storage.unanswered import UnansweredRepository  # noqa: E402

#: Wednesday 2 December 2026, 09:00 in Hà Nội
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")
MEMBER, CHAIR, DISTRICT, ADMIN, NEWCOMER = "NTL-0103", "NTL-0101", "NTL-0001", "DEMO-ADMIN", None

#: (title, who types, what they type); a line may be a function of the transcript so far (e.g. a link code)
Line = str | Callable[[list[str]], str]
CONVERSATIONS: list[tuple[str, str | None, list[Line]]] = [
    ("Lời chào của người mới", NEWCOMER, ["xin chào", "menu"]),
    ("Hỏi ưu đãi có dấu", MEMBER, ["Gạo Kim Sáng giảm giá bao nhiêu?"]),
    ("Hỏi ưu đãi không dấu", MEMBER, ["gao kim sang giam gia bn"]),
    ("Viết tắt và tiếng lóng", MEMBER, ["sữa hà lan đc giảm mấy % vậy ad"]),
    ("Viết tắt: công đoàn, người lao động", MEMBER, ["cđ hỗ trợ nlđ khó khăn do covid ntn", "xem thêm"]),
    ("Danh sách ưu đãi, chọn bằng số", MEMBER, ["có những ưu đãi gì cho đoàn viên", "2", "1"]),
    ("Câu hỏi nối tiếp", MEMBER, ["sữa hà lan giảm bao nhiêu", "còn gạo thì sao"]),
    ("Ngoài phạm vi", MEMBER, ["giá vàng SJC hôm nay", "thời tiết mai thế nào"]),
    ("Câu hỏi công đoàn chưa có câu trả lời", MEMBER, ["đoàn phí đóng bao nhiêu", "lương tối thiểu vùng là bao nhiêu",
                                                         "ưu đãi này còn áp dụng không"]),
    ("Đợt thi đua", MEMBER, ["đợt thi đua hiện nay là đợt nào", "đợt 2 thi đua bắt đầu khi nào"]),
    ("Cụm thi đua", MEMBER, ["cụm thi đua số 1 gồm những đơn vị nào"]),
    ("Vay vốn", MEMBER, ["vay vốn quỹ trợ vốn công đoàn thế nào"]),
    ("Đánh giá câu trả lời: 👎", MEMBER, ["Gạo Kim Sáng giảm giá bao nhiêu?", "2"]),
    ("Đánh giá câu trả lời: 👍", MEMBER, ["sữa hà lan giảm bao nhiêu", "1"]),
    ("Tin nhắn có thông tin cá nhân", MEMBER, ["giá xăng hôm nay, gọi em 0901234567"]),
    ("Lời cảm ơn, tạm biệt", MEMBER, ["cảm ơn ad nhiều", "tạm biệt"]),
    ("Trợ giúp của đoàn viên", MEMBER, ["/help"]),
    ("Trợ giúp của chủ tịch công đoàn cơ sở", CHAIR, ["/help", "xem thêm", "xem thêm"]),
    ("Trợ giúp của LĐLĐ quận", DISTRICT, ["/help"]),
    ("Trợ giúp của quản trị", ADMIN, ["/help"]),
    ("Thông tin của tôi", MEMBER, ["/toi"]),
    ("Chủ tịch cấp mã liên kết", CHAIR, ["/capma NTL-0104"]),
    ("Liên kết bằng mã sai, rồi mã đúng", NEWCOMER,
     ["/lienket ABCD-EFGH", lambda seen: "/lienket " + issued(seen, "NTL-0104")]),
    ("Lời kể khó khăn mở đơn hỗ trợ", MEMBER, ["ad ơi bố em mới mất, em muốn xin hỗ trợ", "/huy"]),
    ("Đơn hỗ trợ đến lúc gửi", MEMBER, ["/hotro", "3", "hôm qua", "Nhà bị ngập sau bão, hư hỏng đồ đạc",
                                        "2 triệu", "xong", "đúng", "1", "1"]),
    ("Xem đơn của tôi", MEMBER, ["/hoso"]),
    ("Chủ tịch xem đơn chờ duyệt", CHAIR, ["/duyet", "1"]),
    ("Thông báo hẹn giờ \"mai 8h\", quay lại sửa giờ", CHAIR, ["/thongbao", "Họp ban chấp hành lúc 14h thứ sáu", "1",
                                                             "2", "ngày kia 9h", "quay lại", "mai 8h", "1"]),
    ("Kết quả thông báo, nhắc nhở theo ngày gõ", CHAIR, [
        "/thongbao_ketqua", "/nhacnho_them ngay-thanh-lap-cong-doan-viet-nam thứ hai tuần sau Họp BCH", "1"]),
    ("Đơn vị của chủ tịch", CHAIR, ["/donvi"]),
]


async def link_on_telegram(app, member_code: str) -> None:
    """The member also links a Telegram account (a channel with delivery, unlike the console), so that a chair's
    announcement has a recipient; not shown in the transcripts."""
    chair = f"console-{CHAIR}"
    await sign_in(app, chair, CHAIR)
    replies = await app.core.handle(Incoming(channel=CHANNEL, bot_id=BOT_ID, chat_id=chair, user_id=chair,
                                             text=f"/capma {member_code}"))
    code = CODE.search(" ".join(r.text for r in replies))
    assert code, "the chair's /capma gave no code"
    user = f"tg-{member_code}"
    await app.core.handle(Incoming(channel="telegram", bot_id="transcripts", chat_id=user, user_id=user,
                                   text=f"/lienket {code.group()}"))


def issued(seen: list[str], member_code: str) -> str:
    """The one-time code the chair was given for ``member_code`` (earlier in the transcript)."""
    return next((CODE.findall(s)[0] for s in seen if member_code in s and CODE.findall(s)), "ABCD-EFGH")


async def chairs_lists(app) -> list[str]:
    """What the chairs see afterwards: the unanswered list (as `unionbot unanswered` prints it) and the votes."""
    await app.core.unanswered.flush()
    async with app.db.sessions() as session:
        rows = await UnansweredRepository(session).most_frequent(50)
    votes = await FeedbackLog(app.db.sessions).counts()
    lines = ["## Afterwards: the chairs' unanswered list and the votes", "", "```text",
             app.translator("cli.unanswered_header")]
    lines += [f"{r.count:>6} | {r.sample_text} | {r.last_intent}" for r in rows]
    lines += [""] + [f"{intent}: 👍 {c['up']} 👎 {c['down']}" for intent, c in sorted(votes.items())] + ["```"]
    return lines


async def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        # no seed article is ingested: their sentences must not be copied into the repository, and the file
        # must not depend on whether they are present; the answers come from the knowledge entries
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", database_url="", demo_data=True,
                            cache_dir=ROOT / "var" / "cache", documents_dir=None, log_unanswered=True)
        app = await build_app(settings, clock=lambda: NOW)
        t = app.translator
        parts = ["# Transcripts", "",
                 "Generated by `bench/transcripts.py` (do not edit by hand): 30 conversations typed in the console "
                 f"channel, clock fixed at {NOW:%Y-%m-%d %H:%M} UTC, demo roster, "
                 "knowledge entries only (no seed article); the member NTL-0103 has also linked a Telegram account, "
                 "so a chair's announcement has a recipient. "
                 "`>` lines are what the person typed; the rest is the bot's reply, numbered choices as `[n]`.", ""]
        seen: list[str] = []
        try:
            await link_on_telegram(app, MEMBER)
            for number, (title, who, lines) in enumerate(CONVERSATIONS, start=1):
                user = f"console-{who}" if who else f"console-new-{number}"
                parts += [f"## {number}. {title}", "", f"*{who or 'tài khoản chưa liên kết'}*", "", "```text"]
                if who:
                    await sign_in(app, user, who)
                inbox = Inbox(app, user)
                for line in lines:
                    text = line(seen) if callable(line) else line
                    replies = await app.core.handle(Incoming(channel=CHANNEL, bot_id=BOT_ID, chat_id=user,
                                                             user_id=user, text=text, buttons=CONSOLE.buttons))
                    shown = [render(r, t) for r in replies] + await inbox.take()
                    seen.extend(shown)
                    parts.append(f"> {CODE.sub('XXXX-XXXX', text)}")
                    parts.extend(CODE.sub("XXXX-XXXX", s) for s in shown)
                    parts.append("")
                parts += ["```", ""]
            parts += await chairs_lists(app)
        finally:
            await app.close()
    return "\n".join(parts).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "transcripts.md")
    args = parser.parse_args()
    args.out.write_text(asyncio.run(run()), encoding="utf-8")
    print(f"{len(CONVERSATIONS)} conversations written to {args.out}")


if __name__ == "__main__":
    main()
