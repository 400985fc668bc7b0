"""Database schema (SQLAlchemy 2 declarative, shared by SQLite and PostgreSQL).

Conventions that keep the security promises checkable:

* Columns ending in ``_enc`` hold ``storage.crypto.seal`` output under the row's own
  data key (``data_key_id``); nothing sensitive is stored in any other column.
* Shredding an object = deleting its ``data_keys.wrapped_key`` (and its blob).
* Identifiers that must not link a person to an anonymous action (conversation
  keys, processed event ids) are stored as keyed hashes, not as raw ids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.timeutil import as_utc

from . import ids


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that always holds UTC and always reads back aware UTC.

    The SQL type is unchanged (``DateTime(timezone=True)``, as in the migrations), so there
    is no schema change. Aware values are converted to UTC before they are written, naive
    ones are taken as UTC (as before); what comes back is aware UTC on every backend
    (SQLite hands back naive datetimes, PostgreSQL aware ones in the session's zone).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


TS = UTCDateTime()


class DataKey(Base):
    """One wrapped data-encryption key per stored object."""

    __tablename__ = "data_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kek_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(TS)
    shredded_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sector: Mapped[str | None] = mapped_column(String(100), nullable=True)
    pseudonym: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(TS)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matrix_id: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    telegram_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TS)


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("transport", "chat_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transport: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))  # direct | imo | coordinator | admin | other
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TS)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(20))  # held | accepted | withdrawn | deleted | expired
    level: Mapped[str | None] = mapped_column(String(24), nullable=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    warned_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    # keyed hash of the incoming event (and attachment) it came from: stored once, even if
    # that event is handled again after a crash
    source_key: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)

    @property
    def public_id(self) -> str:
        return f"{ids.sub_id(self.id)}"


class SubmissionVersion(Base):
    __tablename__ = "submission_versions"
    __table_args__ = (UniqueConstraint("submission_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="original")  # original | pseudonymised | correction
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    blob_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    filename_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    findings_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    mimetype: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    label: Mapped[str | None] = mapped_column(String(24), nullable=True)
    required_level: Mapped[str | None] = mapped_column(String(24), nullable=True)
    verdict: Mapped[str] = mapped_column(String(24))
    categories: Mapped[str] = mapped_column(Text, default="")  # comma-separated category names
    state: Mapped[str] = mapped_column(String(20))  # active | pending | superseded | shredded
    created_at: Mapped[datetime] = mapped_column(TS)
    shredded_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class ConsentDecision(Base):
    """Append-only, hash-chained consent ledger."""

    __tablename__ = "consent_ledger"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    submission_id: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(20))
    decision: Mapped[bool] = mapped_column(Boolean)
    actor_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(TS)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


#: the consent ledger's hashed fields (its chain: ``storage.consent``, ``Storage.chained_tables``)
CONSENT_FIELDS = ("seq", "submission_id", "org_id", "scope", "decision", "actor_id", "ts")


class GuidanceTicket(Base):
    __tablename__ = "guidance_tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    asker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    question_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    closed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    notice_event_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("guidance_tickets.id"))
    author_role: Mapped[str] = mapped_column(String(20))
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    blob_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    filename_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    mimetype: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(24))
    audience: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # draft | scheduled | sent | refused | cancelled
    scheduled_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)


class ProductSource(Base):
    __tablename__ = "product_sources"
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)


class Delivery(Base):
    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_hash: Mapped[str] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(20), nullable=True)
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)
    acked_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    retention_warned_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)
    shredded_at: Mapped[datetime | None] = mapped_column(TS, nullable=True)


class IncidentEvent(Base):
    __tablename__ = "incident_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(20))
    actor_role: Mapped[str] = mapped_column(String(20))
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TS)


class ConversationState(Base):
    """A running dialog; ``key`` is a keyed hash of (transport, chat, sender)."""

    __tablename__ = "conversations"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    dialog: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(40))
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    data_enc: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)


class ProcessedEvent(Base):
    """Idempotency: an incoming event (keyed hash of transport + event id) is handled once."""

    __tablename__ = "processed_events"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(TS)


class InboxItem(Base):
    """An accepted incoming event whose handling has not finished yet (the durable inbox).

    Written in the same transaction as its :class:`ProcessedEvent` claim, so an event is
    either not accepted (the transport delivers it again) or accepted *with its content*,
    which a restart handles again after a crash. The content (message, sender, chat,
    attachments as blobs) is sealed under the row's own data key, shredded when the
    handling is done and the row deleted.
    """

    __tablename__ = "inbox"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # the ProcessedEvent key
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    blob_ids: Mapped[str] = mapped_column(Text, default="")  # random names of the sealed attachments
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(TS)


class SentReply(Base):
    """The n-th message sent while handling an event was sent (keyed hash of event and n).

    A re-run after a crash skips what was already sent, and hands the transport the same
    transaction id for the rest (Matrix deduplicates a resent transaction).
    """

    __tablename__ = "sent_replies"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255))
    sent_at: Mapped[datetime] = mapped_column(TS)


class AuditEntry(Base):
    """Append-only, hash-chained; never content, file names or free text."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(TS)
    actor_id: Mapped[str] = mapped_column(String(255))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(10))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ScheduledMessage(Base):
    """A guidance note to send later (the periodic sweep delivers due ones)."""

    __tablename__ = "scheduled_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    data_key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    due_at: Mapped[datetime] = mapped_column(TS)
    state: Mapped[str] = mapped_column(String(20))  # scheduled | sent | cancelled
    created_at: Mapped[datetime] = mapped_column(TS)


class Setting(Base):
    """Small key/value facts the bot must remember (e.g. the keyed-hash salt id)."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Audience(Base):
    __tablename__ = "audiences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(TS)


class AudienceMember(Base):
    __tablename__ = "audience_members"
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


__all__ = [
    "CONSENT_FIELDS",
    "Audience",
    "AudienceMember",
    "AuditEntry",
    "Base",
    "ConsentDecision",
    "ConversationState",
    "DataKey",
    "Delivery",
    "GuidanceTicket",
    "InboxItem",
    "Incident",
    "IncidentEvent",
    "Organisation",
    "ProcessedEvent",
    "Product",
    "ProductSource",
    "Room",
    "ScheduledMessage",
    "SentReply",
    "Setting",
    "Submission",
    "SubmissionVersion",
    "TicketMessage",
    "UTCDateTime",
    "User",
]
