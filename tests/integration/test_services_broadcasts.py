"""The broadcast and notification services called directly, as the CLI and the web console call them: an
operator acting as a member of the roster, no chat involved on the sender's side."""

import asyncio
from datetime import UTC, date, datetime

import pytest

from bot.workers.scheduler import Scheduler
from handlers.types import Choice, Reply
from services.actor import Actor, actor_of, operator
from services.base import AlreadyDone, Refused
from services.broadcasts import BroadcastService, Draft
from services.notifications import Notifier, payload_reply, reply_payload
from storage.broadcasts import BroadcastRepository, Recipient
from storage.membership import AuditRepository, Identity, MemberRepository, UnitRepository
from storage.outbox import OutboxRepository
from tests.integration.test_broadcasts import settle
from tests.integration.test_hardship import as_member, inbox


async def identity_of(app, member_code: str) -> Identity:
    async with app.db.sessions() as session:
        members = MemberRepository(session)
        member = await members.by_code(member_code)
        return Identity(member, await members.grants(member.id))


async def at_the_console(app, member_code: str) -> Actor:
    """An operator signed in as the roster member ``member_code`` (a web console's session, the CLI)."""
    return operator(f"op-{member_code}", await identity_of(app, member_code))


def service(app) -> BroadcastService:
    return app.core.broadcasts.service


async def audit(app, action: str) -> list:
    async with app.db.sessions() as session:
        return [e for e in await AuditRepository(session).recent() if e.action == action]


# ----- the actor ---------------------------------------------------------------------------------------------
async def test_the_actor_is_built_once_from_the_event_and_names_the_account_in_the_audit(app):
    from handlers.types import Incoming

    await as_member(app, "NTL-0103", "a1")
    linked = await actor_of(Incoming(channel="test", chat_id="a1", user_id="a1"), app.core.identities)
    assert linked.linked and linked.audit == "test:a1" and linked.member_id is not None
    assert linked.as_chair().reason == "authz.members_only" and linked.roots() == []
    stranger = await actor_of(Incoming(channel="zalo", chat_id="g1", user_id="z9"), app.core.identities)
    assert not stranger.linked and stranger.audit == "zalo:z9" and stranger.as_chair().reason == "authz.not_linked"
    chair = await at_the_console(app, "NTL-0101")
    assert chair.as_chair() and chair.audit == "console:op-NTL-0101"
    assert [u.code for u in chair.roots()] == ["NTL-FECON"]
    admin = await at_the_console(app, "DEMO-ADMIN")  # an admin without a chair's grant acts from their unit
    assert admin.as_chair() and [u.code for u in admin.roots()] == [admin.identity.member.unit.code]


# ----- notifications -------------------------------------------------------------------------------------------
async def test_a_notification_reaches_every_account_of_a_member_once(app):
    person = await as_member(app, "NTL-0103", "n1")
    on_zalo = await as_member(app, "NTL-0103", "n1z", channel="zalo", buttons=False)
    notifier = Notifier(app.db)
    reply = Reply("Đề nghị của bạn đã được duyệt", (Choice("Xem", "req:view:1"),))
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code("NTL-0103")
        assert await notifier.to_member(session, "test:approved:1", member.id, reply, app.core.clock()) == 2
        assert await notifier.to_member(session, "test:approved:1", member.id, reply, app.core.clock()) == 0
    for chat in (person, on_zalo):
        [payload] = await inbox(app, chat)
        assert payload_reply(payload) == reply and payload == reply_payload(reply)


async def test_the_chairs_of_a_unit_and_of_its_parent_are_notified(app):
    chair = await as_member(app, "NTL-0101", "n2")  # chair of NTL-FECON
    deputy = await as_member(app, "NTL-0102", "n3")  # its deputy
    district = await as_member(app, "NTL-0001", "n4")  # chair of the parent union NTL
    notifier = Notifier(app.db)
    async with app.db.sessions.begin() as session:
        unit = await UnitRepository(session).by_code("NTL-FECON")
        assert await notifier.to_chairs(session, "test:new:1", unit, Reply("Có đề nghị mới"), app.core.clock()) == 2
        assert await notifier.to_chairs(session, "test:new:1", unit, Reply("Có đề nghị mới"), app.core.clock(),
                                        include_parent=True) == 1  # the parent's chair only: the others had it
    for person in (chair, deputy, district):
        assert [m["text"] for m in await inbox(app, person)] == ["Có đề nghị mới"]


