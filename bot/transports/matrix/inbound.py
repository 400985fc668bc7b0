"""Inbound conversion: nio room events -> :class:`bot.events.IncomingMessage`.

Pure, in matrix-nio's sans-I/O spirit: no client, no network, no store. What the
conversion needs to know about the room (is it encrypted, is it one of the bot's own
private chats) is passed in by the caller, so every rule here is unit-tested on hand-made
nio events without a homeserver (``tests/core/test_matrix_inbound.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nio import RoomEncryptedMedia, RoomMemberEvent, RoomMessageMedia, RoomMessageText
from nio.crypto.attachments import decrypt_attachment

from bot.events import Attachment, IncomingMessage

TRANSPORT_NAME = "matrix"

_REPLY_FALLBACK = re.compile(r"\A(?:>[^\n]*\n)+\n", re.MULTILINE)


def strip_reply_fallback(body: str) -> str:
    """Remove the quoted ``> <@user> ...`` block clients put in front of replies."""
    return _REPLY_FALLBACK.sub("", body, count=1)


def is_file_event(event: Any) -> bool:
    """A file (encrypted or plain media): its bytes are fetched later, once admitted."""
    return isinstance(event, (RoomEncryptedMedia, RoomMessageMedia))


def reply_target(event: Any) -> str | None:
    """The event id this event replies to (``m.in_reply_to``), if any."""
    content = event.source.get("content", {})
    return (content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")


def to_incoming(
    event: Any, *, room_id: str, room_encrypted: bool, direct: bool, transport: str = TRANSPORT_NAME
) -> IncomingMessage | None:
    """The core's view of a text or file event; None for every other kind of event.

    ``encrypted`` is true only for an event that was decrypted in a room that is encrypted.
    A file's attachment is left empty here: it is downloaded beside the sync loop.
    """
    reply_to = reply_target(event)
    if isinstance(event, RoomMessageText):
        text = strip_reply_fallback(event.body) if reply_to else event.body
    elif is_file_event(event):
        text = ""
    else:
        return None
    return IncomingMessage(
        transport=transport,
        chat_id=room_id,
        sender_id=event.sender,
        event_id=event.event_id,
        text=text,
        attachments=(),
        encrypted=bool(getattr(event, "decrypted", False)) and room_encrypted,
        direct=direct,
        reply_to=reply_to,
        timestamp=datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC),
    )


def new_events(events: list[Any], own_user_id: str) -> list[Any]:
    """Drop events from before the bot joined (history it was never meant to act on)."""
    start = 0
    for index, event in enumerate(events):
        if (
            isinstance(event, RoomMemberEvent)
            and event.state_key == own_user_id
            and event.membership == "join"
            and event.prev_membership != "join"
        ):
            start = index + 1
    return events[start:]


def declared_size(event: Any) -> int | None:
    """The size a file event announces (``info.size``), before anything is downloaded."""
    size = ((event.source.get("content") or {}).get("info") or {}).get("size")
    return size if isinstance(size, int) else None


def attachment_from(event: Any, data: bytes) -> Attachment:
    """The attachment of a file event from its downloaded bytes (decrypted and hash-checked
    for an encrypted file; nio raises when the SHA-256 does not match)."""
    content = event.source.get("content", {})
    if isinstance(event, RoomEncryptedMedia):
        data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        mimetype = event.mimetype or "application/octet-stream"
    else:
        mimetype = (content.get("info") or {}).get("mimetype") or "application/octet-stream"
    filename = content.get("filename") or event.body or "file"
    return Attachment(filename=filename, mimetype=mimetype, data=data)


@dataclass(frozen=True, slots=True)
class DevicesCommand:
    """``!devices`` (Matrix only, answered by the transport): a listing, a confirmation, or an
    admin's answer to an emoji verification (``sas_args``: the words after ``sas``)."""

    confirm: bool = False
    device_id: str | None = None
    sas_args: tuple[str, ...] | None = None


def devices_command(text: str) -> DevicesCommand | None:
    """Parse ``!devices [confirm [DEVICE] | sas TXN match|mismatch]``; None for any other text."""
    command = text.strip().lower()
    if not command.startswith("!devices"):
        return None
    words = text.split()
    if words[1:2] and words[1].lower() == "sas":  # transaction ids are case-sensitive
        return DevicesCommand(sas_args=tuple(words[2:]))
    return DevicesCommand(confirm=command.split()[1:2] == ["confirm"], device_id=words[2] if len(words) > 2 else None)
