"""The Matrix transport: matrix-nio (vodozemac) with end-to-end encryption.

Why the bot runs its own sync loop instead of ``AsyncClient.sync_forever``:

* the sync token is persisted only *after* every event of a batch was handed to the core,
  so a crash redelivers (the core is idempotent by event id) but never loses a message;
* an exception in a handler or a network error never ends the loop; the loop backs off
  and reconnects by itself;
* the device-trust policy runs after every key query and before every send, so nio never
  shares a room key with a device the policy has not approved.

Logs carry room ids, event ids, user ids and device ids only, never message text or
file names.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadError,
    InviteMemberEvent,
    JoinError,
    KeyVerificationEvent,
    LocalProtocolError,
    LoginResponse,
    MegolmEvent,
    RoomCreateError,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessageMedia,
    RoomMessageText,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    ToDeviceMessage,
    UnknownToDeviceEvent,
    UploadResponse,
    WhoamiResponse,
)
from nio.crypto import OlmDevice
from nio.crypto.attachments import decrypt_attachment
from nio.exceptions import EncryptionError, OlmUnverifiedDeviceError

from bot.events import Attachment, IncomingMessage, OutgoingFile
from bot.transport import OUTGOING_TXN, Capabilities, MessageCallback, TransportError
from bot.transports.matrix.crosssign import (
    CrossSigningKeys,
    device_signed_by,
    fingerprint,
    identity_from_query,
)
from bot.transports.matrix.directs import DirectChats
from bot.transports.matrix.identity import ensure_identity, query_keys, upload_signatures
from bot.transports.matrix.notices import (
    PLAIN_EVENT_NOTICE,
    RATE_LIMIT_NOTICE,
    UNDECRYPTABLE_NOTICE,
    identity_changed_notice,
    refusal_for,
    unsigned_device_notice,
)
from bot.transports.matrix.ratelimit import RateLimiter
from bot.transports.matrix.sas import SasVerifier
from bot.transports.matrix.state import (
    IDENTITY_RESET_NOTICE_FILE,
    PENDING_FILE,
    Credentials,
    StoreMismatchError,
    crypto_db_path,
    ensure_store_dir,
    load_credentials,
    load_sync_token,
    read_json,
    save_credentials,
    save_sync_token,
    write_json,
)
from bot.transports.matrix.trust import TOFU, DeviceChange, DeviceTrust, UserKeys, Verdict

if TYPE_CHECKING:
    from bot.config import MatrixConfig

log = logging.getLogger(__name__)
STRANGER_INVITES_PER_HOUR = 10  # private chats opened by people outside the directory (to `!join`)

IsKnownUser = Callable[[str], Awaitable[bool]]
IsAdmin = Callable[[str], Awaitable[bool]]
Audit = Callable[[str, str, "str | None", str], Awaitable[None]]
NotifyAdmins = Callable[[str], Awaitable[None]]

SYNC_TIMEOUT_MS = 30_000
MAX_BACKOFF_SECONDS = 15.0
DISPATCH_CONCURRENCY = 16
RESET_HINT = "run `clusterbot matrix reset-device --config <file>` to log in as a new device and delete the old one"

_REPLY_FALLBACK = re.compile(r"\A(?:>[^\n]*\n)+\n", re.MULTILINE)


@dataclass
class _Pending:
    """An event that could not be decrypted yet, waiting for its room key."""

    event: MegolmEvent
    room_id: str
    deadline: float


@dataclass
class _Batch:
    """What one sync delivered, in order: messages, with the file event to fetch (or None)."""

    messages: list[tuple[IncomingMessage, Any]] = field(default_factory=list)


async def authed_request(client: AsyncClient, method: str, path: str,
                         body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """One authenticated JSON request outside nio's wrappers; returns (status, body)."""
    async with aiohttp.ClientSession() as session, session.request(
        method, client.homeserver + path, json=body,
        headers={"Authorization": f"Bearer {client.access_token}"},
        timeout=aiohttp.ClientTimeout(total=30),
    ) as resp:
        data = await resp.json(content_type=None)
        return resp.status, dict(data) if isinstance(data, dict) else {}


def make_client(config: MatrixConfig, creds: Credentials | None = None) -> AsyncClient:
    """An AsyncClient whose store uses our pickle key, never nio's ``DEFAULT_KEY``."""
    key = config.pickle_key.reveal()
    if not key or key == "DEFAULT_KEY":
        raise ValueError("matrix.pickle_key must be set to a secret passphrase")
    client_config = AsyncClientConfig(
        encryption_enabled=True,
        store_sync_tokens=False,  # we persist the token ourselves, after handling a batch
        pickle_key=key,
        max_timeouts=2,
        backoff_factor=0.5,
        max_timeout_retry_wait_time=5,
        request_timeout=SYNC_TIMEOUT_MS / 1000 + 15,
    )
    store_dir = ensure_store_dir(config.store_dir)
    return AsyncClient(
        creds.homeserver if creds else config.homeserver,
        creds.user_id if creds else config.user_id,
        device_id=creds.device_id if creds else None,
        store_path=str(store_dir),
        config=client_config,
    )


async def password_login(client: AsyncClient, config: MatrixConfig) -> Credentials:
    """Log in with the password as a *new* device and persist the credentials."""
    if config.password is None:
        raise TransportError("matrix: no credentials in store_dir and no password configured")
    resp = await client.login(config.password.reveal(), device_name=config.device_name)
    if not isinstance(resp, LoginResponse):
        raise TransportError(f"matrix: login failed: {getattr(resp, 'status_code', resp)}")
    creds = Credentials(resp.user_id, resp.device_id, resp.access_token, config.homeserver)
    save_credentials(config.store_dir, creds)
    log.info("matrix: logged in as %s, new device %s", creds.user_id, creds.device_id)
    return creds