async def test_a_recipient_who_blocked_the_bot_is_not_queued_and_a_live_message_is_edited(app):
    person = await as_member(app, "NTL-0103", "n5")
    async with app.db.sessions() as session:
        member = await MemberRepository(session).by_code("NTL-0103")
    to = Recipient(member.id, "default", "test", "n5")
    notifier = Notifier(app.db)
    async with app.db.sessions.begin() as session:
        assert await notifier.live(session, "test:live", [to], Reply("1/3"), app.core.clock()) == 1
        assert await notifier.live(session, "test:live", [to], Reply("2/3"), app.core.clock()) == 1
    [live] = await inbox(app, person)
    assert live["text"] == "2/3" and live["live"]
    outbox = OutboxRepository(app.db)
    [row] = await outbox.claim("default", "test", "w1", 1, app.core.clock(), 60)
    await outbox.mark_blocked(row.id, app.core.clock())
    async with app.db.sessions.begin() as session:
        assert await notifier.to_recipients(session, "test:later", [to], Reply("x"), app.core.clock()) == 0


# ----- broadcasts -----------------------------------------------------------------------------------------------
async def test_an_operator_queues_cancels_and_reads_a_broadcast_without_a_chat(app, clock):
    members = [await as_member(app, code, f"b{i}") for i, code in enumerate(["NTL-0103", "NTL-0104"])]
    chair = await at_the_console(app, "NTL-0101")
    audience = await service(app).audience(chair, "NTL-FECON-T1")
    assert audience.recipients == 2 and audience.per_channel == {"test": 2}
    later = datetime(2021, 12, 25, 1, 0, tzinfo=UTC)
    queued = await service(app).queue(chair, Draft("Họp ban chấp hành sáng thứ Hai", "NTL-FECON-T1"), later)
    assert queued.recipients == 2 and queued.when == later
    for person in members:
        [message] = await inbox(app, person)
        assert "Họp ban chấp hành" in message["text"]
    [entry] = await audit(app, "broadcast")
    assert entry.actor == "console:op-NTL-0101" and entry.target == str(queued.broadcast_id)
    report = await service(app).report(chair)  # the latest
    assert report.broadcast.id == queued.broadcast_id and report.counts.get("pending") == 2
    cancelled = await service(app).cancel(chair, queued.broadcast_id)
    assert cancelled.cancelled == 2 and all([await inbox(app, p) == [] for p in members])
    with pytest.raises(Refused) as again:
        await service(app).cancel(chair, queued.broadcast_id)
    assert again.value.key == "once.cancelled" and again.value.values == {"id": queued.broadcast_id}
    assert len(await audit(app, "cancel_broadcast")) == 1


@pytest.mark.parametrize(("who", "unit", "reason"), [
    ("NTL-0103", "NTL-FECON-T1", "authz.members_only"),  # a member
    ("NTL-0101", "NTL-JWM", "authz.other_unit"),  # a chair of a sibling union
    ("NTL-0101", "NTL", "authz.other_unit"),  # ... or of the parent union
    ("NTL-0101", "NO-SUCH-UNIT", "broadcast.error.audience"),
])
async def test_a_broadcast_outside_what_the_actor_leads_is_refused_and_queues_nothing(app, who, unit, reason):
    member = await as_member(app, "NTL-0103", "r1")
    actor = await at_the_console(app, who)
    for attempt in (service(app).audience(actor, unit), service(app).queue(actor, Draft("Thông báo thử", unit))):
        with pytest.raises(Refused) as refused:
            await attempt
        assert refused.value.key == reason
    assert await inbox(app, member) == [] and await audit(app, "broadcast") == []


async def test_an_unlinked_actor_is_told_to_link_and_a_draft_too_short_is_refused(app):
    stranger = operator("nobody")
    for attempt in (service(app).audiences(stranger), service(app).report(stranger),
                    service(app).toggle_reminders(stranger)):
        with pytest.raises(Refused) as refused:
            await attempt
        assert refused.value.key == "authz.not_linked"
    with pytest.raises(Refused) as refused:
        await service(app).queue(await at_the_console(app, "NTL-0101"), Draft("ok", "NTL-FECON-T1"))
    assert refused.value.key == "broadcast.error.text"


