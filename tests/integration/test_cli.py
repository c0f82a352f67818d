"""The command line as users and the evaluators call it (real subprocesses)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path, model_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache))

    def _run(*args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True,
                                text=True, env=env, cwd=tmp_path, timeout=120)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return _run


def test_ask_prints_the_answer(run):
    out = run("ask", "gạo kim sáng giảm bao nhiêu").stdout
    assert "20%" in out and "40%" in out


def test_ask_json_writes_one_object_per_line_and_nothing_else(run):
    questions = ["gao kim sang giam bao nhieu", "giá vàng hôm nay", "", "xin chào", "đợt 2 bắt đầu khi nào"]
    result = run("ask", "--json", stdin="\n".join(questions) + "\n")
    lines = result.stdout.splitlines()
    assert len(lines) == len(questions)
    objects = [json.loads(line) for line in lines]
    assert [o["question"] for o in objects] == questions
    assert all(set(o) == {"question", "reply", "intent", "confidence", "fallback"} for o in objects)
    rice, gold, empty, hello, phase = objects
    assert rice["intent"] == "benefit" and not rice["fallback"] and "20%" in rice["reply"]
    assert gold["fallback"] and gold["intent"] == "out_of_scope"
    assert empty["fallback"]
    assert hello["intent"] == "greeting" and not hello["fallback"]
    assert not phase["fallback"] and "01/07/2021" in phase["reply"]


def test_unanswered_lists_what_the_bot_could_not_answer(run):
    run("ask", "--json", stdin="giá vàng hôm nay\nGiá vàng hôm nay?\nthời tiết mai thế nào\n")
    out = run("unanswered").stdout.splitlines()
    assert out[1].split("|")[0].strip() == "2" and "vàng" in out[1]


def test_unanswered_counts_a_question_once_over_the_askers_units(run):
    """The log keeps a row per question and asker's unit (a chair reads their subtree's); the operator's list is
    the whole bot's: one line per question, every unit's count added."""
    for who in ("NTL-0103", "NTL-0202"):  # members of two sibling unions
        run("chat", "--as", who, stdin="giá vàng hôm nay\n/thoat\n")
    run("ask", "Giá vàng hôm nay?")  # an asker linked to no member
    out = run("unanswered").stdout.splitlines()
    assert len(out) == 2, out
    assert out[1].split("|")[0].strip() == "3" and "vàng" in out[1]


def test_kb_load_reports_a_bad_file_and_loads_nothing(run, tmp_path):
    bad = tmp_path / "kb"
    bad.mkdir()
    (bad / "x.yaml").write_text("entries:\n  - id: x\n    kind: fact\n    name: X\n", encoding="utf-8")
    result = run("kb", "load", str(bad), check=False)
    assert result.returncode == 1
    assert "x.yaml: entry 'x': field 'summary'" in result.stderr
    good = run("kb", "load").stdout
    assert "87" in good or "mục kiến thức" in good


def test_db_upgrade(run):
    assert run("db", "upgrade").returncode == 0


def test_chat_reads_stdin_and_numbered_choices_work(run):
    out = run("chat", stdin="/menu\n1\n1\n/thoat\n").stdout
    assert "Ưu đãi cho đoàn viên" in out
    assert "Gạo" in out or "Sữa" in out


def test_eval_trains_and_tests_the_matcher_on_seq_in_label_data(run, tmp_path):
    for split, rows in {
        "train": [("bật đèn phòng khách", "light_on"), ("tắt đèn đi", "light_off"), ("mở đèn", "light_on"),
                  ("tat den phong ngu", "light_off"), ("bat den giup toi", "light_on"), ("tắt hết đèn", "light_off")],
        "test": [("bat den phong khach", "light_on"), ("tat den", "light_off")],
    }.items():
        folder = tmp_path / split
        folder.mkdir()
        (folder / "seq.in").write_text("\n".join(t for t, _ in rows) + "\n", encoding="utf-8")
        (folder / "label").write_text("\n".join(lab for _, lab in rows) + "\n", encoding="utf-8")
    result = run("eval", "--train", str(tmp_path / "train"), "--test", str(tmp_path / "test"), "--json")
    report = json.loads(result.stdout)
    assert report["total"] == 2 and report["in_scope"]["accuracy"] == 1.0


def test_eval_on_the_dev_set_meets_the_targets(run):
    report = json.loads(run("eval", "--dev", str(ROOT / "eval" / "dev.jsonl"), "--json").stdout)
    assert report["total"] >= 300
    assert report["in_scope"]["accuracy"] >= 0.95
    assert report["in_scope_without_diacritics"]["accuracy"] >= 0.93
    assert report["out_of_scope"]["recall"] >= 0.90


def _xlsx(path, rows):
    import openpyxl

    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)


def test_members_import_reports_errors_imports_nothing_then_skips_invalid(run, tmp_path):
    path = tmp_path / "roster.xlsx"
    _xlsx(path, [["STT", "Họ và tên", "Mã đoàn viên", "Số điện thoại"],
                 [1, "Nguyễn Thị Thử", "T-0001", "0912 345 678"],
                 [2, "", "T-0002", "12345"]])
    result = run("members", "import", str(path), "--unit", "NTL-FECON", check=False)
    assert result.returncode == 1
    assert "Dòng 3, cột “Họ và tên”: thiếu họ và tên" in result.stderr
    assert "Dòng 3, cột “Số điện thoại”: số điện thoại không hợp lệ (12345)" in result.stderr
    assert "Đã thêm" not in result.stdout + result.stderr  # refused: no counts that read like an import
    assert "Chưa nhập đoàn viên nào: tệp có 1 dòng lỗi" in result.stderr and "--skip-invalid" in result.stderr
    assert result.stdout == ""  # nothing on stdout beside a refused file
    result = run("members", "import", str(path), "--unit", "NTL-FECON", "--skip-invalid")
    assert "Đã thêm 1 đoàn viên, cập nhật 0, bỏ qua 1 dòng có lỗi." in result.stdout
    again = run("members", "import", str(path), "--unit", "NTL-FECON", "--skip-invalid")
    assert "Đã thêm 0 đoàn viên, cập nhật 1" in again.stdout


def test_members_export_and_codes(run, tmp_path):
    import csv

    import openpyxl

    out = tmp_path / "export.xlsx"
    assert "Đã xuất 5 đoàn viên" in run("members", "export", str(out), "--unit", "NTL-FECON").stdout
    rows = list(openpyxl.load_workbook(out).active.values)
    assert rows[0][:2] == ("Mã đoàn viên", "Họ và tên") and len(rows) == 6
    codes = tmp_path / "codes.csv"
    run("members", "codes", "--unit", "NTL-FECON-T1", "--out", str(codes))
    table = list(csv.reader(codes.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[0] for r in table[1:]] == ["NTL-0103", "NTL-0104"]
    code = table[1][3]
    out = run("ask", "--json", stdin=f"/lienket {code}\n").stdout
    assert "Nguyễn Văn An" in json.loads(out)["reply"]


def test_chat_as_a_chair(run):
    out = run("chat", "--as", "NTL-0101", stdin="/donvi\n/capma NTL-0103\n").stdout
    assert "Lê Văn Bình" in out and "Đoàn viên đang sinh hoạt: 5" in out and "Mã liên kết cho" in out


def test_console_sessions_of_two_members_reach_each_other_through_notifications(run):
    """A member files a hardship request in one console session; the chair, in their own session, finds the
    notification and decides with its numbered choices; the member finds the decision when they come back."""
    run("chat", "--as", "NTL-0101", stdin="")  # the chair has used the console before: it is one of their chats
    script = "\n".join(["/hotro", "5", "hôm nay", "Công ty cắt giảm giờ làm, thu nhập giảm một nửa", "3 triệu", "xong",
                        "đúng", "đồng ý", "gửi"])
    member = run("chat", "--as", "NTL-0103", stdin=script + "\n").stdout
    reference = re.search(r"HT-\d{4}-\d{6}", member).group(0)
    chair = run("chat", "--as", "NTL-0101", stdin="1\n3\nChưa đủ điều kiện theo quy chế\n").stdout
    assert "🔔" in chair and reference in chair and "[1] Xem hồ sơ" in chair
    assert "Công ty cắt giảm giờ làm" in chair  # "1" opened the request from the notification
    again = run("chat", "--as", "NTL-0103", stdin="").stdout
    assert "chưa được duyệt" in again and "Chưa đủ điều kiện theo quy chế" in again
    assert "chưa được duyệt" not in run("chat", "--as", "NTL-0103", stdin="").stdout  # delivered once


def test_requests_export_content(run, tmp_path):
    import openpyxl

    script = "\n".join(["/hotro", "1", "hôm qua", "Em bị sốt xuất huyết phải nằm viện", "2 triệu", "xong", "đúng",
                        "đồng ý", "gửi"])
    out = run("chat", "--as", "NTL-0103", stdin=script + "\n").stdout
    assert "HT-" in out
    path = tmp_path / "requests.xlsx"
    result = run("requests", "export", "--unit", "NTL-FECON", "--from", "2020-01-01", "--to", "2100-12-31",
                 "--format", "xlsx", "--out", str(path))
    assert "Đã xuất 1 hồ sơ" in result.stdout
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Hồ sơ hỗ trợ"]
    header, row = list(workbook.active.values)
    record = dict(zip(header, row, strict=True))
    assert record["Mã đoàn viên"] == "NTL-0103" and record["Loại khó khăn"] == "Ốm đau, bệnh hiểm nghèo"
    assert record["Số tiền đề nghị"] == 2_000_000 and record["Trạng thái"] == "đang chờ xem xét"
    assert "Gửi đề nghị" in record["Lịch sử"]
    empty = run("requests", "export", "--unit", "NTL-JWM", "--from", "2020-01-01", "--to", "2100-12-31",
                "--format", "csv", "--out", str(tmp_path / "none.csv"))
    assert "Đã xuất 0 hồ sơ" in empty.stdout


def test_requests_export_history_says_who_decided(run, tmp_path):
    import openpyxl

    script = "\n".join(["/hotro", "5", "hôm nay", "Công ty cắt giảm giờ làm, thu nhập giảm một nửa", "3 triệu", "xong",
                        "đúng", "đồng ý", "gửi"])
    run("chat", "--as", "NTL-0101", stdin="")  # the chair's console chat exists: the notice reaches it
    assert "HT-" in run("chat", "--as", "NTL-0103", stdin=script + "\n").stdout
    run("chat", "--as", "NTL-0101", stdin="1\n3\nChưa đủ điều kiện theo quy chế\n")
    path = tmp_path / "decided.xlsx"
    run("requests", "export", "--unit", "NTL-FECON", "--from", "2020-01-01", "--to", "2100-12-31", "--out", str(path))
    header, row = list(openpyxl.load_workbook(path).active.values)
    history = dict(zip(header, row, strict=True))["Lịch sử"]
    submitted, rejected = history.split("; ")
    assert submitted.endswith("Gửi đề nghị — bởi đoàn viên") and "Nguyễn Văn An" not in submitted
    assert "Không duyệt — bởi Lê Văn Bình (demo) (NTL-0101), chủ tịch Công đoàn Công ty Cổ phần Fecon: " \
           "Chưa đủ điều kiện theo quy chế" in rejected


def test_chat_as_a_member_code_signs_in_once_audited_and_an_unknown_code_writes_nothing(run, tmp_path):
    """``chat --as MEMBER_CODE`` links the console account through services.membership, with its audit entry."""
    assert "Không tìm thấy đoàn viên có mã NTL-9999" in run("chat", "--as", "NTL-9999", stdin="").stdout
    out = run("chat", "--as", "NTL-0101", stdin="/toi\n").stdout
    assert "Lê Văn Bình" in out
    run("audit", "export", "--unit", "NTL-FECON", "--out", "audit.csv")
    rows = [line.split(";") for line in (tmp_path / "audit.csv").read_text(encoding="utf-8-sig").splitlines()]
    signed_in = [r for r in rows if r[3] == "console_sign_in"]
    assert [(r[1], r[2], r[5]) for r in signed_in] == [("console:console-NTL-0101", "NTL-0101", "NTL-0101")]


def test_requests_export_with_the_period_reversed_is_an_error(run, tmp_path):
    result = run("requests", "export", "--unit", "NTL-FECON", "--from", "2026-03-01", "--to", "2026-02-01",
                 "--out", str(tmp_path / "r.xlsx"), check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Ngày bắt đầu 01/03/2026 sau ngày kết thúc 01/02/2026" in result.stderr
    assert not (tmp_path / "r.xlsx").exists()


def test_audit_export_lists_views_of_requests_without_personal_details(run, tmp_path):
    description = "Em bị sốt xuất huyết phải nằm viện năm ngày"
    answers = ["/hotro", "1", "hôm qua", description, "2 triệu", "xong", "đúng", "đồng ý", "gửi", "/thoat"]
    submitted = run("chat", "--as", "NTL-0103", stdin="\n".join(answers) + "\n").stdout
    reference = re.search(r"HT-\d{4}-\d{6}", submitted).group(0)
    viewed = run("chat", "--as", "NTL-0101", stdin="/duyet\n1\n/thoat\n").stdout
    assert description in viewed  # the chair opened the request's details

    out = run("audit", "export", "--unit", "NTL-FECON", "--out", "audit.csv").stdout
    assert "audit.csv" in out
    text = (tmp_path / "audit.csv").read_text(encoding="utf-8-sig")
    rows = [line.split(";") for line in text.splitlines()]
    assert rows[0][:4] == ["Thời điểm", "Người thực hiện", "Mã đoàn viên thực hiện", "Hành động"]
    [view] = [r for r in rows if r[3] == "hardship_view"]
    assert view[1].startswith("console:") and view[2] == "NTL-0101" and view[4] == "NTL-FECON" and view[5] == reference
    for personal in (description, "Nguyễn Văn An", "0900000103", "Lê Văn Bình", "0900000101", "2000000"):
        assert personal not in text

    run("audit", "export", "--unit", "NTL-JWM", "--out", "other.xlsx")  # another grassroots union: not its log
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "other.xlsx").active
    assert [c.value for c in sheet[1]][3] == "Hành động"
    assert "hardship_view" not in [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    run("audit", "export", "--unit", "NTL-FECON", "--from", "2099-01-01", "--out", "later.csv")
    assert len((tmp_path / "later.csv").read_text(encoding="utf-8-sig").splitlines()) == 1  # the headers only
    bad = run("audit", "export", "--unit", "NTL-FECON", "--from", "31/31/2026", "--out", "x.csv", check=False)
    assert bad.returncode == 1 and "YYYY-MM-DD" in bad.stderr
    unknown = run("audit", "export", "--unit", "KHONG-CO", "--out", "x.csv", check=False)
    assert unknown.returncode == 1 and "KHONG-CO" in unknown.stderr
    reversed_period = run("audit", "export", "--unit", "NTL-FECON", "--from", "2026-02-01", "--to", "2026-01-01",
                          "--out", "reversed.csv", check=False)
    assert reversed_period.returncode == 1 and "YYYY-MM-DD" in reversed_period.stderr
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "reversed.csv").exists()


# ----- help, settings, clear exits ------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["members", "import", "--help"],
                                  ["requests", "export", "--help"], ["audit", "export", "--help"]])
def test_help_is_vietnamese_without_type_noise(run, args):
    out = run(*args).stdout
    assert "<bool>" not in out and "╭" not in out
    assert re.search(r"[ảạắấẩẫậđếềểễệỉịỏọốồổỗộớờởỡợủụứừửữựỳỷỹ]", out), out


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("UNIONBOT_TELEGRAM_MODE", "webhok", "'polling' or 'webhook'"),
    ("UNIONBOT_ZALO_MODE", "Polling", "'polling' or 'webhook'"),
    ("UNIONBOT_WEB_PORT", "tám nghìn", "integer"),
    ("UNIONBOT_FLOOD_PER_MINUTE", "0", "greater than or equal to 1"),
    ("UNIONBOT_TIMEZONE", "Asia/Hanoi", "Asia/Ho_Chi_Minh"),
    ("UNIONBOT_LOG_LEVEL", "LOUD", "'DEBUG'"),
])
@pytest.mark.parametrize("command", [["run"], ["ask", "xin chào"]])
def test_a_wrong_setting_is_one_line_naming_the_variable(tmp_path, model_cache, variable, value, expected, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache), **{variable: value})
    result = subprocess.run([sys.executable, "-m", "bot", *command], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, lines
    assert lines[0].startswith("Cấu hình sai") and variable in lines[0] and expected in lines[0]
    assert not (tmp_path / "data").exists()  # nothing started


def test_a_webhook_setting_typo_does_not_silently_mean_polling(tmp_path):
    from bot.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="UNIONBOT_TELEGRAM_MODE"):
        Settings(_env_file=None, telegram_token="1:x", telegram_mode="web-hook")
    with pytest.raises(SettingsError, match="UNIONBOT_ZALO_WEBHOOK_URL"):
        Settings(_env_file=None).replace(zalo_token="z", zalo_mode="webhook", zalo_webhook_secret="s" * 20)
    settings = Settings(_env_file=None, telegram_token="1:x", telegram_mode="webhook",
                        telegram_webhook_url="https://bot.example.org/t", telegram_webhook_secret="a" * 32)
    assert (settings.telegram.mode, settings.web.port) == ("webhook", 8080)


def test_the_default_database_is_the_same_from_any_folder(tmp_path, monkeypatch):
    from bot import settings as module

    monkeypatch.delenv("UNIONBOT_DATA_DIR", raising=False)
    seen = set()
    for folder in (tmp_path, ROOT / "docs", Path("/")):
        monkeypatch.chdir(folder)
        seen.add(module.Settings(_env_file=None).effective_database_url)
    assert seen == {f"sqlite+aiosqlite:///{ROOT / 'var' / 'unionbot.db'}"}
    monkeypatch.setattr(module, "PROJECT_ROOT", tmp_path / "site-packages")  # an installed copy: no checkout
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert module.Settings(_env_file=None).data_dir == tmp_path / "xdg" / "unionbot"


def test_bad_input_is_one_vietnamese_line_and_a_non_zero_exit(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cases = [
        (["ask"], "câu hỏi"),
        (["members", "import", str(tmp_path / "missing.xlsx"), "--unit", "NTL-FECON"], "Không thấy tệp"),
        (["members", "codes", "--unit", "KHONG-CO"], "KHONG-CO"),
        (["members", "export", str(tmp_path / "out.csv"), "--unit", "KHONG-CO"], "KHONG-CO"),
        (["requests", "export", "--unit", "NTL-FECON", "--from", "2026-02-01", "--to", "2026-01-01"], "sau ngày"),
        (["requests", "export", "--unit", "NTL-FECON", "--from", "hôm qua", "--to", "2026-01-01"], "YYYY-MM-DD"),
        (["requests", "export", "--unit", "KHONG-CO", "--from", "2026-01-01", "--to", "2026-02-01"], "KHONG-CO"),
        (["audit", "export", "--unit", "NTL-FECON", "--out", str(tmp_path / "a.txt")], ".csv"),
        (["kb", "load", str(tmp_path / "no-such-folder")], "Không thấy thư mục"),
        (["eval", "--train", str(tmp_path)], "--train"),
        (["eval", "--dev", str(tmp_path / "missing.jsonl")], "Không thấy tệp"),
    ]
    log_record = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|DEBUG) ")  # e.g. the demo roster loaded
    for args, expected in cases:
        result = run(*args, check=False)
        lines = [line for line in result.stderr.strip().splitlines() if not log_record.match(line)]
        assert result.returncode == 1, (args, result.stderr)
        assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr, (args, lines)
    assert not list(tmp_path.glob("requests-*"))  # nothing exported for a reversed period


def test_a_command_run_from_two_folders_uses_one_database(tmp_path, model_cache):
    """A copy of the project run from two folders without UNIONBOT_DATA_DIR: what one command writes (a question
    it could not answer) the other reads, from the project's own var/ — no second database in either folder."""
    project = tmp_path / "unionbot"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", "var", ".git", "tests", "docs", "bench",
                                                                 "eval", "__pycache__", "*.egg-info"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_CACHE_DIR=str(model_cache), PYTHONPATH=str(project))
    here, there = tmp_path / "here", tmp_path / "there"
    for folder in (here, there):
        folder.mkdir()

    def run_in(folder: Path, *args: str, stdin: str = "") -> str:
        result = subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                                env=env, cwd=folder, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    run_in(here, "ask", "--json", stdin="giá vàng hôm nay\n")
    assert "vàng" in run_in(there, "unanswered")
    assert (project / "var" / "unionbot.db").is_file()
    assert not [*here.iterdir(), *there.iterdir()]  # nothing made where the command ran


