"""Optional parts of the install (issue #15): running needs none of the extras; the settings say which ones a
deployment needs (`unionbot extras`, which scripts/setup.sh installs); a missing one is one Vietnamese line
naming the command that installs it, not a traceback. An extra is "missing" here as it is on a machine
without it: its module cannot be imported (``sys.modules[name] = None``)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from services.extras import EXTRAS, MissingExtra, available, needed

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
OPTIONAL = PYPROJECT["project"]["optional-dependencies"]


def cli(tmp_path, model_cache, *args: str, blocked: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess:
    """``unionbot ARGS`` in a fresh process whose interpreter cannot import ``blocked``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    environ.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache),
                   UNIONBOT_DOCUMENTS_DIR="", **{f"UNIONBOT_{k.upper()}": v for k, v in env.items()})
    code = (f"import sys\nfor name in {list(blocked)!r}:\n    sys.modules[name] = None\n"
            f"sys.argv = ['unionbot', *{list(args)!r}]\nfrom bot.cli import main\nmain()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, cwd=tmp_path,
                          timeout=120)


def test_the_extras_in_pyproject_are_the_ones_the_code_knows():
    assert set(OPTIONAL) - {"all", "test", "dev"} == set(EXTRAS)
    assert OPTIONAL["all"] == [f"unionbot[{','.join(EXTRAS)}]"]
    assert "unionbot[all]" in OPTIONAL["test"]  # scripts/test.sh (and so CI) installs every extra
    running = {Requirement(r).name for r in PYPROJECT["project"]["dependencies"]}
    for extra, requirements in OPTIONAL.items():
        if extra in EXTRAS:
            assert not running & {Requirement(r).name for r in requirements}, extra  # not installed twice


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_each_extra_brings_the_modules_the_code_asks_for(extra):
    if not available(extra):
        pytest.skip(f"the '{extra}' extra is not installed")
    distributions = packages_distributions()
    wanted = {Requirement(r).name.lower() for r in OPTIONAL[extra]}
    for module in EXTRAS[extra]:
        try:
            assert {d.lower() for d in distributions[module]} & wanted, module
        except (KeyError, PackageNotFoundError):
            pytest.fail(f"{module} comes from no installed distribution")


def test_ci_installs_every_extra():
    """The tests of the optional parts skip only where an extra is missing: never in CI."""
    if os.environ.get("CI") != "true":
        pytest.skip("only in CI (CI=true), which installs every extra")
    assert [e for e in EXTRAS if not available(e)] == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, []),
    ({"database_url": "postgresql://unionbot@db.example/unionbot"}, ["postgres"]),
    ({"database_url": "postgresql+asyncpg://unionbot@db.example/unionbot"}, ["postgres"]),
    ({"database_url": "sqlite:///tmp/x.db"}, []),
    ({"redis_url": "redis://127.0.0.1:6379/0"}, ["redis"]),
    ({"telegram_token": "123:ABC"}, ["telegram"]),
    ({"zalo_token": "zalo-token"}, []),  # Zalo speaks aiohttp, which running has
    ({"web_base_url": "https://cd.example"}, []),  # the console: tables stand in for the charts
])
def test_the_settings_name_the_extras_they_need(settings, changes, expected):
    assert needed(settings.replace(**changes)) == expected


def test_documents_to_ingest_need_the_documents_extra_unless_plain_text(settings, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Văn bản.", encoding="utf-8")
    assert needed(settings.replace(documents_dir=folder)) == []
    (folder / "b.pdf").write_bytes(b"%PDF-1.4")
    assert needed(settings.replace(documents_dir=folder)) == ["documents"]
    assert needed(settings.replace(documents_dir=folder), documents=False) == []


def test_unionbot_extras_prints_one_a_line(tmp_path, model_cache):
    plain = cli(tmp_path, model_cache, "extras")
    assert plain.returncode == 0 and plain.stdout == ""
    configured = cli(tmp_path, model_cache, "extras", telegram_token="123:ABC", redis_url="redis://127.0.0.1/0",
                     database_url="postgresql://u@127.0.0.1/x")
    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.splitlines() == ["postgres", "redis", "telegram"]


def test_postgresql_without_asyncpg_is_one_line_naming_the_command(tmp_path, model_cache):
    result = cli(tmp_path, model_cache, "ask", "sữa hà lan", blocked=("asyncpg",),
                 database_url="postgresql://u@127.0.0.1:1/x")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Chưa cài gói bổ sung “postgres” (cần cho cơ sở dữ liệu PostgreSQL trong UNIONBOT_DATABASE_URL). "
        "Cài bằng: bash scripts/setup.sh postgres (hoặc pip install 'unionbot[postgres]'), rồi chạy lại."]


