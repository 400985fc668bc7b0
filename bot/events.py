"""Transport-neutral events.

Every transport (Matrix, Telegram, the in-memory one used by tests) turns what it
receives into these frozen dataclasses, and handlers only ever see these. That keeps
nio and telegram imports out of ``handlers/`` and lets one handler test run in
milliseconds without a homeserver.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that arrived with a message, already decrypted by the transport.

    ``data`` holds the plaintext in memory only; it must never be written to disk
    except through ``storage.blobs`` (which encrypts it).
    """

    filename: str
    mimetype: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def __repr__(self) -> str:  # never show the (possibly personal) file name
        return f"Attachment(mimetype={self.mimetype!r}, size={self.size})"


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message as the core sees it.

    ``encrypted`` is true only when the channel is end-to-end encrypted *and* this
    event arrived encrypted; ``direct`` when the chat is a one-to-one chat with the bot.
    ``event_id`` must be unique per transport: the router uses it for idempotency.
    """

    transport: str
    chat_id: str
    sender_id: str
    event_id: str
    text: str = field(default="", repr=False)
    attachments: tuple[Attachment, ...] = ()
    encrypted: bool = False
    direct: bool = False
    reply_to: str | None = None
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    # What identifies a *delivery* of this event, when the event id names the sender's chat:
    # Telegram's event ids are "chat:message", which anyone holding the database could
    # brute-force back to a person from a keyed hash; its update id names nobody.
    dedupe_id: str | None = None

    @property
    def key(self) -> str:
        """Idempotency key: transport plus the delivery id (or the event id)."""
        return f"{self.transport}:{self.dedupe_id or self.event_id}"


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A file the bot sends; transports must upload it encrypted where they can."""

    filename: str
    mimetype: str
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"OutgoingFile(mimetype={self.mimetype!r}, size={len(self.data)})"


@dataclass(frozen=True, slots=True)
class Reply:
    """What the in-memory transport records for every message the bot sent."""

    chat_id: str
    text: str = ""
    file: OutgoingFile | None = None
    reply_to: str | None = None
    message_id: str = ""
