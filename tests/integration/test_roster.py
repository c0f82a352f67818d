"""Roster import/export on real .xlsx and .csv files, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
import pytest_asyncio
from sqlalchemy import func, select

from services.roster import RosterIssue, export_roster, import_roster, read_roster
from storage import migrate
from storage.db import Database
from storage.membership import Member, MemberData, MemberRepository, UnitRepository
from storage.models import MemberRow

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def db(database_url) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        await migrate.upgrade(database)
        async with database.sessions.begin() as session:
            units = UnitRepository(session)
            await units.upsert("NTL", "LĐLĐ quận Nam Từ Liêm", "district", None)
            await units.upsert("NTL-FECON", "Công đoàn Công ty Cổ phần Fecon", "grassroots", "NTL")
            await units.upsert("NTL-FECON-T1", "Tổ công đoàn Thi công 1", "group", "NTL-FECON")
            await units.upsert("NTL-JWM", "Công đoàn khách sạn JW Marriott Hà Nội", "grassroots", "NTL")
            dd = await units.upsert("DD", "LĐLĐ quận Đống Đa", "district", None)
            await MemberRepository(session).upsert_many([MemberData("DD-0001", "Phan Văn Tùng", dd.id)], NOW)
        yield database
    finally:
        await database.dispose()


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


async def members_of(db: Database, unit: str = "NTL") -> dict[str, Member]:
    async with db.sessions() as session:
        scope = await UnitRepository(session).by_code(unit)
        return {m.member_code: m for m in await MemberRepository(session).in_subtree(scope)}


async def member_count(db: Database) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MemberRow)))


async def run_import(db: Database, path: Path, unit: str = "NTL-FECON", **kwargs):
    async with db.sessions.begin() as session:
        return await import_roster(session, path, unit, now=NOW, **kwargs)


GOOD = [
    ["STT", "Họ và tên", "Giới tính", "SĐT", "Mã ĐV", "Ngày sinh", "Tổ công đoàn", "Ngày vào CĐ", "Tình trạng",
     "Ghi chú"],
    [1, "Nguyễn  Văn An", "Nam", "0912 345 678", "fc-001", datetime(1990, 3, 25), "NTL-FECON-T1", "15/06/2015",
     "Đang sinh hoạt", None],
    [2, "Trần Thị Hoa", "Nữ", "+84 983.456.789", "FC-002", "5/7/1985", None, date(2010, 1, 2), None, "tổ trưởng"],
    [3, "Lê Văn Bình", "Nam", "84362-222-333", "FC-003", "1988-12-01", "ntl-fecon", "01-02-2012", "nghỉ việc", None],
    [4, None, None, None, None, None, None, None, None, None],  # a numbered but empty template row
    [None, None, None, None, None, None, None, None, None, None],
    [5, "Phạm Thu Hà", "Nữ", 912000111, 1005, None, None, None, "ĐÃ NGHỈ", None],
]


async def test_good_file_is_imported_with_normalised_values(db, tmp_path):
    report = await run_import(db, xlsx(tmp_path / "ds.xlsx", GOOD))

    assert report.ok and report.render() == ""
    assert (report.inserted, report.updated, report.skipped) == (4, 0, 0)
    assert [r.row for r in report.rows] == [2, 3, 4, 7]
    members = await members_of(db)
    assert set(members) == {"FC-001", "FC-002", "FC-003", "1005", "DD-0001"} - {"DD-0001"}
    an, hoa, binh, ha = members["FC-001"], members["FC-002"], members["FC-003"], members["1005"]
    assert (an.full_name, an.phone, an.birth_date, an.joined_on, an.status, an.unit.code) == (
        "Nguyễn Văn An", "0912345678", date(1990, 3, 25), date(2015, 6, 15), "active", "NTL-FECON-T1")
    assert (hoa.phone, hoa.birth_date, hoa.joined_on, hoa.status, hoa.unit.code) == (
        "0983456789", date(1985, 7, 5), date(2010, 1, 2), "active", "NTL-FECON")
    assert (binh.phone, binh.birth_date, binh.joined_on, binh.status, binh.unit.code) == (
        "0362222333", date(1988, 12, 1), date(2012, 2, 1), "left", "NTL-FECON")
    assert (ha.phone, ha.birth_date, ha.joined_on, ha.status) == ("0912000111", None, None, "left")


BAD = [
    ["Mã đoàn viên", "Họ và tên", "Số điện thoại", "Ngày sinh", "Ngày vào công đoàn", "Trạng thái", "Mã đơn vị"],
    ["FC-010", "Ngô Thị Thu", "0900000010", "01/01/1980", None, None, None],
    ["FC-011", "Đặng Văn Khoa", None, None, None, None, "NTL-FECON-T1"],
    ["FC 012!", "Nguyen Van 3", "0912 345", None, None, None, None],
    ["fc-011", "Đặng Văn Khoa", None, "31/02/1990", None, None, None],
    [None, None, "0987654321", None, None, None, None],
    ["FC-013", "Vũ Minh Đức", None, datetime(2012, 1, 1), "01/01/2030", "tạm nghỉ", "NTL-JWM"],
    ["FC-014", "Bùi Quang Huy", None, "1985", None, None, "XYZ"],
    ["FC-015", "Mai Văn Sơn", None, date(1935, 5, 5), None, None, None],
    ["DD-0001", "Phan Văn Tùng", None, None, None, None, None],
]

BAD_REPORT = """\
Dòng 4, cột “Mã đoàn viên”: mã đoàn viên chỉ được gồm chữ cái không dấu, chữ số, dấu “-” và “_” (FC 012!)
Dòng 4, cột “Họ và tên”: họ và tên không được chứa chữ số (Nguyen Van 3)
Dòng 4, cột “Số điện thoại”: số điện thoại không hợp lệ (0912 345)
Dòng 5, cột “Mã đoàn viên”: mã đoàn viên FC-011 trùng với dòng 3
Dòng 5, cột “Ngày sinh”: ngày sinh không hợp lệ (31/02/1990): cần ghi ngày/tháng/năm, ví dụ 25/03/1990
Dòng 6, cột “Mã đoàn viên”: thiếu mã đoàn viên
Dòng 6, cột “Họ và tên”: thiếu họ và tên
Dòng 7, cột “Mã đơn vị”: đơn vị NTL-JWM không thuộc NTL-FECON
Dòng 7, cột “Ngày sinh”: ngày sinh 01/01/2012: đoàn viên phải đủ 16 tuổi (sinh từ ngày 01/06/2009 trở về trước)
Dòng 7, cột “Ngày vào công đoàn”: ngày vào công đoàn 01/01/2030 ở tương lai
Dòng 7, cột “Trạng thái”: trạng thái không hợp lệ (tạm nghỉ): chỉ nhận “đang sinh hoạt” hoặc “đã nghỉ”
Dòng 8, cột “Mã đơn vị”: không có đơn vị mã XYZ (cần ghi mã đơn vị, ví dụ NTL-FECON)
Dòng 8, cột “Ngày sinh”: ngày sinh chỉ có năm (1985): cần ghi đủ ngày/tháng/năm, ví dụ 25/03/1985
Dòng 9, cột “Ngày sinh”: ngày sinh 05/05/1935 trước năm 1940
Dòng 10, cột “Mã đoàn viên”: đoàn viên DD-0001 đang thuộc đơn vị DD, ngoài phạm vi NTL-FECON: không được ghi đè"""


async def test_file_with_errors_reports_every_problem_and_imports_nothing(db, tmp_path):
    report = await run_import(db, xlsx(tmp_path / "loi.xlsx", BAD))

    assert not report.ok
    assert report.render() == BAD_REPORT
    assert report.issues[2] == RosterIssue(4, "Số điện thoại", "số điện thoại không hợp lệ (0912 345)")
    assert [r.member_code for r in report.rows] == ["FC-010", "FC-011"]
    assert (report.inserted, report.updated, report.skipped) == (0, 0, 0)
    assert await members_of(db) == {}
    assert set(await members_of(db, "DD")) == {"DD-0001"}
    async with db.sessions() as session:
        assert (await MemberRepository(session).by_code("DD-0001")).unit.code == "DD"


async def test_skip_invalid_imports_the_valid_rows_and_counts_the_rest(db, tmp_path):
    report = await run_import(db, xlsx(tmp_path / "loi.xlsx", BAD), skip_invalid=True)

    assert report.render() == BAD_REPORT
    assert (report.inserted, report.updated, report.skipped) == (2, 0, 7)
    members = await members_of(db)
    assert set(members) == {"FC-010", "FC-011"}
    assert members["FC-011"].unit.code == "NTL-FECON-T1"
    assert (await members_of(db, "DD"))["DD-0001"].full_name == "Phan Văn Tùng"


async def test_missing_required_column_is_reported_on_row_1_even_with_skip_invalid(db, tmp_path):
    path = xlsx(tmp_path / "thieu.xlsx", [["STT", "Tên đoàn viên", "Di động"], [1, "Nguyễn Văn An", "0912345678"]])
    report = await run_import(db, path, skip_invalid=True)

    assert report.issues == [RosterIssue(1, "Mã đoàn viên", "thiếu cột bắt buộc (đặt tên cột là “Mã đoàn viên”)")]
    assert report.render() == "Dòng 1, cột “Mã đoàn viên”: thiếu cột bắt buộc (đặt tên cột là “Mã đoàn viên”)"
    assert report.inserted == 0 and await member_count(db) == 1


async def test_title_rows_above_the_header_are_skipped_and_row_numbers_kept(db, tmp_path):
    path = xlsx(tmp_path / "tieude.xlsx", [
        ["DANH SÁCH ĐOÀN VIÊN CÔNG ĐOÀN CÔNG TY FECON"],
        [],
        ["Mã số đoàn viên", "Họ tên", "Năm sinh"],
        ["FC-001", "Nguyễn Văn An", "25/03/1990"],
        ["FC-002", "Trần Thị Hoa", "2/30/1985"],
    ])
    report = await run_import(db, path)

    assert report.render() == ("Dòng 5, cột “Ngày sinh”: ngày sinh không hợp lệ (2/30/1985): "
                               "cần ghi ngày/tháng/năm, ví dụ 25/03/1990")


async def test_reimport_of_a_changed_file_updates_and_never_duplicates(db, tmp_path):
    first = await run_import(db, xlsx(tmp_path / "v1.xlsx", GOOD))
    assert first.inserted == 4
    count = await member_count(db)

    changed = [list(row) for row in GOOD]
    changed[1][1] = "Nguyễn Văn Ân"
    changed[2][3] = "0977 000 111"
    changed[3][4] = "Fc-003"  # another case of the same code
    second = await run_import(db, xlsx(tmp_path / "v2.xlsx", changed))

    assert second.ok
    assert (second.inserted, second.updated) == (0, 4)
    assert await member_count(db) == count
    members = await members_of(db)
    assert members["FC-001"].full_name == "Nguyễn Văn Ân"
    assert members["FC-002"].phone == "0977000111"
    assert members["FC-003"].status == "left"


async def test_missing_optional_columns_leave_existing_values_alone(db, tmp_path):
    await run_import(db, xlsx(tmp_path / "v1.xlsx", GOOD))
    report = await run_import(db, xlsx(tmp_path / "ten.xlsx", [
        ["Mã đoàn viên", "Họ và tên"], ["FC-001", "Nguyễn Văn Ân"], ["FC-009", "Hoàng Thị Lan"]]))

    assert (report.inserted, report.updated) == (1, 1)
    members = await members_of(db)
    an = members["FC-001"]
    assert (an.full_name, an.phone, an.birth_date, an.unit.code) == (
        "Nguyễn Văn Ân", "0912345678", date(1990, 3, 25), "NTL-FECON-T1")
    assert (members["FC-009"].unit.code, members["FC-009"].phone, members["FC-009"].status) == (
        "NTL-FECON", None, "active")


async def test_unit_codes_outside_the_subtree_are_rejected(db, tmp_path):
    path = xlsx(tmp_path / "donvi.xlsx", [
        ["Mã đoàn viên", "Họ và tên", "Đơn vị"],
        ["FC-001", "Nguyễn Văn An", "NTL-JWM"],
        ["FC-002", "Trần Thị Hoa", "DD"],
        ["FC-003", "Lê Văn Bình", "NTL"],
        ["FC-004", "Phạm Thu Hà", "ntl-fecon-t1"],
    ])
    report = await run_import(db, path)

    assert report.render() == "\n".join([
        "Dòng 2, cột “Mã đơn vị”: đơn vị NTL-JWM không thuộc NTL-FECON",
        "Dòng 3, cột “Mã đơn vị”: đơn vị DD không thuộc NTL-FECON",
        "Dòng 4, cột “Mã đơn vị”: đơn vị NTL không thuộc NTL-FECON",
    ])
    assert await members_of(db) == {}
    # the district may place members in any of its units
    report = await run_import(db, path, unit="NTL")
    assert report.render() == "Dòng 3, cột “Mã đơn vị”: đơn vị DD không thuộc NTL"


async def test_unknown_import_unit_raises(db, tmp_path):
    path = xlsx(tmp_path / "ds.xlsx", GOOD)
    with pytest.raises(ValueError, match="Không có đơn vị mã “KHONGCO”"):
        await run_import(db, path, unit="KHONGCO")


async def test_csv_with_semicolons_and_bom(db, tmp_path):
    path = tmp_path / "ds.csv"
    path.write_text(
        "Mã thẻ;Họ tên;Điện thoại;Ngày sinh;Ngày kết nạp;Trạng thái;Mã tổ\n"
        "FC-101;Nguyễn Văn An;0912.345.678;25/03/1990;2015-06-15;hoạt động;NTL-FECON-T1\n"
        ";;;;;;\n"
        "FC-102;\"Trần Thị Hoa\";+84983456789;;;chuyển đi;\n",
        encoding="utf-8-sig")
    raw, issues = read_roster(path)
    assert issues == []
    assert [r["row"] for r in raw] == [2, 4]

    report = await run_import(db, path)

    assert report.ok and (report.inserted, report.updated) == (2, 0)
    members = await members_of(db)
    assert (members["FC-101"].phone, members["FC-101"].joined_on, members["FC-101"].unit.code) == (
        "0912345678", date(2015, 6, 15), "NTL-FECON-T1")
    assert (members["FC-102"].phone, members["FC-102"].status) == ("0983456789", "left")


async def test_unreadable_files_are_reported(tmp_path):
    (tmp_path / "cu.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "hong.xlsx").write_bytes(b"not a zip")
    (tmp_path / "ansi.csv").write_bytes(b"M\xe3 \xf0o\xe0n vi\xean;H\xf2 t\xean\n")  # Windows-1258
    (tmp_path / "trong.csv").write_text("", encoding="utf-8")
    for name, start in [("cu.xls", "tệp .xls"), ("hong.xlsx", "không đọc được tệp Excel"),
                        ("ansi.csv", "tệp CSV không ở mã UTF-8"), ("trong.csv", "tệp không có dòng dữ liệu nào"),
                        ("ds.txt", "chỉ nhận tệp Excel")]:
        raw, issues = read_roster(tmp_path / name)
        assert raw == [] and len(issues) == 1 and issues[0].row == 0, name
        assert issues[0].render().startswith(start), name


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
async def test_export_then_reimport_round_trip(db, tmp_path, suffix):
    await run_import(db, xlsx(tmp_path / "ds.xlsx", GOOD))
    before = await members_of(db)

    out = tmp_path / f"xuat{suffix}"
    async with db.sessions() as session:
        assert await export_roster(session, "NTL-FECON", out) == 4
    raw, issues = read_roster(out)
    assert issues == [] and len(raw) == 4
    report = await run_import(db, out)

    assert report.ok and (report.inserted, report.updated) == (0, 4)
    assert await members_of(db) == before
    async with db.sessions() as session:
        assert await export_roster(session, "NTL-FECON-T1", tmp_path / f"to{suffix}") == 1


async def test_export_headers_are_vietnamese(db, tmp_path):
    await run_import(db, xlsx(tmp_path / "ds.xlsx", GOOD))
    async with db.sessions() as session:
        await export_roster(session, "NTL", tmp_path / "xuat.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "xuat.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Mã đoàn viên", "Họ và tên", "Mã đơn vị", "Số điện thoại", "Ngày sinh", "Ngày vào công đoàn",
                       "Trạng thái")
    assert rows[1] == ("1005", "Phạm Thu Hà", "NTL-FECON", "0912000111", None, None, "đã nghỉ")
    assert rows[2][:5] == ("FC-001", "Nguyễn Văn An", "NTL-FECON-T1", "0912345678", datetime(1990, 3, 25))


async def test_ten_thousand_rows_import_in_seconds(db, tmp_path):
    path = tmp_path / "lon.xlsx"
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["STT", "Mã đoàn viên", "Họ và tên", "Số điện thoại", "Ngày sinh", "Mã đơn vị"])
    for i in range(10_000):
        sheet.append([i + 1, f"BIG-{i:05d}", f"Đoàn viên {chr(65 + i % 26)}", f"09{i:08d}",
                      date(1970 + i % 30, 1 + i % 12, 1 + i % 28), "NTL-FECON-T1" if i % 2 else None])
    workbook.save(path)
    steps: list[int] = []

    report = await run_import(db, path, progress=steps.append)

    assert report.ok, report.render()[:500]
    assert report.inserted == 10_000
    assert sum(steps) == 10_000 and len(steps) == 20
    assert await member_count(db) == 10_001
