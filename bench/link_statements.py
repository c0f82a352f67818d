"""Database round trips of one `/lienket CODE` (and, for comparison, one plain question) through ``Core.handle``.

Deterministic, unlike a timed burst: SQLAlchemy events count the statements, the transactions (BEGIN … COMMIT or
ROLLBACK) and the connection checkouts of each update on the embedded SQLite database (or ``--database-url``).
On SQLite every statement is a call to the aiosqlite thread and back (and a cursor fetch more for the ones that
return rows), which is what the `/lienket` burst waits on.

    PYTHONPATH=. .venv/bin/python bench/link_statements.py [--members 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.types import Incoming  # noqa: E402
from storage.membership import format_code  # noqa: E402
from tests.load.roster import members_with_codes  # noqa: E402


class Counts:
    def __init__(self, engine) -> None:
        self.c: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "begin", lambda *_: self.c.update(["transactions"]))
        event.listen(sync.pool, "checkout", lambda *_: self.c.update(["checkouts"]))

    def count_thread_calls(self) -> None:
        """Every call into aiosqlite's thread (execute, fetch, commit, cursor, ...) is a round trip and back."""
        import aiosqlite.core

        original = aiosqlite.core.Connection._execute
        counts = self.c

        async def counted(connection, fn, *args, **kwargs):
            counts["aiosqlite calls"] += 1
            return await original(connection, fn, *args, **kwargs)

        aiosqlite.core.Connection._execute = counted

    def _statement(self, _conn, _cursor, statement, *_args) -> None:
        self.c["statements"] += 1
        self.kinds[statement.split(None, 1)[0].upper()] += 1


async def measure(settings: Settings, members: int) -> dict[str, dict[str, float]]:
    app = await build_app(settings)
    try:
        codes = await members_with_codes(app.db, members, now=app.core.clock())
        counts = Counts(app.db.engine)
        if app.db.is_sqlite:
            counts.count_thread_calls()
        results = {}
        for label, texts in (("question", ["gạo kim sáng giảm bao nhiêu"] * members),
                             ("/lienket CODE", [f"/lienket {format_code(c)}" for c in codes])):
            counts.c.clear()
            counts.kinds.clear()
            for i, text in enumerate(texts):
                user = str(7_000_000 + i if label == "question" else 8_000_000 + i)
                replies = await app.core.handle(Incoming(channel="telegram", bot_id="1", chat_id=user, user_id=user,
                                                         text=text, message_id=str(i)))
                if label != "question":
                    assert "Đã liên kết" in replies[0].text, replies[0].text
            results[label] = {k: v / members for k, v in {**counts.c, **{f"  {k}": n for k, n in
                                                                           counts.kinds.items()}}.items()}
        return results
    finally:
        await app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), database_url=args.database_url, documents_dir=None,
                            cache_dir=Path(tmp) / "cache")
        results = asyncio.run(measure(settings, args.members))
    for label, values in results.items():
        print(f"{label} (per update, mean of {args.members}):")
        for key, value in sorted(values.items(), key=lambda kv: (kv[0].startswith(" "), kv[0])):
            print(f"  {key:<14} {value:6.2f}")


if __name__ == "__main__":
    main()
