"""Import rules of the layers, checked over the source (``ast``), lazy imports inside functions included:

- handlers/ imports no sqlalchemy and opens no database session (services own transactions);
- storage/ imports no locales, nlu, handlers or services (storage knows no words);
- nlu/ imports nothing of the project (pure functions over data files);
- only bot/channels/telegram.py imports aiogram (it takes seconds to import: off every other path);
- bot/channels/ opens no database session and imports no repository of members, accounts or the audit trail
  (``storage.membership``): a channel's use cases, such as ``chat --as``, are service methods.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("bot", "handlers", "locales", "nlu", "services", "storage", "web")


def modules_of(path: Path, tree: ast.AST) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved against its package)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def session_calls(tree: ast.AST) -> list[int]:
    """Lines that open a database session: ``x.sessions()``, ``sessions()``, ``x.sessions.begin()``."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "sessions" or \
                isinstance(func, ast.Attribute) and func.attr == "sessions" or \
                isinstance(func, ast.Attribute) and func.attr == "begin" and \
                isinstance(func.value, ast.Attribute) and func.value.attr == "sessions":
            lines.append(node.lineno)
    return sorted(lines)


def sources(package: str) -> list[tuple[Path, ast.AST]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
            for path in sorted((ROOT / package).rglob("*.py"))]


def violations(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for package in packages:
        for path, tree in sources(package):
            tops = sorted({name.split(".")[0] for name in modules_of(path, tree)})
            found.extend(f"{path.relative_to(ROOT)} imports {top}" for top in tops if top in forbidden)
    return found


def test_the_checker_sees_lazy_relative_and_session_code(tmp_path):
    """The rules below can fail: the checker finds what they look for, wherever it hides."""
    code = ("def f(db):\n    import sqlalchemy.orm\n    from .types import Reply\n"
            "    async with db.sessions.begin() as s:\n        pass\n    return db.sessions()\n")
    path = ROOT / "handlers" / "example.py"
    tree = ast.parse(code)
    assert {"sqlalchemy.orm", "handlers.types", "handlers.types.Reply"} <= modules_of(path, tree)
    assert session_calls(tree) == [4, 6]
    assert session_calls(ast.parse("async with self.states.begin():\n    pass\n")) == []


def test_handlers_import_no_sqlalchemy():
    assert violations(("handlers",), ("sqlalchemy", "asyncpg", "aiosqlite")) == []


def test_handlers_open_no_session():
    opened = [f"{path.relative_to(ROOT)}:{line}" for path, tree in sources("handlers") for line in session_calls(tree)]
    assert opened == []


def test_storage_knows_no_words_and_no_layer_above():
    assert violations(("storage",), ("locales", "nlu", "handlers", "services", "bot", "web")) == []


def test_nlu_imports_nothing_of_the_project():
    assert violations(("nlu",), tuple(p for p in PROJECT if p != "nlu")) == []


def test_only_the_telegram_adapter_imports_aiogram():
    found = [v for v in violations(PROJECT, ("aiogram",)) if not v.startswith("bot/channels/telegram.py ")]
    assert found == []
    assert violations(("bot",), ("aiogram",))  # the adapter does: the check looks at the right files


def test_the_audit_command_opens_no_session():
    """``unionbot audit export`` calls ``services.audit``, which owns the transaction (as the other exports)."""
    path = ROOT / "bot" / "audit_cli.py"
    assert session_calls(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_command_line_opens_no_session():
    """Every ``unionbot`` command calls a service (or the composition root), which owns the transaction:
    bot/cli.py and bot/audit_cli.py open no session themselves (``kb documents``, ``kb remove`` and
    ``unanswered`` call services/documents.py and services/unanswered.py)."""
    for name in ("cli.py", "audit_cli.py"):
        path = ROOT / "bot" / name
        assert session_calls(ast.parse(path.read_text(encoding="utf-8"))) == [], name
    # the check finds sessions where they are opened (the composition root opens some)
    assert session_calls(ast.parse((ROOT / "bot" / "app.py").read_text(encoding="utf-8")))


def test_the_channels_open_no_session_and_touch_no_membership_tables():
    """``unionbot chat --as MEMBER_CODE`` links the console account through ``services.membership`` (its own
    transaction and audit entry): no adapter opens a session or reaches the member, account or audit tables."""
    opened = [f"{path.relative_to(ROOT)}:{line}" for path, tree in sources("bot/channels")
              for line in session_calls(tree)]
    assert opened == []
    reached = [f"{path.relative_to(ROOT)} imports {name}" for path, tree in sources("bot/channels")
               for name in sorted(modules_of(path, tree)) if name.startswith("storage.membership")]
    assert reached == []
    # the checks read the right files: the channels do import the project (storage.db, for one)
    assert any("storage.db" in modules_of(path, tree) for path, tree in sources("bot/channels"))
