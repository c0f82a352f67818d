"""The hardship, membership and roster services called directly, as the CLI and the web console call them:
each use case authorizes its actor, changes the data in one transaction, audits and notifies."""

from __future__ import annotations

import csv
from datetime import date

import openpyxl
import pytest

from locales import Translator
from services.actor import Actor
from services.hardship import ExportRefused, Form, HardshipService
from services.membership import MembershipService
from services.roster import RosterRefused, export_members, import_members
from storage.hardship import HardshipRepository
from storage.membership import AccountRepository, AuditRepository, MemberRepository
from storage.outbox import OutboxRepository


class Accounts:
    """Chat accounts linked the way a member links one: a code issued for the unit, redeemed through the service."""

    def __init__(self, app) -> None:
        self.app = app
        self.service = MembershipService(app.db, app.core.clock)
        self.codes: dict[str, str] = {}

    async def actor(self, member_code: str, channel: str = "web") -> Actor:
        if member_code not in self.codes:
            issued = await self.service.issue_unit_codes("HN")
            self.codes = {m.member_code: code for m, code in issued.codes}
        user = f"u-{member_code}"
        linked = await self.service.link(Actor(channel, user, user), self.codes.pop(member_code))
        assert linked.status == "linked", linked
        async with self.app.db.sessions() as session:
            identity = await AccountRepository(session).identity("default", channel, user)
        return Actor(channel, user, user, identity=identity)


def form(**changes) -> Form:
    values = dict(category="illness", happened_on=date(2021, 3, 14), description="Nằm viện năm ngày vì sốt cao",
                  contact_phone="0912345678", amount_requested=2_000_000)
    return Form(**{**values, **changes})


async def audit_actions(app) -> list[tuple[str, str, str | None]]:
    async with app.db.sessions() as session:
        return [(e.actor, e.action, e.target) for e in await AuditRepository(session).recent()]


@pytest.fixture
def hardship(app) -> HardshipService:
    return HardshipService(app.db, Translator(), app.core.clock, app.core.config.timezone)


async def test_a_request_decided_through_the_service_by_the_right_chair_only(app, hardship):
    accounts = Accounts(app)
    member, chair = await accounts.actor("NTL-0103"), await accounts.actor("NTL-0101")
    stranger = await accounts.actor("NTL-0201")  # chair of another grassroots union under the same district

    sent = await hardship.submit(member, form())
    assert sent.status == "ok" and sent.unit.code == "NTL-FECON" and sent.chairs_notified == 1
    request = sent.request
    [notice] = await OutboxRepository(app.db).pending_for("web", chair.user_id)
    assert request.reference in notice["text"] and notice["choices"] == [["Xem hồ sơ", f"req:view:{request.id}"]]

    refused = await hardship.decide(stranger, request.id, "reject", "Không thuộc đơn vị")
    assert refused.status == "authz.other_unit" and not refused.ok
    assert (await hardship.decide(member, request.id, "approve", amount=1_000_000)).status == "authz.members_only"
    assert (await hardship.get(request.id)).status == "submitted"
    assert (await hardship.view(stranger, request.id)).status == "authz.other_unit"

    assert (await hardship.view(chair, request.id)).ok
    decided = await hardship.decide(chair, request.id, "approve", "Nhận tại văn phòng", amount=1_500_000)
    assert decided.ok and decided.request.status == "approved" and decided.request.approved_amount == 1_500_000
    assert (await hardship.decide(chair, request.id, "reject", "đổi ý")).status == "closed"  # decided once
    [told] = await OutboxRepository(app.db).pending_for("web", member.user_id)
    assert "1.500.000 đ" in told["text"] and "Nhận tại văn phòng" in told["text"]

    actions = await audit_actions(app)
    assert (chair.audit, "hardship_view", request.reference) in actions
    assert (chair.audit, "hardship_approve_note", request.reference) in actions
    assert not any(a == stranger.audit and act.startswith("hardship_") for a, act, _ in actions)


async def test_a_submitted_form_is_filed_once_and_an_unlinked_account_files_nothing(app, hardship):
    member = await Accounts(app).actor("NTL-0103")
    same = form()
    first, second = await hardship.submit(member, same), await hardship.submit(member, same)
    assert first.status == "ok" and second.status == "repeat" and first.request.id == second.request.id
    assert (await hardship.submit(Actor("web", "nobody", "nobody"), form())).status == "not_linked"
    async with app.db.sessions() as session:
        assert len(await HardshipRepository(session).of_member(member.member_id)) == 1


async def test_forwarding_and_the_members_answer_reach_the_right_people(app, hardship):
    accounts = Accounts(app)
    member, chair = await accounts.actor("NTL-0103"), await accounts.actor("NTL-0101")
    district = await accounts.actor("NTL-0001")  # chair of the parent union
    request = (await hardship.submit(member, form(category="job_loss"))).request

    asked = await hardship.decide(chair, request.id, "ask_info", "Xin bản sao quyết định nghỉ việc")
    assert asked.ok and ("default", "web", member.user_id) in asked.member_chats
    answered = await hardship.provide_info(member, request.id, "Em đã gửi ảnh", [("web", "photo-1")],
                                           asked_by=chair.member_id)
    assert answered.ok and (await hardship.get(request.id)).status == "submitted"
    assert (await hardship.provide_info(chair, request.id, "không phải của tôi", [])).status == "unknown"

    forwarded = await hardship.forward(chair, request.id)
    assert forwarded.ok and forwarded.parent.code == "NTL" and forwarded.request.status == "forwarded"
    assert (await hardship.forward(chair, request.id)).status == "repeat"
    parent_inbox = await OutboxRepository(app.db).pending_for("web", district.user_id)
    assert any(request.reference in p["text"] for p in parent_inbox)
    pending, denied = await hardship.pending(district)
    assert not denied and [r.id for r in pending] == [request.id]
    assert (await hardship.pending(member))[1] == "authz.members_only"


