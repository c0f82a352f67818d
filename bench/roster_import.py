"""Importing a 10,000-row roster (.xlsx) into the embedded SQLite and, if configured, PostgreSQL.

Usage: .venv/bin/python bench/roster_import.py [--rows 10000] [--write]
PostgreSQL is measured when UNIONBOT_TEST_DATABASE_URL is set. Reference: reading the same file
with openpyxl alone, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl  # noqa: E402

from bench._common import header, write_section  # noqa: E402
from services.roster import import_roster  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.membership import UnitRepository  # noqa: E402

NAMES = "An Bình Chi Dũng Giang Hà Hải Hạnh Hoa Hùng Khánh Lâm Linh Long Mai Minh Nam Ngọc Phúc Quang".split()


def make_file(path: Path, rows: int) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["STT", "Mã đoàn viên", "Họ và tên", "Số điện thoại", "Ngày sinh", "Mã đơn vị"])
    for i in range(rows):
        name = f"Đoàn viên {NAMES[i % len(NAMES)]} {NAMES[i // len(NAMES) % len(NAMES)]}"
        sheet.append([i + 1, f"BIG-{i:05d}", name, f"09{i:08d}", date(1970 + i % 30, 1 + i % 12, 1),
                      "NTL-FECON-T1" if i % 2 else None])
    workbook.save(path)


async def timed_import(url: str, path: Path) -> tuple[float, float]:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        async with db.sessions.begin() as session:
            units = UnitRepository(session)
            await units.upsert("NTL", "LĐLĐ quận Nam Từ Liêm", "district", None)
            await units.upsert("NTL-FECON", "Công đoàn Công ty Cổ phần Fecon", "grassroots", "NTL")
            await units.upsert("NTL-FECON-T1", "Tổ 1", "group", "NTL-FECON")
        times = []
        for _ in range(2):  # first import inserts, the second updates every row
            t0 = time.perf_counter()
            async with db.sessions.begin() as session:
                report = await import_roster(session, path, "NTL-FECON", now=datetime.now(UTC))
            times.append(time.perf_counter() - t0)
            assert report.ok, report.render()[:300]
        return times[0], times[1]
    finally:
        await db.dispose()


async def pg_database(base: str):
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"unionbot_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username, database=url.database)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False), name, url


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        make_file(path, args.rows)
        t0 = time.perf_counter()
        rows = sum(1 for _ in openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        read_s = time.perf_counter() - t0
        results = [("SQLite (embedded)", *await timed_import(f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}", path))]
        pg = os.environ.get("UNIONBOT_TEST_DATABASE_URL")
        if pg:
            import asyncpg

            url, name, admin = await pg_database(pg)
            try:
                results.append(("PostgreSQL 127.0.0.1", *await timed_import(url, path)))
            finally:
                conn = await asyncpg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                                             database=admin.database)
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.close()
    lines = [header("roster"), "", f"`unionbot members import` of a {args.rows:,}-row .xlsx "
             f"({rows - 1:,} data rows; validation, upsert by member code, one transaction).", "",
             "| database | first import (inserts) s | re-import (updates) s | ratio to reading the file alone |",
             "|---|---|---|---|"]
    for label, first, second in results:
        lines.append(f"| {label} | {first:.2f} | {second:.2f} | {first / read_s:.1f}× |")
    lines += ["", f"Reference: reading the file with openpyxl alone took {read_s:.2f} s."]
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section("roster-import", body)


if __name__ == "__main__":
    asyncio.run(main())
