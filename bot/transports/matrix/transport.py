"""The Matrix transport: matrix-nio (vodozemac) with end-to-end encryption.

Why the bot runs its own sync loop instead of ``AsyncClient.sync_forever``:

* the sync token is persisted only *after* every event of a batch was handed to the core,
  so a crash redelivers (the core is idempotent by event id) but never loses a message;
* an exception in a handler or a network error never ends the loop; the loop backs off
  and reconnects by itself;
* the device-trust policy runs after every key query and before every send, so nio never
  shares a room key with a device the policy has not approved.

This module keeps the sync loop, the order of what one sync implies, and sending. The
rest is split along its seams, each part taking a narrow host (this transport, seen
through a small protocol) or plain values:

* ``login.py``: login/restore and the store-vs-server key check;
* ``inbound.py``: pure conversion of nio events to :class:`~bot.events.IncomingMessage`;
* ``devices.py``: device trust, ``!devices``, withheld notices, emoji-verified devices;
* ``rooms.py``: configured (protected) rooms, invitations, the bot's private chats;
* ``undecryptable.py``: events waiting for their room key;
* ``delivery.py``: handing messages to the core beside the sync loop, committing tokens;
* ``sending.py``: the encrypted upload and the room send that settles device trust first.

Logs carry room ids, event ids, user ids and device ids only, never message text or
file names.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from nio import (
    AsyncClient,
    DownloadError,
    KeyVerificationEvent,
    MegolmEvent,
    SyncError,
    SyncResponse,
    UnknownToDeviceEvent,
)
from nio.crypto import OlmDevice

from bot.events import Attachment, IncomingMessage, OutgoingFile
from bot.transport import Capabilities, TransportError, TransportHost
from bot.transports.matrix.admission import Admission
from bot.transports.matrix.crosssign import CrossSigningKeys
from bot.transports.matrix.delivery import DISPATCH_CONCURRENCY, Deliveries
from bot.transports.matrix.devices import Devices
from bot.transports.matrix.directs import DirectChats
from bot.transports.matrix.identity import ensure_identity
from bot.transports.matrix.inbound import (
    attachment_from,
    declared_size,
    is_file_event,
    new_events,
    to_incoming,
)
from bot.transports.matrix.login import (
    RESET_HINT,
    SYNC_TIMEOUT_MS,
    announce_identity_reset,
    authed_request,
    check_device_keys,
    login_or_restore,
    make_client,
    password_login,
)
from bot.transports.matrix.notices import UNDECRYPTABLE_NOTICE
from bot.transports.matrix.rooms import (
    STRANGER_INVITES_PER_HOUR,
    Invitations,
    ProtectedRooms,
    create_direct_room,
    guard_direct_chat,
)
from bot.transports.matrix.sas import SasVerifier
from bot.transports.matrix.sending import send_settled, sync_filter, upload_file_content
from bot.transports.matrix.state import StoreMismatchError, load_sync_token
from bot.transports.matrix.trust import DeviceTrust
from bot.transports.matrix.undecryptable import Undecryptable

if TYPE_CHECKING:
    from bot.config import MatrixConfig

__all__ = [
    "DISPATCH_CONCURRENCY",
    "MAX_BACKOFF_SECONDS",
    "RESET_HINT",
    "STRANGER_INVITES_PER_HOUR",
    "SYNC_TIMEOUT_MS",
    "MatrixTransport",
    "StoreMismatchError",
    "authed_request",
    "make_client",
    "password_login",
]

log = logging.getLogger(__name__)

IsKnownUser = Callable[[str], Awaitable[bool]]
IsAdmin = Callable[[str], Awaitable[bool]]
Audit = Callable[[str, str, "str | None", str], Awaitable[None]]
NotifyAdmins = Callable[[str], Awaitable[None]]

MAX_BACKOFF_SECONDS = 15.0


@dataclass
class _Batch:
    """What one sync delivered, in order: messages, with the file event to fetch (or None)."""

    messages: list[tuple[IncomingMessage, Any]] = field(default_factory=list)


class MatrixTransport:
    """The :class:`bot.transport.Transport` for Matrix; see the module docstring.

    The application's side comes in two parts: the :class:`~bot.transport.TransportHost`
    given to :meth:`start` (incoming messages), and the callables given here (directory,
    audit, admin notices), which the device, room and verification parts use.

    ``rate_limit_messages``: the transport limits, per sender, what it answers by itself
    (admission.py), which never reaches the core. With True (the default, for a bare
    transport) it also limits ordinary messages; an application that limits them itself
    (``bot/app.py``) passes False, so a message meets one limit and one notice.
    """

    name = "matrix"
    capabilities = Capabilities(end_to_end_encrypted=True)

    #: The stranger-invitation rule (rooms.py), reachable here for tests/core/test_stranger_invites.py.
    _stranger_may_invite = Invitations._stranger_may_invite

    def __init__(
        self,
        config: MatrixConfig,
        *,
        is_known_user: IsKnownUser,
        audit: Audit,
        notify_admins: NotifyAdmins | None = None,
        is_admin: IsAdmin | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_file_bytes: int = 50 * 1024 * 1024,
        rate_limit_messages: bool = True,
    ) -> None:
        self.config = config
        self._is_known_user = is_known_user
        self._audit = audit
        self._notify_admins = notify_admins
        self._clock = clock
        self._max_file_bytes = max_file_bytes
        self._client: AsyncClient | None = None
        self.identity: CrossSigningKeys | None = None  # the bot's cross-signing keys, once started
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._token: str | None = None
        self._synced = asyncio.Event()
        self._sync_count = 0
        self._directs: DirectChats | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._joined_in_sync = False
        self._send_lock: dict[str, asyncio.Lock] = {}
        self.connected = False
        self.devices = Devices(self, config, audit=audit, notify_admins=notify_admins)
        self.protected = ProtectedRooms(self, config, notify_admins)
        self._invites = Invitations(lambda: self.client, is_known_user=is_known_user, audit=audit)
        self._undecryptable = Undecryptable(config.store_dir, config.undecryptable_timeout_seconds, clock)
        # through self._download at call time (a test wraps it)
        self._deliveries = Deliveries(
            config.store_dir, download=lambda event: self._download(event), notice=self.notice
        )
        # Emoji (SAS) verification; answered by an admin (is_admin) in the admin room.
        self.sas = SasVerifier(self, is_known_user=is_known_user, is_admin=is_admin, audit=audit, clock=clock)
        self._sas_ready = False
        self._admission = Admission(
            self,
            config,
            devices=self.devices,
            sas=self.sas,
            audit=audit,
            clock=clock,
            rate_limit_messages=rate_limit_messages,
        )

    # ------------------------------------------------------------------ lifecycle --

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise TransportError("matrix transport is not started")
        return self._client

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def device_id(self) -> str:
        return str(self.client.device_id)

    @property
    def _trust(self) -> DeviceTrust | None:
        """The device-trust store, once started (read by tests)."""
        return self.devices.loaded

    async def start(self, host: TransportHost) -> None:
        """Log in or restore, check the store, do the first sync, then run the loop.

        A homeserver that cannot be reached yet is waited for, with backoff (the bot may
        start before its homeserver after a power cut); a wrong or mismatched store is not
        retried but reported (StoreMismatchError), as is a refused login (TransportError).
        """
        backoff = 1.0
        while True:
            try:
                await self._start_once(host)
                return
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                if self._stopping:
                    raise
                log.warning(
                    "matrix: homeserver unreachable at start (%s); retrying in %.0fs", type(exc).__name__, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                if self._stopping:
                    raise TransportError("matrix: stopped before the homeserver could be reached") from None

    async def _start_once(self, host: TransportHost) -> None:
        self._deliveries.start(host)
        self._stopping = False
        self._client = await login_or_restore(self.config)
        self.sas.reset()
        self._sas_ready = False
        self._client.add_to_device_callback(self.sas.on_to_device, (KeyVerificationEvent, UnknownToDeviceEvent))
        try:
            await self._prepare()
        except BaseException:
            await self._client.close()
            self._client = None
            raise
        self._task = asyncio.create_task(self._sync_loop(), name="matrix-sync")
        log.info("matrix: started as %s device %s", self.user_id, self.device_id)

    async def _prepare(self) -> None:
        """Everything between login and the sync loop, in order."""
        cfg = self.config
        self.devices.load()
        await check_device_keys(self.client, cfg, self.http)
        self.identity = await ensure_identity(
            self.http,
            user_id=self.user_id,
            device_id=self.device_id,
            store_dir=cfg.store_dir,
            passphrase=cfg.pickle_key.reveal(),
            password=cfg.password.reveal() if cfg.password else None,
        )
        self._directs = DirectChats(
            cfg.store_dir, self.user_id, self.http, self._create_direct_room, self._notify_admins
        )
        await self.devices.refresh_identities(set(self.client.device_store.users))
        self._token = load_sync_token(cfg.store_dir)
        self._undecryptable.load()
        await self._first_sync()
        if self._joined_in_sync:  # rooms joined at start appear in the next sync: take it now
            await self._catch_up_sync()
        await self.protected.resolve()
        await announce_identity_reset(cfg, self._notify_admins)
        self._sas_ready = True  # the admin room is known now
        await self._process_sas()

    async def stop(self) -> None:
        """Stop syncing and close HTTP; never ``logout()`` (that would destroy the device keys)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                pass
            self._task = None
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._client is not None:
            await self._deliveries.finish()
            self._undecryptable.save()
            await self._client.close()
            self._client = None
        self.connected = False

    async def http(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Status and JSON body of an authenticated request (cross-signing needs the 401 body)."""
        return await authed_request(self.client, method, path, body)

    _http = http  # the former name (tests and older callers)

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the sync loop: it may need a new private chat, which appears only
        after the next sync (and the caller may be the sync handling itself)."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---------------------------------------------------------------------- sync --

    _sync_filter = staticmethod(sync_filter)

    async def _first_sync(self) -> None:
        """Catch up. Without a saved token, all existing history is skipped (never handled)."""
        fresh = self._token is None
        resp = await self.client.sync(
            timeout=0, since=self._token, full_state=True, sync_filter=self._sync_filter(1 if fresh else 100)
        )
        if not isinstance(resp, SyncResponse):
            raise TransportError(f"matrix: first sync failed: {getattr(resp, 'status_code', resp)}")
        await self._after_sync(resp, handle_timeline=not fresh)
        self.connected = True

    async def _catch_up_sync(self) -> None:
        self._joined_in_sync = False
        resp = await self.client.sync(timeout=0, since=self._token, sync_filter=self._sync_filter(100))
        if isinstance(resp, SyncResponse):
            await self._after_sync(resp, handle_timeline=True)

    async def _sync_loop(self) -> None:
        backoff = 1.0
        while not self._stopping:
            try:
                resp = await self.client.sync(
                    timeout=self._poll_timeout_ms(), since=self._token, sync_filter=self._sync_filter(100)
                )
                if isinstance(resp, SyncError):
                    raise TransportError(f"sync error {resp.status_code}")
                if not self.connected:
                    log.info("matrix: reconnected to the homeserver")
                self.connected = True
                backoff = 1.0
                await self._after_sync(resp, handle_timeline=True)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, aiohttp.ClientError, OSError, TransportError) as exc:
                self.connected = False
                wait = backoff * (0.8 + 0.4 * random.random())
                log.warning("matrix: homeserver unreachable (%s); retrying in %.1fs", type(exc).__name__, wait)
                await asyncio.sleep(wait)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            except Exception:
                log.exception("matrix: unexpected error in the sync loop; continuing")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _poll_timeout_ms(self) -> int:
        """Long-poll, but wake up in time to give up on an undecryptable event or a verification."""
        deadlines = self._undecryptable.deadlines()
        if self.sas.next_deadline is not None:
            deadlines.append(self.sas.next_deadline)
        if not deadlines:
            return SYNC_TIMEOUT_MS
        soonest = min(deadlines) - self._clock()
        return int(min(SYNC_TIMEOUT_MS, max(0.5, soonest + 0.1) * 1000))

    async def _after_sync(self, resp: SyncResponse, *, handle_timeline: bool) -> None:
        """Everything one sync response implies, ending with persisting its token."""
        await self._crypto_housekeeping()  # sends nio's queued SAS replies before ours
        if await self._invites.handle(resp):
            self._joined_in_sync = True
        joined, self._joined_in_sync = self._joined_in_sync, False
        if self._sas_ready:
            await self.protected.after_sync(resp.rooms.join.keys(), joined=joined, now=self._clock())
        await self._process_sas()
        batch = _Batch()
        if handle_timeline:
            for room_id, info in resp.rooms.join.items():
                for event in new_events(info.timeline.events, self.user_id):
                    await self._collect(room_id, event, batch)

        async def decrypted(room_id: str, event: Any) -> None:
            await self._collect(room_id, event, batch)

        await self._undecryptable.retry(self.client, decrypted, self._gave_up_decrypting)
        self._token = resp.next_batch  # the next sync continues from here at once ...
        self._deliveries.commit(resp.next_batch, batch.messages)  # ... saved once all were accepted
        self._undecryptable.save()
        self._sync_count += 1
        self._synced.set()
        self._synced = asyncio.Event()

    async def _crypto_housekeeping(self) -> None:
        client = self.client
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            assert client.olm is not None
            queried = set(client.olm.users_for_key_query)
            await client.keys_query()
            await self.devices.refresh_identities(queried)
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        self.devices.apply_policy()

    async def _process_sas(self) -> None:
        if not self._sas_ready:
            return  # first sync: the admin room is not resolved yet; the events stay queued
        try:
            await self.sas.process()
        except Exception:
            log.exception("matrix: emoji verification handling failed")

    async def wait_synced(self, timeout: float = 30.0) -> None:
        """Wait for the next completed sync (used by tests, the demo and the bench)."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    # ----------------------------------------------------------------- incoming --

    async def _collect(self, room_id: str, event: Any, batch: _Batch) -> None:
        if getattr(event, "sender", None) == self.user_id:
            return
        if isinstance(event, MegolmEvent):
            await self._undecryptable.add(self.client, room_id, event)
            return
        if await self.sas.on_room_event(room_id, event):
            return  # Element's "Verify user" (in-room emoji verification): sas_inroom.py
        try:
            msg = self._to_incoming(room_id, event)
        except Exception:
            log.exception("matrix: could not convert event %s in %s", getattr(event, "event_id", "?"), room_id)
            return
        if msg is None:
            return
        is_file = is_file_event(event)
        if is_file and not await self._file_acceptable(msg, event):
            return
        if await self._admission.admit(msg, event):
            batch.messages.append((msg, event if is_file else None))

    def _to_incoming(self, room_id: str, event: Any) -> IncomingMessage | None:
        room = self.client.rooms.get(room_id)
        if room is None:
            return None
        return to_incoming(
            event,
            room_id=room_id,
            room_encrypted=bool(room.encrypted),
            direct=self._is_direct(room_id),
            transport=self.name,
        )

    def _is_direct(self, room_id: str) -> bool:
        """Only the bot's own private chats count as direct (the core delivers files there)."""
        return self._directs is not None and self._directs.is_ours(room_id)

    async def _file_acceptable(self, msg: IncomingMessage, event: Any) -> bool:
        """Download only from senders in the directory, and only within the size limit."""
        if not await self._is_known_user(msg.sender_id):
            log.info("matrix: file event %s from a user outside the directory not downloaded", msg.event_id)
            await self._audit(msg.sender_id, "matrix.file", None, "denied")
            return False
        size = declared_size(event)
        if size is not None and size > self._max_file_bytes:
            limit = self._max_file_bytes // (1024 * 1024)
            await self.notice(
                msg.chat_id,
                f"That file is {size / 1024 / 1024:.0f} MB; the limit is {limit} MB. I did not "
                "download or keep it. Split it, or ask the IMO for another way to share it.",
                reply_to=msg.event_id,
            )
            return False
        return True

    async def _download(self, event: Any) -> Attachment:
        """Fetch a file; encrypted ones are decrypted and their SHA-256 checked by nio."""
        resp = await self.client.download(mxc=event.url)
        if isinstance(resp, DownloadError):
            raise TransportError(f"download failed for event {event.event_id}: {resp.status_code}")
        return attachment_from(event, resp.body)

    async def _gave_up_decrypting(self, room_id: str, event_id: str) -> None:
        await self.notice(room_id, UNDECRYPTABLE_NOTICE, reply_to=event_id)

    # ----------------------------------------------------------------- outgoing --

    async def is_encrypted(self, chat_id: str) -> bool:
        room = self.client.rooms.get(chat_id)
        return bool(room and room.encrypted)

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.notice", "body": text}
        return await self._send(chat_id, content, reply_to)

    async def send_file(self, chat_id: str, file: OutgoingFile, *, reply_to: str | None = None) -> str:
        """Upload encrypted (``encrypt=True``) and send an ``m.file`` with the ``file`` key info."""
        if not await self.is_encrypted(chat_id):
            log.warning("matrix: refused to send a file to unencrypted room %s", chat_id)
            raise TransportError("refusing to send a file to a room that is not end-to-end encrypted")
        content = await upload_file_content(self.client, file)
        return await self._send(chat_id, content, reply_to)

    async def delete_message(self, chat_id: str, message_id: str) -> None:
        await self.client.room_redact(chat_id, message_id)

    async def _send(self, chat_id: str, content: dict[str, Any], reply_to: str | None, *, notice: bool = False) -> str:
        """Send through every outgoing check; ``notice`` marks the transport's own trust notices,
        which may reach a user whose new identity is unconfirmed (nothing else may)."""
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        await self.protected.guard(chat_id)
        await guard_direct_chat(self.client, self._directs, self.devices.loaded, chat_id, notice=notice)
        if chat_id not in self.client.rooms:
            await self.wait_for_room(chat_id)
        lock = self._send_lock.setdefault(chat_id, asyncio.Lock())
        return await send_settled(self.client, self.devices, lock, chat_id, content)

    async def notice(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        """The transport's own notices (never protected content); failures are logged only."""
        try:
            await self._send(chat_id, {"msgtype": "m.notice", "body": text}, reply_to, notice=True)
        except Exception:
            log.exception("matrix: could not send a notice to %s", chat_id)

    _safe_send_text = notice  # the former name

    async def notice_to_user(self, user_id: str, text: str) -> None:
        """A transport notice in the user's private chat; raises when it cannot be sent."""
        room_id = await self.direct_chat(user_id)
        await self._send(room_id, {"msgtype": "m.notice", "body": text}, None, notice=True)

    def tell_user_later(self, user_id: str, text: str) -> None:
        """A transport notice for the user's private chat, sent in the background."""

        async def tell() -> None:
            try:
                await self.notice_to_user(user_id, text)
            except Exception:
                log.exception("matrix: could not send a notice to %s", user_id)

        self.in_background(tell())

    async def wait_for_room(self, room_id: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while room_id not in self.client.rooms:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportError(f"matrix: room {room_id} is not known to the bot")
            try:
                await asyncio.wait_for(self._synced.wait(), remaining)
            except TimeoutError:
                pass

    _wait_for_room = wait_for_room  # the former name

    # --------------------------------------------------------- rooms and trust --

    async def direct_chat(self, user_id: str) -> str:
        """The user's private chat: one the bot created, still exactly {bot, user} (see directs.py)."""
        assert self._directs is not None
        return await self._directs.chat_for(user_id)

    async def _create_direct_room(self, user_id: str) -> str:
        return await create_direct_room(self.client, user_id, self.wait_for_room)

    @property
    def configured_rooms(self) -> dict[str, str]:
        """kind ('imo', 'coordinator', 'admin') -> resolved room id, for the core's room map."""
        return self.protected.configured

    def admin_room_id(self) -> str | None:
        """The resolved admin room (where emoji verifications are compared), if configured."""
        return self.protected.admin_room_id()

    async def trust_sas_verified(self, device: OlmDevice, master: str | None = None) -> None:
        """A device passed emoji verification: see :meth:`Devices.trust_sas_verified`."""
        await self.devices.trust_sas_verified(device, master)
