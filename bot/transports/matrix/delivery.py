"""Handing accepted messages to the core, beside the sync loop, and committing sync tokens.

* Each sender's messages reach the core in order (one chain per sender); different senders
  are handled concurrently (at most ``concurrency`` at once).
* A file is downloaded here, never in the sync loop, so one partner's large upload does not
  hold up syncing for everyone; the sender's later messages wait for it (order).
* A sync token is saved only once every event of its batch (and of all batches before)
  was handed to the core, so a crash redelivers (the core is idempotent) but never loses.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.events import Attachment, IncomingMessage
from bot.transport import TransportHost
from bot.transports.matrix.state import save_sync_token

log = logging.getLogger(__name__)

DISPATCH_CONCURRENCY = 16
DOWNLOAD_FAILED = "I could not download your file. Please send it again."

Download = Callable[[Any], Awaitable[Attachment]]
Notice = Callable[..., Awaitable[None]]  # (chat_id, text, *, reply_to)


class Deliveries:
    def __init__(
        self, store_dir: Path, *, download: Download, notice: Notice, concurrency: int = DISPATCH_CONCURRENCY
    ) -> None:
        self._store_dir = store_dir
        self._download = download
        self._notice = notice
        self._host: TransportHost | None = None
        self._chains: dict[str, asyncio.Task[None]] = {}  # last delivery per sender (keeps order)
        self._commits: deque[tuple[str, list[asyncio.Task[None]]]] = deque()  # token, its deliveries
        self._sem = asyncio.Semaphore(concurrency)

    def start(self, host: TransportHost) -> None:
        self._host = host

    def commit(self, token: str, messages: list[tuple[IncomingMessage, Any]]) -> None:
        """Queue one sync's messages; its token is saved once they all reached the core."""
        deliveries = [self._queue(msg, file_event) for msg, file_event in messages]
        self._commits.append((token, deliveries))
        self._commit_tokens()

    def _queue(self, msg: IncomingMessage, file_event: Any) -> asyncio.Task[None]:
        """Hand one message to the core beside the sync loop, after the sender's previous one."""
        previous = self._chains.get(msg.sender_id)
        task = asyncio.create_task(self._deliver(previous, msg, file_event))
        self._chains[msg.sender_id] = task

        def done(t: asyncio.Task[None], sender: str = msg.sender_id) -> None:
            if self._chains.get(sender) is t:
                del self._chains[sender]
            self._commit_tokens()

        task.add_done_callback(done)
        return task

    async def _deliver(self, previous: asyncio.Task[None] | None, msg: IncomingMessage, file_event: Any) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        if file_event is not None:
            try:
                msg = replace(msg, attachments=(await self._download(file_event),))
            except Exception as exc:  # noqa: BLE001 - the sender is told; the bot goes on
                log.warning("matrix: could not download the file of event %s (%s)", msg.event_id, type(exc).__name__)
                await self._notice(msg.chat_id, DOWNLOAD_FAILED, reply_to=msg.event_id)
                return
        await self._dispatch_one(msg)

    def _commit_tokens(self) -> None:
        """Save the newest sync token whose events (and all before) were handed to the core."""
        newest = None
        while self._commits and all(t.done() and not t.cancelled() for t in self._commits[0][1]):
            newest = self._commits.popleft()[0]
        if newest is not None:
            save_sync_token(self._store_dir, newest)

    async def finish(self, timeout: float = 30.0) -> None:
        """On stop: let queued deliveries reach the core (bounded); unsaved ones are redelivered."""
        pending = [t for _token, tasks in self._commits for t in tasks if not t.done()]
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        self._commit_tokens()

    async def _dispatch_one(self, msg: IncomingMessage) -> None:
        assert self._host is not None
        async with self._sem:
            try:
                await self._host(msg)
            except Exception:
                log.exception("matrix: handler failed for event %s in %s", msg.event_id, msg.chat_id)
