"""The running bot: storage, router, dialogs, transports, scheduler and worker pool.

Transports hand every event to :meth:`Application.dispatch`, which makes it idempotent
(the durable inbox), orders it in its sender's lane and hands it to
:meth:`bot.router.Router.route` (the decision chain) inside the error boundary. The
workflows are given by the caller: ``Application.create(config, workflows=...)``
(``handlers.WORKFLOWS`` for the real bot); the core never imports a workflow. Handlers reach the
outside world only through the methods here (``send_text``, ``send_to_user``,
``post_room``, ``screen``), which is where the security rules on *outgoing*
content are enforced: files only into end-to-end encrypted chats, sensitive text
never through Telegram or an unencrypted room.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.conversation import ConversationEngine
from bot.events import IncomingMessage, OutgoingFile
from bot.router import (
    Context,
    RateLimiter,
    Refused,
    Router,
    error_reference,
    log_exception_without_content,
)
from bot.scheduler import start_scheduler
from bot.transport import OUTGOING_TXN, Transport, TransportError
from storage.directory import Directory, UserInfo
from storage.inbox import MAX_ATTEMPTS, Inbox
from storage.store import Storage

log = logging.getLogger(__name__)

Sweep = Callable[["Application"], Awaitable[None]]
Job = Callable[["Application", dict[str, Any]], Awaitable[None]]
#: A workflow: ``register(app)`` of a handler module (see handlers/__init__.py).
Workflow = Callable[["Application"], None]
ROOM_KINDS = ("imo", "coordinator", "admin")


@dataclass
class Services:
    """Things handler modules register at start-up besides commands."""

    sweeps: dict[str, Sweep] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)


class Application:
    def __init__(
        self,
        config: Config,
        storage: Storage,
        *,
        transports: Iterable[Transport] = (),
        clock: Clock | None = None,
        executor: Executor | None = None,
        rooms: dict[str, tuple[str, str]] | None = None,
        workflows: Iterable[Workflow] = (),
    ) -> None:
        self.config = config
        self.storage = storage
        self.clock = clock or SystemClock()
        self.directory = Directory(storage)
        self.conversations = ConversationEngine(storage)
        self.transports: dict[str, Transport] = {t.name: t for t in transports}
        self.services = Services()
        self.rooms: dict[str, tuple[str, str]] = dict(rooms or {})
        self._own_executor = executor is None
        self.executor: Executor = executor or ProcessPoolExecutor(
            max_workers=config.screening.workers, mp_context=multiprocessing.get_context("spawn")
        )
        self.limiter = RateLimiter(config.rate_limit_per_minute)
        self.router = Router(self.directory, self.conversations, self.limiter)
        self.scheduler: Any = None
        self.state: dict[str, Any] = {}  # per-process handler state (e.g. pending confirmations)
        self.inbox = Inbox(storage)
        self._ready = asyncio.Event()  # transports started: resumed events may send
        self._lanes: dict[str, asyncio.Task[None]] = {}  # last queued message per sender
        self._inflight: set[asyncio.Task[None]] = set()
        if config.matrix.enabled:
            for kind in ROOM_KINDS:
                room = getattr(config.matrix, f"{kind}_room")
                if room and kind not in self.rooms and not room.startswith("#"):  # aliases: the transport resolves
                    self.rooms[kind] = ("matrix", room)
        self.services.sweeps["conversations.expire"] = self._expire_conversations
        self.services.sweeps["events.forget"] = self._forget_old_events
        self.services.sweeps["blobs.orphans"] = self._remove_orphan_blobs
        for register in workflows:
            register(self)

    async def _expire_conversations(self, _app: Application) -> None:
        for active in await self.conversations.expired():
            await self.conversations.expire(active)

    async def _remove_orphan_blobs(self, _app: Application) -> None:
        await self.storage.remove_orphan_blobs()

    async def _forget_old_events(self, _app: Application) -> None:
        """Processed-event records are kept 90 days: far longer than any redelivery window."""
        from datetime import timedelta

        cutoff = self.clock.now() - timedelta(days=90)
        await self.storage.forget_events_before(cutoff)
        await self.inbox.forget_sent_before(cutoff)

    # ------------------------------------------------------------------ construction

    @classmethod
    async def create(
        cls,
        config: Config,
        *,
        transports: Iterable[Transport] = (),
        clock: Clock | None = None,
        executor: Executor | None = None,
        rooms: dict[str, tuple[str, str]] | None = None,
        check_schema: bool = True,
        workflows: Iterable[Workflow],
    ) -> Application:
        """Open the storage and build the bot with ``workflows`` (``handlers.WORKFLOWS``)."""
        from storage import migrate

        clock = clock or SystemClock()
        if check_schema and await migrate.pending(config.storage.database_url):
            raise RuntimeError("the database schema is out of date: run 'clusterbot db upgrade --config FILE'")
        storage = await Storage.open(
            config.storage.database_url, config.storage.blob_dir, config.storage.master_key_file, now=clock.now
        )
        return cls(
            config, storage, transports=transports, clock=clock, executor=executor, rooms=rooms, workflows=workflows
        )

    async def start(self, *, scheduler: bool = True) -> None:
        # Events accepted before a crash or stop but not finished are queued first, so each
        # sender's older messages stay ahead of what the transports deliver now.
        await self._resume_pending()
        for transport in self.transports.values():
            await transport.start(self.dispatch)
            # aliases in the config (#cluster-imo:server) are resolved by the transport
            for kind, room_id in transport.configured_rooms.items():
                self.rooms[kind] = (transport.name, room_id)
        self._ready.set()
        if scheduler:
            self.scheduler = start_scheduler(
                self.config.storage.database_url, run_sweeps=self.run_sweeps, run_job=self.run_job
            )

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        await self.drain()
        for transport in self.transports.values():
            try:
                await transport.stop()
            except Exception as exc:  # noqa: BLE001 - shutting down anyway
                log.warning("transport %s did not stop cleanly: %s", transport.name, type(exc).__name__)
        if self._own_executor:
            self.executor.shutdown(wait=False, cancel_futures=True)
        await self.storage.close()

    # ------------------------------------------------------------------ transport hooks

    async def is_known_user(self, handle: str, transport: str) -> bool:
        return await self.directory.is_known(transport, handle)

    async def is_admin(self, handle: str, transport: str) -> bool:
        """For a transport: may this user confirm an emoji (SAS) verification?"""
        user = await self.directory.lookup(transport, handle)
        return user is not None and user.role == "admin"

    async def audit_hook(
        self, actor_id: str, action: str, object_id: str | None, outcome: str, *, transport: str
    ) -> None:
        """For transports: chat handles and room ids are stored as keyed hashes or internal ids.

        A raw room id next to a user would let anyone with the database find a reporter's
        direct chat; a keyed hash still lets operators match entries with the key.
        """
        if object_id is not None and object_id.startswith("!"):
            object_id = "room:" + (await self.storage.pseudokey("room", object_id))[:16]
        user = await self.directory.lookup(transport, actor_id)
        if user is not None:
            await self.storage.audit(user.audit_id, user.role, action, object_id, outcome)
        else:
            await self.storage.audit(await self.unknown_actor(actor_id), "unknown", action, object_id, outcome)

    async def audit(self, actor_id: str, role: str, action: str, object_id: str | None, outcome: str) -> None:
        await self.storage.audit(actor_id, role, action, object_id, outcome)

    async def unknown_actor(self, handle: str) -> str:
        return "unknown:" + (await self.storage.pseudokey("actor", handle))[:16]

    async def notify_admins(self, text: str) -> None:
        """The admin room when there is one; each admin's private chat only when there is none."""
        self._refresh_rooms()
        if "admin" in self.rooms and await self.post_room("admin", text):
            return
        for admin in await self.directory.users_with_role("admin"):
            await self.send_to_user(admin, text, sensitive=False)

    # ------------------------------------------------------------------ outgoing

    def transport(self, name: str) -> Transport:
        try:
            return self.transports[name]
        except KeyError:
            raise TransportError(f"transport {name} is not running") from None

    async def chat_is_encrypted(self, transport: str, chat_id: str) -> bool:
        t = self.transport(transport)
        return t.capabilities.end_to_end_encrypted and await t.is_encrypted(chat_id)

    async def send_text(self, transport: str, chat_id: str, text: str, *, reply_to: str | None = None) -> str:
        t = self.transport(transport)
        return await self._send_once(lambda: t.send_text(chat_id, text, reply_to=reply_to))

    async def send_file(self, transport: str, chat_id: str, file: OutgoingFile, *, reply_to: str | None = None) -> str:
        if not await self.chat_is_encrypted(transport, chat_id):
            raise TransportError("refusing to send a file to a chat that is not end-to-end encrypted")
        t = self.transport(transport)
        return await self._send_once(lambda: t.send_file(chat_id, file, reply_to=reply_to))

    async def _send_once(self, send: Callable[[], Awaitable[str]]) -> str:
        """Send one message of the event being handled at most once, even across a re-run.

        Messages are numbered in the order a handling sends them (deterministic for a
        given event); a re-run after a crash skips those recorded as sent and gives the
        transport the same transaction id for the one that may have been in flight (Matrix
        deduplicates it). Outside a handling (sweeps, the scheduler) this is a plain send.
        """
        handling = HANDLING.get()
        if handling is None:
            return await send()
        reply_key = await self.inbox.reply_key(handling.key, next(handling.counter))
        if handling.rerun:
            already = await self.inbox.sent(reply_key)
            if already is not None:
                return already
        token = OUTGOING_TXN.set("cb" + reply_key[:40])
        try:
            message_id = await send()
        finally:
            OUTGOING_TXN.reset(token)
        await self.inbox.mark_sent(reply_key, message_id or "-")
        return message_id

    async def direct_chat_for(self, user: UserInfo, *, sensitive: bool) -> tuple[str, str] | None:
        """Where to reach a user: an end-to-end encrypted direct chat first (their Matrix id), a
        transport without end-to-end encryption (Telegram) only for non-sensitive text."""
        for name, t in self.transports.items():
            if t.capabilities.end_to_end_encrypted and user.matrix_id:
                return name, await t.direct_chat(user.matrix_id)
        if sensitive or not user.telegram_id:
            return None
        for name, t in self.transports.items():
            if not t.capabilities.end_to_end_encrypted:
                return name, await t.direct_chat(user.telegram_id)
        return None

    async def send_to_user(self, user: UserInfo, text: str, *, sensitive: bool = True) -> bool:
        target = await self.direct_chat_for(user, sensitive=sensitive)
        if target is None:
            return False
        transport, chat = target
        if sensitive and not await self.chat_is_encrypted(transport, chat):
            log.warning("not sending sensitive text to user:%s: no encrypted chat", user.id)
            return False
        try:
            await self.send_text(transport, chat, text)
        except TransportError as exc:
            log.warning("send to user:%s failed: %s", user.id, type(exc).__name__)
            return False
        return True

    async def send_file_to_user(self, user: UserInfo, file: OutgoingFile) -> str:
        target = await self.direct_chat_for(user, sensitive=True)
        if target is None:
            raise TransportError("user has no end-to-end encrypted chat")
        return await self.send_file(target[0], target[1], file)

    async def post_room(self, kind: str, text: str, *, file: OutgoingFile | None = None) -> str | None:
        """Post to the configured IMO / coordinator / admin room, only if it is encrypted.

        Returns the posted message id (truthy) or None when nothing was posted.
        """
        self._refresh_rooms()
        target = self.rooms.get(kind)
        if target is None:
            log.warning("no %s room configured; notice not posted", kind)
            return None
        transport, chat = target
        if not await self.chat_is_encrypted(transport, chat):
            # (the transport logs an unencrypted configured room once, as an error)
            log.warning("the %s room is not usable (not joined yet, or not encrypted); not posting there", kind)
            if kind != "admin":
                await self.notify_admins(
                    f"The configured {kind} room is not end-to-end encrypted, so I will not post there. "
                    "Enable encryption in that room."
                )
            return None
        try:
            if file is not None:
                await self.send_file(transport, chat, file)
            return await self.send_text(transport, chat, text)
        except TransportError as exc:
            log.warning("posting to the %s room failed: %s", kind, type(exc).__name__)
            return None

    async def delete_message(self, transport: str, chat_id: str, message_id: str) -> bool:
        """Delete a message in a chat where the transport can; False when it cannot."""
        t = self.transport(transport)
        if not t.capabilities.can_delete:
            return False
        await t.delete_message(chat_id, message_id)
        return True

    async def send_to_contact(self, handle: str, text: str) -> bool:
        """Non-sensitive text to a handle that may not be in the directory (e.g. an escalation contact).

        A directory user is reached as :meth:`send_to_user` does; anyone else through the
        first end-to-end encrypted transport that can open a direct chat with the handle.
        """
        for name, t in self.transports.items():
            if not t.capabilities.end_to_end_encrypted:
                continue
            user = await self.directory.lookup(name, handle)
            if user is not None:
                return await self.send_to_user(user, text, sensitive=False)
        for name, t in self.transports.items():
            if not t.capabilities.end_to_end_encrypted:
                continue
            try:
                await self.send_text(name, await t.direct_chat(handle), text)
            except Exception as exc:  # noqa: BLE001 - try the others
                log.warning("send to a contact via %s failed: %s", name, type(exc).__name__)
                continue
            return True
        return False

    def room_kind(self, transport: str, chat_id: str) -> str | None:
        """'imo', 'coordinator' or 'admin' when the chat is one of the configured rooms."""
        self._refresh_rooms()
        return next((k for k, target in self.rooms.items() if target == (transport, chat_id)), None)

    def _refresh_rooms(self) -> None:
        """Configured rooms a transport resolved after start (created or joined later)."""
        for transport in self.transports.values():
            for kind, room_id in transport.configured_rooms.items():
                self.rooms[kind] = (transport.name, room_id)

    # ------------------------------------------------------------------ workers

    async def run_in_worker(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """CPU-heavy work (screening, pseudonymising) never runs on the event loop."""
        loop = asyncio.get_running_loop()
        if kwargs:
            import functools

            return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))
        return await loop.run_in_executor(self.executor, fn, *args)

    async def run_job(self, name: str, payload: dict[str, Any]) -> None:
        """One-off scheduled job: ``name`` selects a coroutine registered in ``services.jobs``."""
        handler = self.services.jobs.get(name)
        if handler is None:
            log.error("scheduled job %s has no handler; skipped", name)
            return
        await handler(self, payload)

    async def run_sweeps(self) -> None:
        """Run every periodic job once (the scheduler calls the same functions)."""
        for name, sweep in list(self.services.sweeps.items()):
            try:
                await sweep(self)
            except Exception as exc:  # noqa: BLE001 - one failing sweep must not stop the others
                ref = error_reference()
                log_exception_without_content(ref, exc)
                log.error("sweep %s failed ref=%s", name, ref)

    # ------------------------------------------------------------------ incoming

    async def dispatch(self, msg: IncomingMessage) -> asyncio.Task[None] | None:
        """Accept one incoming event; never raises (transports call this from their loops).

        Returns as soon as the event is *accepted*: claimed and stored with its content in
        the durable inbox (storage/inbox.py), in one transaction, so the transport may move
        past it; after a crash the event is handled again from the inbox, and a duplicate
        delivery is refused here. It is then queued in its sender's lane; the returned task
        finishes when it has been handled. Lanes keep one sender's messages in order (a
        dialog's answers cannot overtake each other) while different senders are handled
        concurrently: a transport that does not wait for the task (Matrix) goes straight on
        with its next sync. ``None`` means a duplicate (or nothing to do).
        """
        try:
            key = await self.inbox.accept(msg.key, _payload(msg), [a.data for a in msg.attachments])
        except Exception as exc:  # noqa: BLE001 - e.g. the database is unreachable
            await self._apologise(msg, exc)
            return None
        if key is None:
            log.debug("duplicate event ignored")
            return None
        return self._enqueue(msg, _Handling(key, rerun=False))

    def _enqueue(self, msg: IncomingMessage, handling: _Handling) -> asyncio.Task[None]:
        lane = f"{msg.transport}:{msg.sender_id}"
        previous = self._lanes.get(lane)
        task = asyncio.create_task(self._handle_in_lane(previous, msg, handling))
        self._lanes[lane] = task
        self._inflight.add(task)

        def _done(t: asyncio.Task[None], lane: str = lane) -> None:
            self._inflight.discard(t)
            if self._lanes.get(lane) is t:
                del self._lanes[lane]

        task.add_done_callback(_done)
        return task

    async def _resume_pending(self) -> None:
        """Queue every accepted-but-unfinished event again (after a crash or an interrupted stop)."""
        for item in await self.inbox.pending():
            msg = _message_from(item.payload, item.attachments)
            if item.attempts >= MAX_ATTEMPTS:
                log.error("event given up after %d interrupted handlings", item.attempts)
                await self._apologise(msg, RuntimeError("gave up after repeated interrupted handlings"))
                await self.inbox.finish(item.key)
                continue
            log.info("resuming an event accepted before the restart (%d handlings started)", item.attempts)
            self._enqueue(msg, _Handling(item.key, rerun=True))

    async def handle(self, msg: IncomingMessage) -> None:
        """Accept and wait until handled (tests and callers that need the outcome)."""
        task = await self.dispatch(msg)
        if task is not None:
            await task

    async def _handle_in_lane(
        self, previous: asyncio.Task[None] | None, msg: IncomingMessage, handling: _Handling
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        await self._ready.wait()
        HANDLING.set(handling)  # this task's own context: numbers the messages it sends
        try:
            await self.inbox.begin(handling.key)
        except Exception as exc:  # noqa: BLE001 - counting is best effort; the handling goes on
            log.warning("could not count a handling (%s)", type(exc).__name__)
        try:
            await self._dispatch(msg)
        except Refused:
            pass
        except Exception as exc:  # noqa: BLE001 - the error boundary
            await self._apologise(msg, exc)
        # Only a handling that ran to its end is finished; a cancelled one (stop, crash)
        # stays in the inbox and runs again on the next start.
        try:
            await self.inbox.finish(handling.key)
        except Exception as exc:  # noqa: BLE001 - it will simply be handled again (idempotently)
            log.warning("could not mark an event finished (%s); it will be resumed", type(exc).__name__)

    async def _apologise(self, msg: IncomingMessage, exc: BaseException) -> None:
        ref = error_reference()
        log_exception_without_content(ref, exc)
        try:
            await self.send_text(
                msg.transport,
                msg.chat_id,
                f"Sorry, something went wrong on my side and I could not finish that. "
                f"Nothing you sent before was lost. If it keeps happening, tell the IMO this reference: {ref}",
                reply_to=msg.event_id,
            )
        except Exception:  # noqa: BLE001
            log.error("could not deliver the apology for ref=%s", ref)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for in-flight messages (bounded), then cancel what is left."""
        pending = set(self._inflight)
        if not pending:
            return
        _done, still = await asyncio.wait(pending, timeout=timeout)
        for task in still:
            task.cancel()
        if still:
            await asyncio.gather(*still, return_exceptions=True)

    async def _dispatch(self, msg: IncomingMessage) -> None:
        await self.router.route(Context(self, msg))


@dataclass
class _Handling:
    """The event a lane task is handling: its inbox key and the count of messages sent."""

    key: str
    rerun: bool
    counter: itertools.count[int] = field(default_factory=itertools.count)


#: Set in each lane task's own context (asyncio copies contexts into tasks).
HANDLING: ContextVar[_Handling | None] = ContextVar("clusterbot_handling", default=None)


def _payload(msg: IncomingMessage) -> dict[str, Any]:
    """What the inbox keeps of an event (sealed) to handle it again after a crash."""
    return {
        "transport": msg.transport,
        "chat_id": msg.chat_id,
        "sender_id": msg.sender_id,
        "event_id": msg.event_id,
        "dedupe_id": msg.dedupe_id,
        "text": msg.text,
        "encrypted": msg.encrypted,
        "direct": msg.direct,
        "reply_to": msg.reply_to,
        "timestamp": msg.timestamp.isoformat(),
        "files": [[a.filename, a.mimetype] for a in msg.attachments],
    }


def _message_from(payload: dict[str, Any], data: list[bytes]) -> IncomingMessage:
    from datetime import datetime

    from bot.events import Attachment

    files = tuple(
        Attachment(filename=name, mimetype=mime, data=blob)
        for (name, mime), blob in zip(payload["files"], data, strict=True)
    )
    return IncomingMessage(
        transport=payload["transport"],
        chat_id=payload["chat_id"],
        sender_id=payload["sender_id"],
        event_id=payload["event_id"],
        dedupe_id=payload.get("dedupe_id"),
        text=payload["text"],
        attachments=files,
        encrypted=payload["encrypted"],
        direct=payload["direct"],
        reply_to=payload["reply_to"],
        timestamp=datetime.fromisoformat(payload["timestamp"]),
    )
