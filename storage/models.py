"""SQLAlchemy 2 models. Changing one means adding an Alembic revision (storage/migrations).

No ``from __future__ import annotations`` here: the ``Mapped[...]`` annotations are then objects when each class
is built, where as strings SQLAlchemy evaluates every one of them again (~20% of this module's import, which
every start pays: issue #14, cold start)."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class KnowledgeEntryRow(Base):
    """One knowledge entry (benefit, programme, campaign, ...). ``data`` holds the validated entry."""

    __tablename__ = "knowledge_entries"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(JSON)
    source_document: Mapped[str] = mapped_column(String(300))
    as_of: Mapped[date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(16), default="yaml")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UnansweredQuestionRow(Base):
    """Questions the bot could not answer, grouped by their normalised text."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (UniqueConstraint("key", "unit_id", name="uq_unanswered_questions_key_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(500))
    #: the asker's unit (storage/askers.py; 0: an asker linked to no unit); no foreign key: 0 is no unit
    unit_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)
    sample_text: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(32))
    last_intent: Mapped[str] = mapped_column(String(64))
    last_confidence: Mapped[float] = mapped_column(Float)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class UnitRow(Base):
    """A union unit. Units form a tree: district/ward union > grassroots union (CĐCS) > union group.

    ``path`` is the materialised path of ids ("/1/4/9/") so a subtree is one prefix query.
    """

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(16))  # city | district | grassroots | group
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    path: Mapped[str] = mapped_column(String(500), index=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class MemberRow(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_code: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    joined_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | left
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoleRow(Base):
    """A privilege: chair or deputy of a unit (acts on its subtree), or system admin (unit_id empty)."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("member_id", "role", "unit_id", name="uq_roles_member_role_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # chair | deputy | admin
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)


class ChatAccountRow(Base):
    """A messenger account linked to a member. A member may link one account per channel."""

    __tablename__ = "chat_accounts"
    __table_args__ = (
        UniqueConstraint("bot_id", "channel", "user_id", name="uq_chat_accounts_account"),
        UniqueConstraint("member_id", "bot_id", "channel", name="uq_chat_accounts_member_channel"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bot_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LinkCodeRow(Base):
    """A one-time linking code. Only its SHA-256 is stored: the code itself is a secret."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LinkThrottleRow(Base):
    """Wrong linking codes per chat account; too many lock the account for a while."""

    __tablename__ = "link_throttle"

    bot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LinkMemberThrottleRow(Base):
    """Wrong linking codes per member code, from any chat account and channel; too many lock the member code."""

    __tablename__ = "link_member_throttle"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditLogRow(Base):
    """Every privileged action: who, what, which unit, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(200))  # "telegram:12345", "cli", ...
    action: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class ConversationStateRow(Base):
    """Where one user is in a multi-step conversation in one chat; in the database so it survives restarts.

    Keyed by user as well as chat: in a group, each member has their own state. ``version`` rises with
    every write (compare-and-set of the steps that must happen once, see storage/conversation.py)."""

    __tablename__ = "conversation_states"

    bot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ProcessedUpdateRow(Base):
    """Messenger updates already taken for handling: a redelivered update is recognised and skipped."""

    __tablename__ = "processed_updates"

    bot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: a webhook update received and not handled yet: its body (JSON), and until when the worker handling it
    #: holds it (a crashed worker's updates are taken again after that); both NULL once handled
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_processed_updates_pending", "bot_id", "channel", "lease_until"),)


class OutboxRow(Base):
    """One proactive message to one recipient on one channel (broadcast, notification, reminder).

    ``dedupe_key`` is unique: the same (broadcast, recipient, channel) can never be queued twice.
    Status: pending -> sending -> sent | failed | blocked | cancelled (pending again after a retryable error).
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    bot_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))  # broadcast | notification | reminder
    broadcast_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    payload: Mapped[dict] = mapped_column(JSON)  # {"text": ..., "choices": [[label, action]], "photos": [...]}
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: claimed in this order, then by ``not_before``: 0 one person's notifications, 1 bulk (broadcasts, reminders)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: a live row's message on the platform (the one its next refresh edits), see ``OutboxRepository.refresh_live``
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: a live row's refreshes so far (see ``OutboxRepository.refresh_live``)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: ``revision`` when claimed: a row refreshed during its call is not settled with the older text
    claimed_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_outbox_ready", "bot_id", "channel", "status", "priority", "not_before"),)