def test_a_telegram_token_without_aiogram_is_one_line_before_anything_starts(tmp_path, model_cache):
    result = cli(tmp_path, model_cache, "run", blocked=("aiogram",), telegram_token="123:ABC",
                 telegram_api_url="http://127.0.0.1:1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Chưa cài gói bổ sung “telegram”")
    assert "bash scripts/setup.sh telegram" in result.stderr and "123:ABC" not in result.stderr


def test_the_console_chat_needs_no_extra(tmp_path, model_cache):
    blocked = tuple(m for modules in EXTRAS.values() for m in modules)
    result = cli(tmp_path, model_cache, "ask", "sữa hà lan giảm bao nhiêu", blocked=blocked)
    assert result.returncode == 0, result.stderr
    assert "Sữa Hà Lan" in result.stdout


def test_a_document_without_the_documents_extra_names_the_command(tmp_path, monkeypatch):
    from services.documents import DocumentError, read_document

    for module in EXTRAS["documents"]:
        monkeypatch.setitem(sys.modules, module, None)
    pdf = tmp_path / "quy-che.pdf"
    pdf.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(DocumentError) as refused:
        read_document(pdf)
    assert refused.value.reason == "missing_extra"
    assert "bash scripts/setup.sh documents" in str(refused.value) and "quy-che.pdf" in str(refused.value)
    text = tmp_path / "quy-che.txt"
    text.write_text("Quy chế chi tiêu nội bộ của công đoàn cơ sở năm 2024.\n", encoding="utf-8")
    assert read_document(text).paragraphs  # plain text needs no extra


def test_redis_without_its_extra_is_refused_by_name(settings, monkeypatch):
    from bot.governor import build_governor

    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(MissingExtra) as refused:
        build_governor(settings.replace(redis_url="redis://127.0.0.1:1/0"), "telegram", "123:ABC", 25)
    assert refused.value.extra == "redis" and "123:ABC" not in str(refused.value)


#: what a test run or one optional part needs, never what chatting needs
TEST_TOOLS = {"pytest", "pytest-asyncio", "hypothesis", "ruff", "mypy", "playwright", "underthesea", "scikit-learn",
              "fpdf2"}
HEAVY = {"matplotlib", "aiogram", "asyncpg", "redis", "python-docx", "pypdf", "beautifulsoup4", "torch", "scipy",
         "pandas", "transformers", "scikit-learn", "underthesea"}


def test_what_running_installs_holds_no_test_tool_and_no_heavy_extra():
    """`bash scripts/run.sh` installs the project alone (`pip install -e .`, the dependencies) plus the extras
    `unionbot extras` names for the settings (none for the console chat): the test tools and the heavy optional
    parts are extras it does not name."""
    running = {Requirement(r).name.lower() for r in PYPROJECT["project"]["dependencies"]}
    assert not running & (TEST_TOOLS | HEAVY), running & (TEST_TOOLS | HEAVY)
    assert not {Requirement(r).name.lower() for r in OPTIONAL["test"]} - TEST_TOOLS - {"unionbot", "types-pyyaml"}
    run_sh = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh\n" in run_sh  # no extra named: only what the settings need
    setup_sh = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "pip_install -e .\n" in setup_sh and "unionbot extras" in setup_sh
    assert "test" not in needed(_default_settings())


def _default_settings():
    from bot.settings import Settings

    return Settings(_env_file=None)


def test_building_the_package_gives_no_license_warning(tmp_path):
    """pyproject's ``license`` is an SPDX string (PEP 639) with the setuptools that reads it: building the package
    warns nothing about ``project.license`` (a table did, with a deprecation notice at every install). Only in CI:
    the build fetches setuptools from the package index into an isolated environment."""
    if os.environ.get("CI") != "true":
        pytest.skip("only in CI (CI=true): building fetches setuptools from the package index")
    source = tmp_path / "src"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(source)], check=True)
    import ensurepip  # the venv holds no pip (scripts/setup.sh): the wheel Python ships, run as setup.sh does

    pip = next(iter(sorted((Path(ensurepip.__file__).parent / "_bundled").glob("pip-*.whl"))), None)
    if pip is None:
        pytest.skip("this Python ships no pip wheel (ensurepip)")
    built = subprocess.run([sys.executable, str(pip / "pip"), "wheel", "--no-deps", "-v", str(source), "-w",
                            str(tmp_path / "wheel")], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    output = built.stdout + built.stderr
    assert "project.license" not in output and "License classifiers are deprecated" not in output, output[-3000:]