async def test_the_export_is_authorized_named_and_says_who_decided(app, hardship, tmp_path):
    accounts = Accounts(app)
    member, chair = await accounts.actor("NTL-0103"), await accounts.actor("NTL-0101")
    request = (await hardship.submit(member, form())).request
    await hardship.decide(chair, request.id, "reject", "Chưa đủ điều kiện")
    day = date(2021, 3, 15)

    with pytest.raises(ExportRefused, match="Ngày bắt đầu 16/03/2021 sau ngày kết thúc 15/03/2021"):
        await hardship.export("NTL-FECON", date(2021, 3, 16), day, tmp_path / "x.xlsx", actor=chair)
    with pytest.raises(ExportRefused):
        await hardship.export("NTL-FECON", day, day, tmp_path / "x.xlsx", actor=member)
    with pytest.raises(ExportRefused):
        await hardship.export("NTL-JWM", day, day, tmp_path / "x.xlsx", actor=chair)
    assert not (tmp_path / "x.xlsx").exists()

    path = tmp_path / "hoso.xlsx"
    assert await hardship.export("NTL-FECON", day, day, path, actor=chair) == 1
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Hồ sơ hỗ trợ"]
    header, row = list(workbook.active.values)
    history = dict(zip(header, row, strict=True))["Lịch sử"]
    assert "Không duyệt — bởi Lê Văn Bình (demo) (NTL-0101), chủ tịch Công đoàn Công ty Cổ phần Fecon: Chưa đủ " \
           "điều kiện" in history
    assert (chair.audit, "export_requests", "hoso.xlsx") in await audit_actions(app)


async def test_codes_and_summaries_are_for_chairs_of_the_unit(app):
    accounts = Accounts(app)
    service = accounts.service
    member, chair = await accounts.actor("NTL-0103"), await accounts.actor("NTL-0101")
    assert (await service.issue_code(member, "NTL-0104")).status == "authz.members_only"
    assert (await service.issue_code(member, "KHONG-CO")).status == "authz.members_only"  # no hint it is unknown
    assert (await service.issue_code(chair, "KHONG-CO")).status == "unknown"
    assert (await service.issue_code(chair, "NTL-0201")).status == "authz.other_unit"
    issued = await service.issue_code(chair, "NTL-0104")
    assert issued.status == "issued" and len(issued.code) == 9 and issued.member.member_code == "NTL-0104"
    with pytest.raises(PermissionError):
        await service.issue_unit_codes("NTL-FECON", actor=member)

    summary = await service.unit_summary(chair)
    assert summary.status == "ok" and summary.unit.code == "NTL-FECON" and summary.members >= 5 and summary.linked == 2
    assert (await service.unit_summary(chair, "NTL-JWM")).status == "authz.other_unit"
    assert (await service.unit_summary(member)).status == "authz.members_only"

    profile = await service.profile(member)
    assert profile.identity.member.member_code == "NTL-0103" and [a.channel for a in profile.accounts] == ["web"]
    assert await service.unlink(member) and not await service.unlink(member)
    assert await service.profile(member) is None
    assert (member.audit, "unlink_account", "NTL-0103") in await audit_actions(app)


async def test_roster_import_and_export_are_authorized_and_audited(app, tmp_path):
    accounts = Accounts(app)
    member, chair = await accounts.actor("NTL-0103"), await accounts.actor("NTL-0101")
    path = tmp_path / "ds.csv"
    path.write_text("Mã đoàn viên;Họ và tên\nFC-9001;Nguyễn Thị Mới\n", encoding="utf-8-sig")
    now = app.core.clock()
    with pytest.raises(RosterRefused, match="chỉ dành cho Chủ tịch"):
        await import_members(app.db, path, "NTL-FECON", now=now, actor=member)
    with pytest.raises(RosterRefused):
        await import_members(app.db, path, "NTL-JWM", now=now, actor=chair)
    report = await import_members(app.db, path, "NTL-FECON", now=now, actor=chair)
    assert report.applied and report.inserted == 1 and report.verdict().startswith("Đã thêm 1 đoàn viên")
    assert (chair.audit, "import_roster", "ds.csv") in await audit_actions(app)

    bad = tmp_path / "loi.csv"
    bad.write_text("Mã đoàn viên;Họ và tên\nFC-9002;\n", encoding="utf-8-sig")
    refused = await import_members(app.db, bad, "NTL-FECON", now=now, actor=chair)
    assert not refused.applied and "Đã thêm" not in refused.verdict() and "1 dòng lỗi" in refused.verdict()

    out = tmp_path / "xuat.csv"
    assert await export_members(app.db, "NTL-FECON-T1", out, now=now, actor=chair) >= 2
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][:2] == ["Mã đoàn viên", "Họ và tên"]
    assert (chair.audit, "export_roster", "xuat.csv") in await audit_actions(app)
    with pytest.raises(RosterRefused):
        await export_members(app.db, "NTL-FECON", out, now=now, actor=member)
    async with app.db.sessions() as session:
        assert (await MemberRepository(session).by_code("FC-9001")).unit.code == "NTL-FECON"