class UnreachableRow(Base):
    """A member's chat account that answered 403 (blocked the bot): skipped until they write again."""

    __tablename__ = "unreachable"

    bot_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HardshipRequestRow(Base):
    """A member's request for hardship support, reviewed by the chairs of their grassroots union."""

    __tablename__ = "hardship_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)  # the grassroots union reviewing it
    category: Mapped[str] = mapped_column(String(32))
    happened_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    amount_requested: Mapped[int | None] = mapped_column(Integer, nullable=True)
    contact_phone: Mapped[str] = mapped_column(String(20))
    consent: Mapped[bool] = mapped_column(Boolean)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)
    approved_amount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    forwarded_to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the member's form it was submitted from: one request per form, however often "gửi" arrives
    form_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)


class HardshipPhotoRow(Base):
    __tablename__ = "hardship_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("hardship_requests.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    file_id: Mapped[str] = mapped_column(String(500))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HardshipEventRow(Base):
    """The request's history: who did what, when."""

    __tablename__ = "hardship_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("hardship_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: in what role the actor took the step: member (their own request), chair, deputy, admin, operator (the
    #: terminal); None on steps stored before it was kept
    actor_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: the unit whose chair (or deputy) took the step
    actor_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)


class BroadcastRow(Base):
    """A chair's announcement to the members of a unit's subtree; its deliveries are outbox rows."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(500), nullable=True)
    photo_channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | done | cancelled
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    progress_reported: Mapped[int] = mapped_column(Integer, default=0)  # last progress step told the chair (%)
    #: recipients done when the chair's live progress message was last refreshed (-1: not yet)
    progress_done: Mapped[int] = mapped_column(Integer, default=-1, server_default="-1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the chair's draft it was queued from: one broadcast per draft, however often "Gửi ngay" arrives
    draft_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)


class ReminderSubscriptionRow(Base):
    """Members who want reminders before emulation deadlines (/nhacnho)."""

    __tablename__ = "reminder_subscriptions"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    subscribed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CustomReminderRow(Base):
    """A chair's reminder for a knowledge date, sent to the subscribed members of their unit."""

    __tablename__ = "custom_reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[str] = mapped_column(String(100))
    remind_on: Mapped[date] = mapped_column(Date, index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DocumentRow(Base):
    """A source document ingested with ``unionbot kb ingest`` (an article, a .docx/.pdf/.html file).

    ``origin`` is where it came from (an absolute file path or a URL); ``content_hash`` is the sha256 of
    its normalised text, so ingesting it again unchanged changes nothing.
    """

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(1000), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)  # the file name, e.g. "001_d84ce019b34163c3.txt"
    title: Mapped[str] = mapped_column(String(500))
    published: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: who published it ("Lao động Thủ đô"): the page's or file's metadata, its folder, or ``--publication``
    publication: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PassageRow(Base):
    """One sentence of a document, with the paragraph it belongs to (both counted from 0)."""

    __tablename__ = "document_passages"
    __table_args__ = (UniqueConstraint("document_id", "paragraph", "sentence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    paragraph: Mapped[int] = mapped_column(Integer)
    sentence: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class WebLoginTokenRow(Base):
    """A single-use sign-in link to the web console (issued by ``/web`` in chat); only its sha256 is stored."""

    __tablename__ = "web_login_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSessionRow(Base):
    """A signed-in browser: the cookie's sha256, its CSRF secret, when it was last used, whether it was revoked."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class KnowledgeRevisionRow(Base):
    """One change of a knowledge entry: who, when, the entry before and after (None: it did not exist)."""

    __tablename__ = "knowledge_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(100), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(16))  # create | edit | retire | rollback
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)


class KnowledgeOwnerRow(Base):
    """The unit an entry added in the web console belongs to (its chairs and those above edit it)."""

    __tablename__ = "knowledge_owners"

    entry_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))


class KnowledgeVersionRow(Base):
    """One row counting changes to the knowledge base: every process polls it and reloads when it moves."""

    __tablename__ = "knowledge_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SharedPictureRow(Base):
    """A picture the bot drew (a /thongke chart: aggregates only), served at an unguessable address until it
    expires, for platforms that take a photo by URL (Zalo). Only the token's sha256 is stored."""

    __tablename__ = "shared_pictures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
