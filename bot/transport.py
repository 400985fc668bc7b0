"""The ``Transport`` protocol: the only surface between the core and a chat network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.events import IncomingMessage, OutgoingFile

# Returns once the event is accepted (claimed); the result, when awaitable, completes when
# the event has been handled. Transports that must know the outcome await it (the memory
# transport, Telegram's per-update confirmation); Matrix does not, so syncing never waits
# for a slow handler.
MessageCallback = Callable[[IncomingMessage], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a transport can promise.

    ``end_to_end_encrypted``: the transport can carry content end-to-end encrypted
    (Matrix with Olm/Megolm). Telegram cannot, so sensitive content never goes there.
    """

    end_to_end_encrypted: bool
    files: bool = True
    max_file_size: int = 50 * 1024 * 1024
    can_delete: bool = True


class TransportError(Exception):
    """A send or receive failed in a way the caller should report, not crash on."""


@runtime_checkable
class Transport(Protocol):
    name: str
    capabilities: Capabilities

    async def start(self, on_message: MessageCallback) -> None:
        """Connect and begin delivering messages to ``on_message``; returns once running."""

    async def stop(self) -> None:
        """Disconnect; must not destroy credentials or device keys."""

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> str:
        """Send a notice; returns the new message id."""

    async def send_file(self, chat_id: str, file: OutgoingFile, *, reply_to: str | None = None) -> str:
        """Send a file (encrypted upload where the transport supports it); returns the message id."""

    async def delete_message(self, chat_id: str, message_id: str) -> None:
        """Redact/delete a message the bot sent (used for e.g. passwords pasted by users)."""

    async def is_encrypted(self, chat_id: str) -> bool:
        """True when content sent to ``chat_id`` is end-to-end encrypted."""

    async def direct_chat(self, user_id: str) -> str:
        """Return (creating it encrypted if needed) the direct chat id with ``user_id``."""


#: Set by the core around each message it sends while handling an event: a stable id for
#: that message (the same on a re-run after a crash). A transport whose server deduplicates
#: by transaction id (Matrix) sends with it, so a resent message is not shown twice.
OUTGOING_TXN: ContextVar[str | None] = ContextVar("clusterbot_outgoing_txn", default=None)
