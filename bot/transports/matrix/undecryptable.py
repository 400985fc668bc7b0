"""Events the bot could not decrypt yet: ask for the key, retry, and give up in time.

The sender's devices are asked for the room key; each sync retries the waiting events.
After ``matrix.undecryptable_timeout_seconds`` the transport tells the sender in plain
words. Waiting events (ciphertext only) are kept in ``store_dir`` across restarts, so none
is dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import AsyncClient, LocalProtocolError, MegolmEvent
from nio.exceptions import EncryptionError

from bot.transports.matrix.state import PENDING_FILE, read_json, write_json

log = logging.getLogger(__name__)

OnDecrypted = Callable[[str, Any], Awaitable[None]]  # (room id, decrypted event)
OnGaveUp = Callable[[str, str], Awaitable[None]]  # (room id, event id)


@dataclass
class _Pending:
    """An event that could not be decrypted yet, waiting for its room key."""

    event: MegolmEvent
    room_id: str
    deadline: float


class Undecryptable:
    def __init__(self, store_dir: Path, timeout_seconds: float, clock: Callable[[], float]) -> None:
        self._path = store_dir / PENDING_FILE
        self._timeout = timeout_seconds
        self._clock = clock
        self.pending: dict[str, _Pending] = {}

    def deadlines(self) -> list[float]:
        return [p.deadline for p in self.pending.values()]

    async def add(self, client: AsyncClient, room_id: str, event: MegolmEvent) -> None:
        """Ask the sender's devices for the key; remember the event to retry it later."""
        event.room_id = room_id
        if event.event_id in self.pending:
            return
        log.warning("matrix: cannot decrypt event %s in %s yet; requesting the key", event.event_id, room_id)
        self.pending[event.event_id] = _Pending(event, room_id, self._clock() + self._timeout)
        try:
            await client.request_room_key(event)
        except LocalProtocolError:
            pass  # already requested for this session

    async def retry(self, client: AsyncClient, on_decrypted: OnDecrypted, on_gave_up: OnGaveUp) -> None:
        now = self._clock()
        for event_id, pending in list(self.pending.items()):
            try:
                decrypted = client.decrypt_event(pending.event)
            except EncryptionError:
                decrypted = None
            if decrypted is not None and not isinstance(decrypted, MegolmEvent):
                del self.pending[event_id]
                log.info("matrix: event %s decrypted after the key arrived", event_id)
                await on_decrypted(pending.room_id, decrypted)
            elif now >= pending.deadline:
                del self.pending[event_id]
                log.warning("matrix: gave up on event %s in %s; telling the sender", event_id, pending.room_id)
                await on_gave_up(pending.room_id, event_id)

    def save(self) -> None:
        """Keep undecryptable events (ciphertext only) across restarts."""
        write_json(self._path, [{"room_id": p.room_id, "source": p.event.source} for p in self.pending.values()])

    def load(self) -> None:
        for item in read_json(self._path, []):
            event = MegolmEvent.from_dict(item["source"])
            if isinstance(event, MegolmEvent):
                event.room_id = item["room_id"]
                self.pending[event.event_id] = _Pending(event, item["room_id"], self._clock() + self._timeout)