def test_a_database_folder_that_cannot_be_made_is_one_line(tmp_path, model_cache):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(blocker / "data"), UNIONBOT_CACHE_DIR=str(model_cache))
    result = subprocess.run([sys.executable, "-m", "bot", "unanswered"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "UNIONBOT_DATA_DIR" in lines[0], lines


# ----- typer's and click's own words in Vietnamese (bot/cli_texts.py) -------------------------------------------

#: what typer and click print in English of their own: none of it may reach the user
ENGLISH = ("Usage", "Options", "Arguments", "Commands", "Show this message", "Error", "Missing", "No such", "Try ",
           "for help", "default:", "required", "Invalid value", "unexpected extra", "Aborted", "env var", "requires",
           "does not take", "Possible options", "<bool>", "<str>", "<int>", "<path>", "[OPTIONS]", "COMMAND",
           "[ARGS]", "Traceback")


def _command_paths() -> list[list[str]]:
    """Every command and group of ``unionbot``, read from the application itself (a new one is checked too)."""
    import typer.main

    from bot.cli import app

    def walk(command, path: list[str]) -> list[list[str]]:
        found = [path]
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            found += walk(sub, [*path, name])
        return found

    return walk(typer.main.get_command(app), [])


def test_every_command_is_listed():
    paths = _command_paths()
    assert ["audit", "export"] in paths and ["members", "import"] in paths and ["kb", "ingest"] in paths
    assert len(paths) >= 20


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "unionbot")
def test_every_help_is_vietnamese_all_the_way(run, path):
    out = run(*path, "--help").stdout
    assert out.startswith("Cách dùng:") and "Hiện hướng dẫn này rồi thoát." in out, out
    assert [fragment for fragment in ENGLISH if fragment in out] == [], out


@pytest.mark.parametrize(("args", "expected"), [
    (["members", "import"], "Thiếu tham số 'TỆP'."),  # a missing argument
    (["requests", "export", "--unit", "NTL-FECON"], "Thiếu tùy chọn '--from'."),  # a missing option
    (["ask", "--bogus"], "Không có tùy chọn --bogus."),
    (["khong-co"], "Không có lệnh 'khong-co'."),
    (["db"], "Thiếu lệnh."),
    (["unanswered", "--limit", "nhiều"], "Giá trị của '--limit' không hợp lệ."),  # not a number
    (["unanswered", "--limit", "0"], "Giá trị của '--limit' không hợp lệ."),  # out of its range
    (["unanswered", "--limit"], "Tùy chọn --limit cần một giá trị đi kèm."),  # the parser's: no usage line
    (["ask", "--json=1"], "Tùy chọn --json không nhận giá trị."),
    (["ask", "một", "hai"], "Thừa tham số: hai."),
])
def test_usage_errors_are_vietnamese_with_exit_code_2(run, args, expected):
    result = run(*args, check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == f"Lỗi: {expected}", result.stderr
    assert [fragment for fragment in ENGLISH if fragment in result.stderr] == [], result.stderr
    if "Tùy chọn --" not in expected:  # the error knows its command: its usage line and where its help is
        assert result.stderr.startswith("Cách dùng: ") and "' để biết cách dùng." in result.stderr
