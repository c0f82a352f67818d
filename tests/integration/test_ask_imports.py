"""What a one-shot ``unionbot ask`` on SQLite loads (issue #14, cold start): none of the heavy modules of the other
paths — the Telegram library, Alembic (the schema is only checked), the document readers, the PostgreSQL dialect.
Checked on the imports (``python -X importtime``), never on a time."""

from __future__ import annotations

import os
import subprocess
import sys

#: as bench/cold_start.py's HEAVY, and the PostgreSQL dialect
NOT_ON_THE_PATH = {"aiogram", "alembic", "bm25s", "sklearn", "scipy", "openpyxl", "docx", "pypdf", "bs4", "redis",
                   "asyncpg", "sqlalchemy.dialects.postgresql"}


def test_ask_on_sqlite_imports_none_of_the_heavy_modules(tmp_path, model_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache),
               UNIONBOT_DOCUMENTS_DIR="")
    command = [sys.executable, "-X", "importtime", "-m", "bot", "ask", "gạo kim sáng giảm bao nhiêu"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert first.returncode == 0, first.stderr  # a new database: created and migrated (Alembic), not checked here
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "20%" in result.stdout  # it did answer
    modules = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
               if line.startswith("import time:")}
    assert "sqlalchemy.dialects.sqlite" in modules  # the check reads the right list
    loaded = {name for name in modules for heavy in NOT_ON_THE_PATH if name == heavy or name.startswith(heavy + ".")}
    assert loaded == set()
