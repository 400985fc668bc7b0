"""An in-memory transport that records replies (for fast handler tests only).

Modelled on maubot's testing bot: tests ``await transport.receive(...)`` a message
and read ``transport.sent``. It is never the only test of a real transport.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.events import Attachment, IncomingMessage, OutgoingFile, Reply
from bot.transport import Capabilities, TransportError, TransportHost


@dataclass
class MemoryTransport:
    name: str = "memory"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(end_to_end_encrypted=True))
    encrypted_chats: set[str] = field(default_factory=set)
    sent: list[Reply] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    fail_sends: int = 0
    configured_rooms: dict[str, str] = field(default_factory=dict)  # none unless a test sets some
    _on_message: TransportHost | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _direct: dict[str, str] = field(default_factory=dict)

    async def start(self, on_message: TransportHost) -> None:
        self._on_message = on_message

    async def stop(self) -> None:
        self._on_message = None

    def _next_id(self) -> str:
        return f"$out{next(self._ids)}"

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> str:
        if self.fail_sends > 0:
            self.fail_sends -= 1
            raise TransportError("simulated send failure")
        mid = self._next_id()
        self.sent.append(Reply(chat_id=chat_id, text=text, reply_to=reply_to, message_id=mid))
        return mid

    async def send_file(self, chat_id: str, file: OutgoingFile, *, reply_to: str | None = None) -> str:
        if chat_id not in self.encrypted_chats:
            raise TransportError("refusing to send a file to an unencrypted chat")
        if self.fail_sends > 0:
            self.fail_sends -= 1
            raise TransportError("simulated send failure")
        mid = self._next_id()
        self.sent.append(Reply(chat_id=chat_id, file=file, reply_to=reply_to, message_id=mid))
        return mid

    async def delete_message(self, chat_id: str, message_id: str) -> None:
        self.deleted.append((chat_id, message_id))

    async def is_encrypted(self, chat_id: str) -> bool:
        return chat_id in self.encrypted_chats

    async def direct_chat(self, user_id: str) -> str:
        if user_id not in self._direct:
            chat = f"!dm-{user_id.strip('@').replace(':', '-')}"
            self._direct[user_id] = chat
            self.encrypted_chats.add(chat)
        return self._direct[user_id]

    # ------------------------------------------------------------------ test helpers

    async def receive(
        self,
        sender: str,
        text: str = "",
        *,
        chat_id: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        encrypted: bool | None = None,
        event_id: str | None = None,
        reply_to: str | None = None,
    ) -> list[Reply]:
        """Deliver a message as if it came from ``sender``; returns the replies it caused."""
        if self._on_message is None:
            raise RuntimeError("transport not started")
        chat = chat_id or await self.direct_chat(sender)
        is_direct = chat == self._direct.get(sender)
        enc = (chat in self.encrypted_chats) if encrypted is None else encrypted
        before = len(self.sent)
        msg = IncomingMessage(
            transport=self.name,
            chat_id=chat,
            sender_id=sender,
            event_id=event_id or f"$in{next(self._ids)}",
            text=text,
            attachments=attachments,
            encrypted=enc,
            direct=is_direct,
            reply_to=reply_to,
        )
        handled = await self._on_message(msg)
        if handled is not None:
            await handled  # wait until the core has handled it, so tests can read the replies
        return self.sent[before:]

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [r.text for r in self.sent if r.file is None and (chat_id is None or r.chat_id == chat_id)]
