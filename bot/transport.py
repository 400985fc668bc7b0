"""The ``Transport`` protocol: the only surface between the core and a chat network.

Two directions, two protocols:

* :class:`Transport`: what the core calls on a transport (start, stop, send, ...).
* :class:`TransportHost`: what a transport calls on the application. It is handed to
  :meth:`Transport.start`; today that is one thing, handing over an incoming event
  (``Application.dispatch`` satisfies it structurally, as does a plain async function in
  tests). Transports import nothing from the core (``bot.app``, ``bot.router``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.events import IncomingMessage, OutgoingFile


class TransportHost(Protocol):
    """Exactly what a transport calls on the application: hand over one incoming event.

    The call returns once the event is accepted (claimed); its result, when awaitable,
    completes when the event has been handled. Transports that must know the outcome await
    it (the memory transport, Telegram's per-update confirmation); Matrix does not, so
    syncing never waits for a slow handler.
    """

    def __call__(self, message: IncomingMessage, /) -> Awaitable[Any]: ...


#: The former name of :class:`TransportHost` (kept for callers that type with it).
MessageCallback = TransportHost


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

    @property
    def configured_rooms(self) -> Mapping[str, str]:
        """Room kind ('imo', 'coordinator', 'admin') -> chat id, for the rooms this transport
        resolved from its configuration (it may grow after start); empty where not applicable."""

    async def start(self, host: TransportHost) -> None:
        """Connect and begin delivering messages to ``host``; returns once running."""

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


def parse_command(text: str) -> tuple[str, str] | None:
    """``!name args`` or ``/name args`` (``/name@bot`` in Telegram groups) -> (name, args).

    What counts as a command in a chat message, for the core and for transports that must
    recognise one before the core sees it (Telegram removes secrets from ``/password``).
    """
    stripped = text.strip()
    if not stripped or stripped[0] not in "!/":
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()  # Telegram sends /cmd@botname in groups
    if not name:
        return None
    return name, rest.strip()