async def test_a_repeated_send_is_refused_by_the_callers_guard_and_queues_once(app):
    member = await as_member(app, "NTL-0103", "g1")
    chair = await at_the_console(app, "NTL-0101")

    class Guard:  # the caller's compare-and-set: here a flag kept by the caller
        def __init__(self):
            self.taken = False

        async def take(self, session):
            if self.taken:
                return None
            self.taken = True
            return "token"

        async def settle(self, session, taken, **result):
            self.result = result

        async def current(self, session):
            return self.result

    guard, draft = Guard(), Draft("Thông báo chỉ gửi một lần", "NTL-FECON-T1", draft_id="d-1")
    queued = await service(app).queue(chair, draft, once=guard)
    assert guard.result == {"id": queued.broadcast_id}
    with pytest.raises(AlreadyDone) as repeat:
        await service(app).queue(chair, draft, once=guard)
    assert repeat.value.seen == {"id": queued.broadcast_id}
    assert len(await inbox(app, member)) == 1 and len(await audit(app, "broadcast")) == 1


async def test_the_scheduler_runs_both_jobs_of_the_service(app):
    chair_chat = await as_member(app, "NTL-0101", "s1")
    await as_member(app, "NTL-0103", "s2")
    chair = await at_the_console(app, "NTL-0101")
    queued = await service(app).queue(chair, Draft("Thông báo để thử bộ hẹn giờ", "NTL-FECON-T1"))
    await settle(app, "test", sent=1)
    reminded = []

    class OneRound:  # the real service; the scheduler is stopped once its first round is over
        clock = service(app).clock

        async def report_progress(self, now):
            return await service(app).report_progress(now)

        async def send_reminders(self, knowledge, now):
            reminded.append(knowledge)
            scheduler.stop()
            return await service(app).send_reminders(knowledge, now)

    scheduler = Scheduler(OneRound(), lambda: app.core.knowledge, progress_every=0.01)
    await asyncio.wait_for(scheduler.run(), 30)
    assert reminded == [app.core.knowledge]
    assert sum("Kết quả" in m["text"] for m in await inbox(app, chair_chat)) == 1
    async with app.db.sessions() as session:
        assert (await BroadcastRepository(session).get(queued.broadcast_id)).status == "done"


# ----- reminders ------------------------------------------------------------------------------------------------
async def test_reminders_subscribe_and_a_chairs_reminder_is_sent_to_their_union_on_its_day(app, clock):
    member = await as_member(app, "NTL-0103", "m1")
    outsider = await as_member(app, "NTL-0202", "m2")  # another grassroots union
    for person in (member, outsider):
        assert await service(app).toggle_reminders(await at_the_console(app, "NTL-0103" if person is member
                                                                        else "NTL-0202")) is True
    entry = app.core.knowledge.by_id["ngay-thanh-lap-cong-doan-viet-nam"]
    chair = await at_the_console(app, "NTL-0101")
    assert await service(app).add_reminder(chair, entry, date(2021, 7, 21)) == entry.name
    [added] = await audit(app, "add_reminder")
    assert added.actor == "console:op-NTL-0101" and added.target == entry.id
    for who, day, reason in [("NTL-0103", date(2021, 7, 21), "authz.members_only"),
                             ("NTL-0101", date(2030, 1, 1), "reminder.usage")]:
        with pytest.raises(Refused) as refused:
            await service(app).add_reminder(await at_the_console(app, who), entry, day)
        assert refused.value.key == reason
    clock.now = datetime(2021, 7, 21, 1, 0, tzinfo=UTC)
    assert await service(app).send_reminders(app.core.knowledge, clock.now) == 1
    assert await service(app).send_reminders(app.core.knowledge, clock.now) == 0  # idempotent
    assert entry.name in (await inbox(app, member))[0]["text"] and await inbox(app, outsider) == []
    assert await service(app).toggle_reminders(await at_the_console(app, "NTL-0103")) is False