class MatrixTransport:
    """The :class:`bot.transport.Transport` for Matrix; see the module docstring."""

    name = "matrix"
    capabilities = Capabilities(end_to_end_encrypted=True)

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
    ) -> None:
        self.config = config
        self._is_known_user = is_known_user
        self._stranger_invites: list[tuple[float, str]] = []
        self._audit = audit
        self._notify_admins = notify_admins
        self._clock = clock
        self._max_file_bytes = max_file_bytes
        self._chains: dict[str, asyncio.Task[None]] = {}  # last delivery per sender (keeps order)
        self._commits: deque[tuple[str, list[asyncio.Task[None]]]] = deque()  # token, its deliveries
        self._client: AsyncClient | None = None
        self._trust: DeviceTrust | None = None
        self.identity: CrossSigningKeys | None = None  # the bot's cross-signing keys, once started
        self._on_message: MessageCallback | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._token: str | None = None
        self._pending: dict[str, _Pending] = {}
        self._limiter = RateLimiter(config.rate_limit_per_minute, clock=clock)
        self._dispatch_sem = asyncio.Semaphore(DISPATCH_CONCURRENCY)
        self._synced = asyncio.Event()
        self._sync_count = 0
        self._directs: DirectChats | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._withheld_sent: dict[str, set[tuple[str, str]]] = {}  # megolm session -> told sessions
        self._protected_rooms: dict[str, str] = {}  # room id -> purpose (imo/coordinator/admin)
        self._refused_rooms: set[str] = set()
        self._missing_told: set[str] = set()  # configured rooms whose absence the admins heard of
        self._joined_in_sync = False
        self._last_recheck = 0.0
        self._resolving = asyncio.Lock()  # admin notices wait until the admin room is resolved
        self._send_lock: dict[str, asyncio.Lock] = {}
        self.connected = False
        # Emoji (SAS) verification; answered by an admin (is_admin) in the admin room.
        self.sas = SasVerifier(self, is_known_user=is_known_user, is_admin=is_admin, audit=audit, clock=clock)
        self._sas_ready = False

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

    async def start(self, on_message: MessageCallback) -> None:
        """Log in or restore, check the store, do the first sync, then run the loop.

        A homeserver that cannot be reached yet is waited for, with backoff (the bot may
        start before its homeserver after a power cut); a wrong or mismatched store is not
        retried but reported (StoreMismatchError), as is a refused login (TransportError).
        """
        backoff = 1.0
        while True:
            try:
                await self._start_once(on_message)
                return
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                if self._stopping:
                    raise
                log.warning("matrix: homeserver unreachable at start (%s); retrying in %.0fs",
                            type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                if self._stopping:
                    raise TransportError("matrix: stopped before the homeserver could be reached") from None

    async def _start_once(self, on_message: MessageCallback) -> None:
        self._on_message = on_message
        self._stopping = False
        self._client = await self._login_or_restore()
        self.sas.reset()
        self._sas_ready = False
        self._client.add_to_device_callback(self.sas.on_to_device, (KeyVerificationEvent, UnknownToDeviceEvent))
        try:
            self._trust = DeviceTrust(self.config.store_dir, self.config.device_trust,
                                      self.user_id, self.device_id)
            await self._check_device_keys()
            self.identity = await ensure_identity(
                self._http, user_id=self.user_id, device_id=self.device_id, store_dir=self.config.store_dir,
                passphrase=self.config.pickle_key.reveal(),
                password=self.config.password.reveal() if self.config.password else None)
            self._directs = DirectChats(self.config.store_dir, self.user_id, self._http,
                                        self._create_direct_room, self._notify_admins)
            await self._refresh_identities(set(self._client.device_store.users))
            self._token = load_sync_token(self.config.store_dir)
            self._load_pending()
            await self._first_sync()
            if self._joined_in_sync:  # rooms joined at start appear in the next sync: take it now
                await self._catch_up_sync()
            await self._resolve_protected_rooms()
            await self._announce_identity_reset()
            self._sas_ready = True  # the admin room is known now
            await self._process_sas()
        except BaseException:
            await self._client.close()
            self._client = None
            raise
        self._task = asyncio.create_task(self._sync_loop(), name="matrix-sync")
        log.info("matrix: started as %s device %s", self.user_id, self.device_id)

    async def _announce_identity_reset(self) -> None:
        """After ``matrix reset-identity``: tell the admin room once what partners will see."""
        path = self.config.store_dir / IDENTITY_RESET_NOTICE_FILE
        notice = read_json(path, None)
        if not notice or self._notify_admins is None:
            return
        try:
            await self._notify_admins(
                f"The bot's Matrix identity was reset by the operator: new master key {notice.get('new')} "
                f"(was {notice.get('old') or 'none'}). Partners' apps will show that the bot's identity "
                "changed; publish the new fingerprint so they can compare it, and verify the bot again.")
        except Exception:
            log.exception("matrix: could not tell the admin room about the identity reset")
            return
        path.unlink(missing_ok=True)

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
            await self._finish_deliveries()
            self._save_pending()
            await self._client.close()
            self._client = None
        self.connected = False

    async def _login_or_restore(self) -> AsyncClient:
        cfg = self.config
        ensure_store_dir(cfg.store_dir)
        creds = load_credentials(cfg.store_dir)
        if creds is not None and creds.user_id != cfg.user_id:
            raise StoreMismatchError(
                f"matrix: store_dir {cfg.store_dir} holds credentials for {creds.user_id}, "
                f"not {cfg.user_id}; use a separate store_dir per account")
        if creds is None:
            if cfg.password is None and cfg.access_token is not None:
                return await self._adopt_access_token()
            client = make_client(cfg)
            try:
                await password_login(client, cfg)
            except BaseException:
                await client.close()
                raise
            return client
        if not crypto_db_path(cfg.store_dir, creds.user_id, creds.device_id).exists():
            raise StoreMismatchError(
                f"matrix: the encryption store for device {creds.device_id} is missing from "
                f"{cfg.store_dir}; the bot cannot decrypt anything with it. {RESET_HINT}.")
        client = make_client(cfg, creds)
        try:
            client.restore_login(creds.user_id, creds.device_id, creds.access_token)
        except Exception as exc:  # vodozemac raises its own pickle exceptions
            await client.close()
            raise StoreMismatchError(
                f"matrix: the encryption store in {cfg.store_dir} cannot be opened with the configured "
                f"pickle_key ({type(exc).__name__}). Restore the right pickle_key; if it is lost, "
                f"{RESET_HINT}.") from exc
        return client

    async def _adopt_access_token(self) -> AsyncClient:
        """First start with only an access token: learn the device id from ``whoami``."""
        cfg = self.config
        assert cfg.access_token is not None
        probe = make_client(cfg)
        probe.access_token = cfg.access_token.reveal()
        who = await probe.whoami()
        await probe.close()
        if not isinstance(who, WhoamiResponse) or not who.device_id:
            raise TransportError("matrix: the configured access token is not valid")
        creds = Credentials(who.user_id, who.device_id, cfg.access_token.reveal(), cfg.homeserver)
        save_credentials(cfg.store_dir, creds)
        client = make_client(cfg, creds)
        client.restore_login(creds.user_id, creds.device_id, creds.access_token)
        return client

    async def _check_device_keys(self) -> None:
        """Refuse to run when the server's keys for our device are not the store's keys.

        That happens when the store was replaced or restored from an old backup: the bot
        would silently fail to decrypt everything, so we stop with instructions instead.
        """
        client = self.client
        who = await client.whoami()
        if not isinstance(who, WhoamiResponse):
            raise StoreMismatchError(
                f"matrix: the homeserver rejected the stored access token for device "
                f"{client.device_id} ({getattr(who, 'status_code', who)}). If the device was "
                f"deleted or logged out, {RESET_HINT}.")
        server_keys = await self._server_device_keys(self.user_id, self.device_id)
        assert client.olm is not None
        ours = client.olm.account.identity_keys["ed25519"]
        if server_keys is None:
            if client.olm.account.shared:
                log.warning("matrix: server has no keys for our device; re-uploading")
                client.olm.account.shared = False
        elif server_keys != ours:
            raise StoreMismatchError(
                f"matrix: the encryption store in {self.config.store_dir} does not match device "
                f"{self.device_id} on the homeserver (different identity key). {RESET_HINT}.")
        if client.should_upload_keys:
            await client.keys_upload()

    async def _server_device_keys(self, user_id: str, device_id: str) -> str | None:
        body = {"device_keys": {user_id: [device_id]}, "timeout": 10000}
        data = await self._raw("POST", "/_matrix/client/v3/keys/query", body)
        device = data.get("device_keys", {}).get(user_id, {}).get(device_id)
        if not device:
            return None
        return device.get("keys", {}).get(f"ed25519:{device_id}")

    async def _raw(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A plain authenticated JSON request for endpoints nio does not wrap the way we need."""
        status, data = await self._http(method, path, body)
        if status >= 400:
            raise TransportError(f"matrix: {method} {path} -> {status} {data.get('errcode')}")
        return data

    async def _http(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Status and JSON body of an authenticated request (cross-signing needs the 401 body)."""
        return await authed_request(self.client, method, path, body)

    # ---------------------------------------------------------------------- sync --

    def _sync_filter(self, timeline_limit: int) -> dict[str, Any]:
        return {"room": {"timeline": {"limit": timeline_limit}, "state": {"lazy_load_members": False}},
                "presence": {"not_types": ["*"]}}

    async def _first_sync(self) -> None:
        """Catch up. Without a saved token, all existing history is skipped (never handled)."""
        fresh = self._token is None
        resp = await self.client.sync(timeout=0, since=self._token, full_state=True,
                                      sync_filter=self._sync_filter(1 if fresh else 100))
        if not isinstance(resp, SyncResponse):
            raise TransportError(f"matrix: first sync failed: {getattr(resp, 'status_code', resp)}")
        await self._after_sync(resp, handle_timeline=not fresh)
        self.connected = True

    async def _recheck_rooms(self) -> None:
        """A configured room appeared, was joined or got encryption: pick it up now."""
        await self._resolve_protected_rooms()
        for room_id, purpose in list(self._protected_rooms.items()):
            if purpose in self._missing_told and await self.is_encrypted(room_id):
                self._missing_told.discard(purpose)
                log.info("matrix: the configured %s %s is ready", purpose.replace("_", " "), room_id)
            elif room_id in self._refused_rooms:
                await self._check_protected(room_id)

    async def _catch_up_sync(self) -> None:
        self._joined_in_sync = False
        resp = await self.client.sync(timeout=0, since=self._token, sync_filter=self._sync_filter(100))
        if isinstance(resp, SyncResponse):
            await self._after_sync(resp, handle_timeline=True)

    async def _sync_loop(self) -> None:
        backoff = 1.0
        while not self._stopping:
            try:
                resp = await self.client.sync(timeout=self._poll_timeout_ms(), since=self._token,
                                              sync_filter=self._sync_filter(100))
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
        deadlines = [p.deadline for p in self._pending.values()]
        if self.sas.next_deadline is not None:
            deadlines.append(self.sas.next_deadline)
        if not deadlines:
            return SYNC_TIMEOUT_MS
        soonest = min(deadlines) - self._clock()
        return int(min(SYNC_TIMEOUT_MS, max(0.5, soonest + 0.1) * 1000))

    async def _after_sync(self, resp: SyncResponse, *, handle_timeline: bool) -> None:
        """Everything one sync response implies, ending with persisting its token."""
        await self._crypto_housekeeping()  # sends nio's queued SAS replies before ours
        await self._handle_invites(resp)
        joined, self._joined_in_sync = self._joined_in_sync, False
        if self._sas_ready and (resp.rooms.join.keys() & self._refused_rooms or (
                self._missing_told and (joined or self._clock() - self._last_recheck > 5))):
            self._last_recheck = self._clock()
            await self._recheck_rooms()
        await self._process_sas()
        batch = _Batch()
        if handle_timeline:
            for room_id, info in resp.rooms.join.items():
                for event in self._new_events(info.timeline.events):
                    await self._collect(room_id, event, batch)
        await self._retry_pending(batch)
        deliveries = [self._queue_delivery(msg, file_event) for msg, file_event in batch.messages]
        self._token = resp.next_batch  # the next sync continues from here at once ...
        self._commits.append((resp.next_batch, deliveries))
        self._commit_tokens()  # ... but it is saved only once every event before it was accepted
        self._save_pending()
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
            await self._refresh_identities(queried)
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await self._apply_trust_policy()

    async def _refresh_identities(self, user_ids: set[str]) -> None:
        """Fetch cross-signing identities and device signatures (nio drops them from keys/query)."""
        assert self._trust is not None
        users = sorted(u for u in user_ids if u != self.user_id)
        for start in range(0, len(users), 100):
            chunk = users[start:start + 100]
            query = await query_keys(self._http, chunk)
            for user_id in chunk:
                identity = identity_from_query(query, user_id)
                devices = (query.get("device_keys") or {}).get(user_id) or {}
                signed = frozenset(
                    (device_id, keys.get("keys", {}).get(f"ed25519:{device_id}", ""))
                    for device_id, keys in devices.items()
                    if identity is not None and device_signed_by(identity, keys))
                self._trust.set_keys(user_id, UserKeys(identity, signed))

    async def _apply_trust_policy(self) -> None:
        assert self._trust is not None
        for change in self._trust.apply(self.client):
            self._in_background(self._report_new_device(change))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the sync loop: it may need a new private chat, which appears only
        after the next sync (and the caller may be the sync handling itself)."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def tell_user_later(self, user_id: str, text: str) -> None:
        """A transport notice for the user's private chat, sent in the background."""
        async def tell() -> None:
            try:
                room_id = await self.direct_chat(user_id)
                await self._send(room_id, {"msgtype": "m.notice", "body": text}, None, notice=True)
            except Exception:
                log.exception("matrix: could not send a notice to %s", user_id)
        self._in_background(tell())

    async def _process_sas(self) -> None:
        if not self._sas_ready:
            return  # first sync: the admin room is not resolved yet; the events stay queued
        try:
            await self.sas.process()
        except Exception:
            log.exception("matrix: emoji verification handling failed")

    def admin_room_id(self) -> str | None:
        """The resolved admin room (where emoji verifications are compared), if configured."""
        return next((rid for rid, purpose in self._protected_rooms.items() if purpose == "admin_room"), None)

    async def trust_sas_verified(self, device: OlmDevice, master: str | None = None) -> None:
        """A device passed emoji verification: trust it like an admin-trusted one (persisted).

        ``master`` is the owner's master key when the verification's MAC covered it (Element's
        "Verify user"). Only then, and when it is the current identity that signed the device,
        is the identity verified too: pinned as verified and signed with the bot's user-signing
        key, so the partner's client shows the bot as having verified them. A device-only
        verification never pins an identity: whoever replaced an identity could have signed
        the real device's key with it.
        """
        assert self._trust is not None
        self._trust.trust(device.user_id, device.id, device.ed25519)
        keys = self._trust.keys.get(device.user_id)
        if (master is not None and keys is not None and keys.identity is not None
                and keys.identity.master == master and (device.id, device.ed25519) in keys.signed):
            self._trust.confirm_identity(self.client, device.user_id, keys.identity.master, verified=True)
            await self._sign_user(device.user_id)
        await self._apply_trust_policy()

    async def _sign_user(self, user_id: str) -> None:
        """Sign the user's (verified) master key with our user-signing key."""
        if self.identity is None:
            return
        query = await query_keys(self._http, [user_id])
        identity = identity_from_query(query, user_id)
        assert self._trust is not None
        if identity is None or identity.master != self._trust.pinned(user_id):
            return
        signed = self.identity.sign_user(self.user_id, identity.master_obj)
        try:
            await upload_signatures(self._http, {user_id: {identity.master: signed}})
            log.info("matrix: signed the verified identity of %s", user_id)
        except TransportError as exc:
            log.warning("matrix: could not sign the identity of %s: %s", user_id, exc)

    async def wait_synced(self, timeout: float = 30.0) -> None:
        """Wait for the next completed sync (used by tests, the demo and the bench)."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    def _new_events(self, events: list[Any]) -> list[Any]:
        """Drop events from before the bot joined (history it was never meant to act on)."""
        start = 0
        for index, event in enumerate(events):
            if (isinstance(event, RoomMemberEvent) and event.state_key == self.user_id
                    and event.membership == "join" and event.prev_membership != "join"):
                start = index + 1
        return events[start:]

    # ------------------------------------------------------------------ invites --

    async def _handle_invites(self, resp: SyncResponse) -> None:
        for room_id, info in resp.rooms.invite.items():
            invite = next((e for e in info.invite_state
                           if isinstance(e, InviteMemberEvent) and e.state_key == self.user_id
                           and e.membership == "invite"), None)
            inviter = invite.sender if invite is not None else None
            known = inviter is not None and await self._is_known_user(inviter)
            if inviter and not known and self._stranger_may_invite(inviter, invite):
                # someone outside the directory opening a private chat: they may ask to `!join`
                # (the only thing the core lets a stranger do); nothing else of theirs acts
                result = await self.client.join(room_id)
                if isinstance(result, JoinError):
                    log.warning("matrix: joining %s failed: %s", room_id, result.status_code)
                    continue
                self._joined_in_sync = True
                await self._audit(inviter, "matrix.invite.stranger", room_id, "allowed")
                continue
            if inviter and known:
                result = await self.client.join(room_id)
                if isinstance(result, JoinError):
                    log.warning("matrix: joining %s failed: %s", room_id, result.status_code)
                    continue
                log.info("matrix: joined %s on invitation by %s", room_id, inviter)
                self._joined_in_sync = True
                await self._audit(inviter, "matrix.invite", room_id, "allowed")
            else:
                await self.client.room_leave(room_id)
                log.warning("matrix: rejected invitation to %s from unknown user %s", room_id, inviter)
                await self._audit(inviter or "unknown", "matrix.invite", room_id, "denied")

    def _stranger_may_invite(self, inviter: str, invite: Any) -> bool:
        """A direct-chat invitation (is_direct) from someone outside the directory, at most one per
        inviter and STRANGER_INVITES_PER_HOUR overall an hour: enough to ask to join, too few to
        fill the bot with rooms."""
        if not (getattr(invite, "content", None) or {}).get("is_direct"):
            return False
        now = time.monotonic()
        recent = [(t, who) for t, who in self._stranger_invites if now - t < 3600]
        self._stranger_invites = recent
        if len(recent) >= STRANGER_INVITES_PER_HOUR or any(who == inviter for _t, who in recent):
            return False
        self._stranger_invites.append((now, inviter))
        return True

    # ----------------------------------------------------------------- incoming --

    async def _collect(self, room_id: str, event: Any, batch: _Batch) -> None:
        if getattr(event, "sender", None) == self.user_id:
            return
        if isinstance(event, MegolmEvent):
            await self._undecryptable(room_id, event)
            return
        if await self.sas.on_room_event(room_id, event):
            return  # Element's "Verify user" (in-room emoji verification): sas_inroom.py
        try:
            msg = await self._to_incoming(room_id, event)
        except Exception:
            log.exception("matrix: could not convert event %s in %s", getattr(event, "event_id", "?"), room_id)
            return
        if msg is None:
            return
        is_file = isinstance(event, (RoomEncryptedMedia, RoomMessageMedia))
        if is_file and not await self._file_acceptable(msg, event):
            return
        if await self._admit(msg, event):
            batch.messages.append((msg, event if is_file else None))

    async def _file_acceptable(self, msg: IncomingMessage, event: Any) -> bool:
        """Download only from senders in the directory, and only within the size limit."""
        if not await self._is_known_user(msg.sender_id):
            log.info("matrix: file event %s from a user outside the directory not downloaded", msg.event_id)
            await self._audit(msg.sender_id, "matrix.file", None, "denied")
            return False
        size = ((event.source.get("content") or {}).get("info") or {}).get("size")
        if isinstance(size, int) and size > self._max_file_bytes:
            limit = self._max_file_bytes // (1024 * 1024)
            await self._safe_send_text(
                msg.chat_id, f"That file is {size / 1024 / 1024:.0f} MB; the limit is {limit} MB. I did not "
                "download or keep it. Split it, or ask the IMO for another way to share it.", reply_to=msg.event_id)
            return False
        return True

    async def _admit(self, msg: IncomingMessage, event: Any) -> bool:
        """Rate limit, encryption and device checks and the Matrix-only ``!devices``: True to pass on."""
        if not self._limiter.allow(msg.sender_id):
            if self._limiter.should_warn(msg.sender_id):
                await self._safe_send_text(msg.chat_id, RATE_LIMIT_NOTICE, reply_to=msg.event_id)
            log.info("matrix: rate limited %s (event %s)", msg.sender_id, msg.event_id)
            return False
        room = self.client.rooms.get(msg.chat_id)
        if room is not None and room.encrypted and not msg.encrypted:
            # a plain event in an encrypted room (e.g. a stolen password's second session): never act
            log.warning("matrix: unencrypted event %s in encrypted room %s not passed on", msg.event_id, msg.chat_id)
            await self._audit(msg.sender_id, "matrix.event.plain", None, "denied")
            await self._safe_send_text(msg.chat_id, PLAIN_EVENT_NOTICE, reply_to=msg.event_id)
            return False
        command = msg.text.strip().lower()
        if command.startswith("!devices"):
            words = msg.text.split()
            if words[1:2] and words[1].lower() == "sas":  # transaction ids are case-sensitive
                await self.sas.command(msg, words[2:], trusted_device=self._from_trusted_device(event))
                return False
            confirm = command.split()[1:2] == ["confirm"]
            await self._devices_command(msg, event, confirm=confirm, device_id=words[2] if len(words) > 2 else None)
            return False
        verdict = self._sender_verdict(event) if msg.encrypted else Verdict.TRUSTED
        if verdict is not Verdict.TRUSTED:
            # an untrusted session may be an attacker's on a compromised account: never act on it
            await self._safe_send_text(msg.chat_id, refusal_for(verdict.value, self.config.device_trust == TOFU),
                                       reply_to=msg.event_id)
            log.warning("matrix: event %s from an untrusted session of %s not passed on (%s)",
                        msg.event_id, msg.sender_id, verdict.value)
            return False
        return True

    async def _to_incoming(self, room_id: str, event: Any) -> IncomingMessage | None:
        room = self.client.rooms.get(room_id)
        if room is None:
            return None
        encrypted = bool(getattr(event, "decrypted", False)) and room.encrypted
        content = event.source.get("content", {})
        reply_to = (content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
        if isinstance(event, RoomMessageText):
            text = _strip_reply_fallback(event.body) if reply_to else event.body
            attachments: tuple[Attachment, ...] = ()
        elif isinstance(event, (RoomEncryptedMedia, RoomMessageMedia)):
            text = ""
            attachments = ()  # fetched beside the sync loop (_deliver), once admitted
        else:
            return None
        return IncomingMessage(
            transport=self.name, chat_id=room_id, sender_id=event.sender, event_id=event.event_id,
            text=text, attachments=attachments, encrypted=encrypted,
            direct=self._is_direct(room_id), reply_to=reply_to,
            timestamp=datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC),
        )

    async def _download(self, event: Any) -> Attachment:
        """Fetch a file; encrypted ones are decrypted and their SHA-256 checked by nio."""
        resp = await self.client.download(mxc=event.url)
        if isinstance(resp, DownloadError):
            raise TransportError(f"download failed for event {event.event_id}: {resp.status_code}")
        data: bytes = resp.body
        content = event.source.get("content", {})
        if isinstance(event, RoomEncryptedMedia):
            data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
            mimetype = event.mimetype or "application/octet-stream"
        else:
            mimetype = (content.get("info") or {}).get("mimetype") or "application/octet-stream"
        filename = content.get("filename") or event.body or "file"
        return Attachment(filename=filename, mimetype=mimetype, data=data)

    def _is_direct(self, room_id: str) -> bool:
        """Only the bot's own private chats count as direct (the core delivers files there)."""
        return self._directs is not None and self._directs.is_ours(room_id)

    def _sender_device(self, event: Any) -> OlmDevice | None:
        if not getattr(event, "decrypted", False) or event.sender not in self.client.device_store.users:
            return None  # a plain event has no device we could check
        return self.client.device_store.device_from_sender_key(event.sender, event.sender_key or "")

    def _sender_verdict(self, event: Any) -> Verdict:
        assert self._trust is not None
        device = self._sender_device(event)
        return Verdict.UNKNOWN if device is None else self._trust.verdict(device)

    def _from_trusted_device(self, event: Any) -> bool:
        return self._sender_verdict(event) is Verdict.TRUSTED

    def _queue_delivery(self, msg: IncomingMessage, file_event: Any) -> asyncio.Task[None]:
        """Hand one message to the core beside the sync loop, after the sender's previous one.

        A file is downloaded here, never in the sync loop, so one partner's large upload does
        not hold up syncing for everyone; the sender's later messages wait for it (order).
        """
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
                log.warning("matrix: could not download the file of event %s (%s)", msg.event_id,
                            type(exc).__name__)
                await self._safe_send_text(msg.chat_id, "I could not download your file. Please send it again.",
                                           reply_to=msg.event_id)
                return
        await self._dispatch_one(msg)

    def _commit_tokens(self) -> None:
        """Save the newest sync token whose events (and all before) were handed to the core."""
        newest = None
        while self._commits and all(t.done() and not t.cancelled() for t in self._commits[0][1]):
            newest = self._commits.popleft()[0]
        if newest is not None:
            save_sync_token(self.config.store_dir, newest)

    async def _finish_deliveries(self, timeout: float = 30.0) -> None:
        """On stop: let queued deliveries reach the core (bounded); unsaved ones are redelivered."""
        pending = [t for _token, tasks in self._commits for t in tasks if not t.done()]
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
        self._commit_tokens()

    async def _dispatch_one(self, msg: IncomingMessage) -> None:
        assert self._on_message is not None
        async with self._dispatch_sem:
            try:
                await self._on_message(msg)
            except Exception:
                log.exception("matrix: handler failed for event %s in %s", msg.event_id, msg.chat_id)

    # ------------------------------------------------------------ undecryptable --

    async def _undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        """Ask the sender's devices for the key; remember the event to retry it later."""
        event.room_id = room_id
        if event.event_id in self._pending:
            return
        log.warning("matrix: cannot decrypt event %s in %s yet; requesting the key", event.event_id, room_id)
        self._pending[event.event_id] = _Pending(event, room_id,
                                                 self._clock() + self.config.undecryptable_timeout_seconds)
        try:
            await self.client.request_room_key(event)
        except LocalProtocolError:
            pass  # already requested for this session

    async def _retry_pending(self, batch: _Batch) -> None:
        now = self._clock()
        for event_id, pending in list(self._pending.items()):
            try:
                decrypted = self.client.decrypt_event(pending.event)
            except EncryptionError:
                decrypted = None
            if decrypted is not None and not isinstance(decrypted, MegolmEvent):
                del self._pending[event_id]
                log.info("matrix: event %s decrypted after the key arrived", event_id)
                await self._collect(pending.room_id, decrypted, batch)
            elif now >= pending.deadline:
                del self._pending[event_id]
                log.warning("matrix: gave up on event %s in %s; telling the sender", event_id, pending.room_id)
                await self._safe_send_text(pending.room_id, UNDECRYPTABLE_NOTICE, reply_to=event_id)

    def _save_pending(self) -> None:
        """Keep undecryptable events (ciphertext only) across restarts so none is dropped silently."""
        data = [{"room_id": p.room_id, "source": p.event.source} for p in self._pending.values()]
        write_json(self.config.store_dir / PENDING_FILE, data)

    def _load_pending(self) -> None:
        for item in read_json(self.config.store_dir / PENDING_FILE, []):
            event = MegolmEvent.from_dict(item["source"])
            if isinstance(event, MegolmEvent):
                event.room_id = item["room_id"]
                self._pending[event.event_id] = _Pending(
                    event, item["room_id"], self._clock() + self.config.undecryptable_timeout_seconds)

    # ------------------------------------------------------------ device trust --

    async def _report_new_device(self, change: DeviceChange) -> None:
        """Tell the owner (and, for an identity change, the admin room) what the bot refused."""
        if change.kind is Verdict.IDENTITY_CHANGED:
            text = identity_changed_notice(self.config.device_trust == TOFU)
            await self._audit(change.user_id, "matrix.identity.changed", None, "denied")
            if self._notify_admins:
                try:
                    await self._notify_admins(
                        f"The Matrix identity of {change.user_id} changed (new master key "
                        f"{fingerprint(change.ed25519)}). Nothing is acted on or sent to them until they "
                        "confirm from a session of the new identity or an admin runs "
                        "`clusterbot admin identity trust`.")
                except Exception:
                    log.exception("matrix: could not notify admins about an identity change")
        elif change.kind is Verdict.UNSIGNED:
            text = unsigned_device_notice(change.display_name, change.device_id)
            await self._audit(change.user_id, "matrix.device.unsigned", change.device_id, "denied")
        else:
            text = (
                f"A new device was added to your Matrix account: {change.display_name or 'unnamed'} "
                f"(ID {change.device_id}). Until you confirm it, I will not share encrypted messages "
                f"with it. If this device is yours, reply `!devices confirm` from one of your existing "
                f"devices. If it is not yours, change your password now and tell an administrator."
            )
            await self._audit(change.user_id, "matrix.device.new", change.device_id, "denied")
        log.warning("matrix: told %s about %s %s", change.user_id, change.kind.value, change.device_id or "")
        try:
            room_id = await self.direct_chat(change.user_id)
            await self._send(room_id, {"msgtype": "m.notice", "body": text}, None, notice=True)
        except Exception:
            log.exception("matrix: could not notify %s about a device or identity change", change.user_id)

    async def _devices_command(self, msg: IncomingMessage, event: Any, *, confirm: bool,
                               device_id: str | None = None) -> None:
        assert self._trust is not None
        if not confirm:
            await self._safe_send_text(msg.chat_id, self._devices_listing(msg.sender_id), reply_to=msg.event_id)
            return
        new_identity = self._trust.identity_change(msg.sender_id)
        if new_identity is not None:
            await self._confirm_identity(msg, event, new_identity)
            return
        pending = self._trust.pending_for(msg.sender_id)
        if not pending:
            await self._safe_send_text(msg.chat_id, "There is no new device to confirm.", reply_to=msg.event_id)
            return
        if not msg.encrypted or not self._from_trusted_device(event):
            await self._safe_send_text(
                msg.chat_id,
                "Please confirm from one of your already confirmed devices, in an encrypted chat. "
                "If you no longer have any of them, ask an administrator to trust the new device.",
                reply_to=msg.event_id)
            await self._audit(msg.sender_id, "matrix.device.confirm", ",".join(sorted(pending)), "denied")
            if self._notify_admins:
                await self._notify_admins(
                    f"{msg.sender_id} asked to confirm device(s) {', '.join(sorted(pending))} "
                    "without a confirmed device; `clusterbot admin device trust` can do it.")
            return
        if device_id is None and len(pending) == 1:
            device_id = next(iter(pending))
        if device_id is None or device_id not in pending:
            await self._safe_send_text(
                msg.chat_id, "Which device? Send `!devices confirm DEVICEID` for one of: "
                + ", ".join(sorted(pending)) + ". Confirm only devices you recognise.", reply_to=msg.event_id)
            return
        confirmed = self._trust.confirm_pending(self.client, msg.sender_id, device_id)
        await self._audit(msg.sender_id, "matrix.device.confirm", ",".join(confirmed), "allowed")
        log.info("matrix: %s confirmed device(s) %s", msg.sender_id, ",".join(confirmed))
        await self._safe_send_text(msg.chat_id, f"Confirmed: {', '.join(confirmed)}. Thank you.",
                                   reply_to=msg.event_id)

    async def _confirm_identity(self, msg: IncomingMessage, event: Any, new_master: str) -> None:
        """``!devices confirm`` after an identity change: only from a session the new identity signed."""
        assert self._trust is not None
        device = self._sender_device(event)
        keys = self._trust.keys.get(msg.sender_id)
        signed_by_new = (device is not None and keys is not None and keys.identity is not None
                         and keys.identity.master == new_master and (device.id, device.ed25519) in keys.signed)
        if self.config.device_trust != TOFU or not msg.encrypted or not signed_by_new:
            await self._audit(msg.sender_id, "matrix.identity.confirm", None, "denied")
            await self._safe_send_text(
                msg.chat_id,
                "I cannot confirm your new identity from here: "
                + ("an administrator must confirm it (`clusterbot admin identity trust`)."
                   if self.config.device_trust != TOFU else
                   "send `!devices confirm` from a session you verified with your new identity."),
                reply_to=msg.event_id)
            return
        self._trust.confirm_identity(self.client, msg.sender_id, new_master)
        await self._audit(msg.sender_id, "matrix.identity.confirm", None, "allowed")
        if self._notify_admins:
            await self._notify_admins(f"{msg.sender_id} confirmed their new Matrix identity "
                                      f"{fingerprint(new_master)} from a session it signed.")
        await self._safe_send_text(msg.chat_id, "Your new identity is confirmed. Thank you.", reply_to=msg.event_id)

    def _devices_listing(self, user_id: str) -> str:
        assert self._trust is not None
        keys = self._trust.keys.get(user_id)
        if keys is None or keys.identity is None:
            head = "Your account has no cross-signing identity; I trust your devices one by one."
        elif self._trust.identity_change(user_id):
            head = f"Your identity CHANGED to {fingerprint(keys.identity.master)} and is not confirmed yet."
        elif self._trust.is_verified_identity(user_id):
            head = f"Your identity {fingerprint(keys.identity.master)} is verified."
        elif self._trust.pinned(user_id):
            head = f"Your identity {fingerprint(keys.identity.master)} is known (trusted on first use)."
        else:
            head = f"Your identity {fingerprint(keys.identity.master)} is not verified yet."
        lines = [f"- {d.id} {d.display_name or ''} ({self._trust.verdict(d).value})"
                 for d in self.client.device_store.active_user_devices(user_id)]
        return head + "\nYour devices:\n" + "\n".join(lines or ["(none known)"])

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
        resp, keys = await self.client.upload(lambda *_: file.data, content_type="application/octet-stream",
                                              filename=None, encrypt=True, filesize=len(file.data))
        if not isinstance(resp, UploadResponse) or keys is None:
            raise TransportError(f"matrix: upload failed: {getattr(resp, 'status_code', resp)}")
        keys["url"] = resp.content_uri
        content = {
            "msgtype": "m.file", "body": file.filename, "filename": file.filename,
            "info": {"mimetype": file.mimetype, "size": len(file.data)}, "file": keys,
        }
        return await self._send(chat_id, content, reply_to)

    async def delete_message(self, chat_id: str, message_id: str) -> None:
        await self.client.room_redact(chat_id, message_id)

    async def _send(self, chat_id: str, content: dict[str, Any], reply_to: str | None, *,
                    notice: bool = False) -> str:
        """Send through every outgoing check; ``notice`` marks the transport's own trust notices,
        which may reach a user whose new identity is unconfirmed (nothing else may)."""
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        await self._guard_protected_room(chat_id)
        await self._guard_direct_chat(chat_id, notice=notice)
        if chat_id not in self.client.rooms:
            await self._wait_for_room(chat_id)
        lock = self._send_lock.setdefault(chat_id, asyncio.Lock())
        for _attempt in range(3):
            await self._apply_trust_policy()
            try:
                async with lock:  # one key share per room at a time
                    # the core's stable id for this message: Synapse returns the first event
                    # for a resent transaction instead of posting it twice (crash re-runs)
                    resp = await self.client.room_send(chat_id, "m.room.message", content,
                                                       tx_id=OUTGOING_TXN.get(), ignore_unverified_devices=False)
            except OlmUnverifiedDeviceError:
                continue  # a device appeared between policy and share: classify it, retry
            except (TimeoutError, aiohttp.ClientError, OSError, LocalProtocolError) as exc:
                raise TransportError(f"matrix: send to {chat_id} failed: {type(exc).__name__}") from exc
            if isinstance(resp, RoomSendResponse):
                await self._send_withheld(chat_id)
                return str(resp.event_id)
            raise TransportError(f"matrix: send to {chat_id} failed: {getattr(resp, 'status_code', resp)}")
        raise TransportError(f"matrix: could not settle device trust for {chat_id}")

    async def _guard_direct_chat(self, chat_id: str, *, notice: bool) -> None:
        """Right before a send into one of our private chats: still private, and the user trusted?"""
        if self._directs is None or not self._directs.is_ours(chat_id):
            return
        owner = self._directs.owner(chat_id)
        members = await self._directs.check(chat_id)
        if members is None:
            raise TransportError(f"refusing to post to {chat_id}: the private chat gained other members")
        room = self.client.rooms.get(chat_id)
        if room is not None and any(user not in room.users for user in members):
            # a just-created room whose member events this client has not synced yet: without
            # this, nio would share the room key with nobody and the user could not read it
            for user, membership in members.items():
                room.add_member(user, None, None, invited=membership == "invite")
            if self.client.olm is not None:
                self.client.olm.update_tracked_users(room)
        assert self._trust is not None and owner is not None
        if not notice and self._trust.identity_change(owner) is not None:
            raise TransportError(f"holding messages for {chat_id}: the user's new identity is not confirmed")

    async def _send_withheld(self, chat_id: str) -> None:
        """Tell each refused session of the room's members *why* it got no key (``m.room_key.withheld``).

        Element then shows the reason in place of the message (e.g. "your device is
        unverified"), which is the only thing an untrusted session may learn.
        """
        client = self.client
        room = client.rooms.get(chat_id)
        olm = client.olm
        session = olm.outbound_group_sessions.get(chat_id) if olm else None
        if room is None or olm is None or session is None:
            return
        sent = self._withheld_sent.setdefault(session.id, set())
        for user_id in set(room.users):
            if user_id == self.user_id:
                continue
            for device in client.device_store.active_user_devices(user_id):
                if not device.blacklisted or (user_id, device.id) in sent:
                    continue
                sent.add((user_id, device.id))
                content = {"algorithm": "m.megolm.v1.aes-sha2", "room_id": chat_id, "session_id": session.id,
                           "sender_key": olm.account.identity_keys["curve25519"], "from_device": self.device_id,
                           "code": "m.unverified",
                           "reason": "This session is not verified by its owner, or its owner's identity changed."}
                try:
                    await client.to_device(ToDeviceMessage("m.room_key.withheld", user_id, device.id, content))
                except Exception:
                    log.exception("matrix: could not send a withheld notice to a session of %s", user_id)

    async def _safe_send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        """The transport's own notices (never protected content); failures are logged only."""
        try:
            await self._send(chat_id, {"msgtype": "m.notice", "body": text}, reply_to, notice=True)
        except Exception:
            log.exception("matrix: could not send a notice to %s", chat_id)

    async def _wait_for_room(self, room_id: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while room_id not in self.client.rooms:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportError(f"matrix: room {room_id} is not known to the bot")
            try:
                await asyncio.wait_for(self._synced.wait(), remaining)
            except TimeoutError:
                pass

    # ------------------------------------------------------------ direct chats --

    async def direct_chat(self, user_id: str) -> str:
        """The user's private chat: one the bot created, still exactly {bot, user} (see directs.py)."""
        assert self._directs is not None
        return await self._directs.chat_for(user_id)

    async def _create_direct_room(self, user_id: str) -> str:
        resp = await self.client.room_create(
            is_direct=True, invite=[user_id], preset=_trusted_private_chat(),
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
                           {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "invite"}},
                           {"type": "m.room.history_visibility", "state_key": "",
                            "content": {"history_visibility": "invited"}}],
        )
        if isinstance(resp, RoomCreateError):
            raise TransportError(f"matrix: could not create a direct chat: {resp.status_code}")
        await self._wait_for_room(resp.room_id)
        log.info("matrix: created encrypted direct chat %s with %s", resp.room_id, user_id)
        return str(resp.room_id)

    # ---------------------------------------------------------- protected rooms --

    @property
    def configured_rooms(self) -> dict[str, str]:
        """kind ('imo', 'coordinator', 'admin') -> resolved room id, for the core's room map."""
        return {purpose.removesuffix("_room"): room_id for room_id, purpose in self._protected_rooms.items()}

    async def _resolve_protected_rooms(self) -> None:
        """Map the configured rooms (ids or aliases) to room ids; retried every sync until done.

        The rooms may be created before or after the bot's first start: an alias that does
        not resolve yet, or a room the bot is not invited to yet, is waited for (and the
        admins told once what is missing), never an error.
        """
        async with self._resolving:
            await self._resolve_each()

    async def _resolve_each(self) -> None:
        for purpose in ("imo_room", "coordinator_room", "admin_room"):
            ref = getattr(self.config, purpose, None)
            if not ref or purpose in self._protected_rooms.values():
                continue
            room_id: str | None = ref
            if ref.startswith("#"):
                resolved = await self.client.room_resolve_alias(ref)
                room_id = getattr(resolved, "room_id", None)
            if room_id is None:
                self._missing_room(purpose, f"the alias {ref} does not exist yet")
                continue
            self._protected_rooms[room_id] = purpose
            await self._check_protected(room_id)

    def _missing_room(self, purpose: str, why: str) -> None:
        if purpose in self._missing_told:
            return
        self._missing_told.add(purpose)
        text = (f"The configured {purpose.replace('_', ' ')} is not usable yet: {why}. Create it encrypted and "
                f"invite the bot from an account in the directory; it is picked up without a restart.")
        log.warning("matrix: %s", text)
        if self._notify_admins is not None and purpose != "admin_room":
            self._in_background(self._tell_admins(text, after_resolving=True))

    async def _tell_admins(self, text: str, *, after_resolving: bool = False) -> None:
        assert self._notify_admins is not None
        if after_resolving:
            await asyncio.sleep(0)  # let the resolution of the other configured rooms (the admin room) finish
            async with self._resolving:
                pass
        try:
            await self._notify_admins(text)
        except Exception:
            log.exception("matrix: could not notify admins")

    async def _check_protected(self, room_id: str) -> bool:
        """Configured rooms must be encrypted; otherwise refuse and say why (log + admins, once)."""
        if await self.is_encrypted(room_id):
            self._refused_rooms.discard(room_id)
            return True
        purpose = self._protected_rooms[room_id]
        if room_id not in self.client.rooms:
            self._missing_room(purpose, f"the bot is not in {room_id} (not invited yet)")
            return False
        if room_id not in self._refused_rooms:
            self._refused_rooms.add(room_id)
            reason = (f"The configured {purpose.replace('_', ' ')} {room_id} is not end-to-end encrypted. "
                      f"The bot will not post there until encryption is enabled in that room.")
            log.error("matrix: %s", reason)
            if self._notify_admins and purpose != "admin_room":
                self._in_background(self._tell_admins(reason))
        return False

    async def _guard_protected_room(self, chat_id: str) -> None:
        if chat_id in self._protected_rooms and chat_id not in self.client.rooms:
            try:  # joined a moment ago: its state arrives with the next sync
                await self._wait_for_room(chat_id)
            except TransportError:
                pass
        if chat_id in self._protected_rooms and not await self._check_protected(chat_id):
            raise TransportError(f"refusing to post to {chat_id}: the configured room is not encrypted")


def _strip_reply_fallback(body: str) -> str:
    """Remove the quoted ``> <@user> ...`` block clients put in front of replies."""
    return _REPLY_FALLBACK.sub("", body, count=1)


def _trusted_private_chat() -> Any:
    from nio.api import RoomPreset

    return RoomPreset.trusted_private_chat
