"""A throwaway Synapse homeserver on loopback, for tests, ``clusterbot demo`` and the benchmark.

It lives in the installed package (not only under ``tests/``) because ``clusterbot demo``
must work from a plain ``pip install``. Nothing is installed at run time: ``matrix-synapse``
is a pinned dev dependency; if it is missing, :class:`SynapseUnavailable` says so.

Design choices, and why:

* SQLite, one tmp directory, a free loopback port, no federation listener, trusted key
  servers emptied: the server must never talk to the network.
* Rate limits raised: the tests and the 50-partner benchmark would otherwise be throttled.
* Users are registered through the shared-secret admin API (HMAC), the documented way to
  create accounts without opening registration.
* :meth:`SynapseServer.stop` / :meth:`SynapseServer.start` can be called repeatedly on the
  same data directory so tests can simulate an outage of the homeserver.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_NAME = "localhost"
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0


class SynapseUnavailable(RuntimeError):
    """Synapse is not installed or could not be started; the message says why."""


@dataclass(frozen=True)
class RegisteredUser:
    user_id: str
    localpart: str
    password: str
    access_token: str
    device_id: str


def synapse_installed() -> bool:
    return importlib.util.find_spec("synapse") is not None


def free_port() -> int:
    """Ask the kernel for an unused loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rate_limit(per_second: float = 1000, burst: int = 10000) -> dict[str, float | int]:
    return {"per_second": per_second, "burst_count": burst}


def _homeserver_config(base: Path, port: int, shared_secret: str) -> dict[str, object]:
    """The homeserver.yaml content (JSON is valid YAML, so no YAML writer is needed)."""
    rl = _rate_limit()
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(base / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(base / "homeserver.db")}},
        "log_config": str(base / "log.config"),
        "media_store_path": str(base / "media_store"),
        "signing_key_path": str(base / "signing.key"),
        "registration_shared_secret": shared_secret,
        "enable_registration": False,
        "report_stats": False,
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "allow_public_rooms_over_federation": False,
        "url_preview_enabled": False,
        "enable_metrics": False,
        "presence": {"enabled": False},
        "rc_message": rl,
        "rc_registration": rl,
        "rc_registration_token_validity": rl,
        "rc_login": {"address": rl, "account": rl, "failed_attempts": rl},
        "rc_admin_redaction": rl,
        "rc_joins": {"local": rl, "remote": rl},
        "rc_joins_per_room": rl,
        "rc_invites": {"per_room": rl, "per_user": rl, "per_issuer": rl},
        "rc_3pid_validation": rl,
        "rc_key_requests": rl,
        "rc_room_creation": rl,
        "rc_media_create": rl,
        "rc_delayed_event_mgmt": rl,
        "rc_reports": rl,
        "rc_presence": {"per_user": rl},
        "max_upload_size": "50M",
    }


_LOG_CONFIG = """version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: {path}
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


class SynapseServer:
    """One Synapse process plus its data directory.

    Use as a context manager (``with SynapseServer() as hs:``) or call
    :meth:`start`/:meth:`close` yourself. ``base_dir`` defaults to a fresh tmp dir that
    :meth:`close` removes (unless ``keep_files``).
    """

    def __init__(self, base_dir: Path | None = None, *, keep_files: bool = False) -> None:
        if not synapse_installed():
            raise SynapseUnavailable("matrix-synapse is not installed; install the dev extra: pip install -e '.[dev]'")
        self._owns_dir = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="clusterbot-synapse-"))
        self.keep_files = keep_files
        self.port = free_port()
        self.shared_secret = secrets.token_hex(16)
        self.config_path = self.base_dir / "homeserver.yaml"
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_config()

    # -- lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_name(self) -> str:
        return SERVER_NAME

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _write_config(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / "media_store").mkdir(exist_ok=True)
        (self.base_dir / "log.config").write_text(
            _LOG_CONFIG.format(path=json.dumps(str(self.base_dir / "homeserver.log")))
        )
        config = _homeserver_config(self.base_dir, self.port, self.shared_secret)
        self.config_path.write_text(json.dumps(config, indent=2))
        self._generate_keys()

    def _generate_keys(self) -> None:
        """Create the signing key with Synapse itself (``--generate-keys``), bounded in time."""
        cmd = [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path), "--generate-keys"]
        result = subprocess.run(cmd, cwd=self.base_dir, capture_output=True, timeout=120)
        if result.returncode != 0:
            raise SynapseUnavailable(
                "synapse --generate-keys failed: " + result.stderr.decode(errors="replace")[-2000:]
            )

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Start the process and wait until ``/_matrix/client/versions`` answers."""
        if self.running:
            return
        log = open(self.base_dir / "stdout.log", "ab")  # noqa: SIM115 - kept open for the child
        env = dict(os.environ)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.base_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SynapseUnavailable(
                    f"Synapse exited early; see {self.base_dir / 'stdout.log'}:\n" + self._tail_logs()
                )
            if self._versions_ok():
                return
            time.sleep(0.2)
        self.stop()
        raise SynapseUnavailable(f"Synapse did not answer within {timeout:.0f}s:\n" + self._tail_logs())

    def _tail_logs(self) -> str:
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            path = self.base_dir / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def _versions_ok(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/_matrix/client/versions", timeout=2) as resp:
                return bool(resp.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after a bounded wait); data is kept."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT_SECONDS)

    def close(self) -> None:
        self.stop()
        if self._owns_dir and not self.keep_files:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> SynapseServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- admin API -------------------------------------------------------------------

    def _request(
        self, method: str, path: str, body: dict[str, object] | None = None, token: str | None = None
    ) -> dict[str, object]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return dict(json.loads(resp.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path} -> {exc.code}: {exc.read()[:500]!r}") from exc

    def register_user(self, localpart: str, password: str | None = None, *, admin: bool = False) -> RegisteredUser:
        """Create an account with the shared-secret admin API (nonce + HMAC-SHA1)."""
        password = password or secrets.token_urlsafe(16)
        nonce = str(self._request("GET", "/_synapse/admin/v1/register")["nonce"])
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"])
        )
        body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()}
        result = self._request("POST", "/_synapse/admin/v1/register", body)
        return RegisteredUser(
            user_id=str(result["user_id"]),
            localpart=localpart,
            password=password,
            access_token=str(result["access_token"]),
            device_id=str(result.get("device_id", "")),
        )


@contextlib.contextmanager
def running_synapse(base_dir: Path | None = None) -> Iterator[SynapseServer]:
    """``with running_synapse() as hs: ...`` — start, yield, always stop and clean up."""
    server = SynapseServer(base_dir)
    with server:
        yield server


# ---------------------------------------------------------------------------------------
# A scripted Matrix user (partner, IMO, coordinator) with its own encrypted store.
# ---------------------------------------------------------------------------------------


class ScriptedUser:
    """A real matrix-nio client with its own crypto store, used to play a human.

    It syncs in the background, auto-joins rooms it is invited to, trusts every device
    (like a typical client with unverified devices) and records every message it sees,
    decrypted where possible, so tests and the demo can wait for the bot's answers.
    """

    def __init__(self, homeserver: str, user: RegisteredUser, store_dir: Path) -> None:
        from nio import AsyncClient, AsyncClientConfig

        self.user = user
        store_dir.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            homeserver,
            user.user_id,
            store_path=str(store_dir),
            config=AsyncClientConfig(
                encryption_enabled=True,
                store_sync_tokens=False,
                pickle_key=secrets.token_hex(16),
                max_timeouts=1,
                backoff_factor=0.2,
                max_timeout_retry_wait_time=1,
            ),
        )
        self.events: list[tuple[str, object]] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    @property
    def user_id(self) -> str:
        return self.user.user_id

    async def login(self, device_name: str = "scripted") -> None:
        from nio import LoginResponse

        resp = await self.client.login(self.user.password, device_name=device_name)
        if not isinstance(resp, LoginResponse):
            raise RuntimeError(f"login failed for {self.user.user_id}: {resp}")
        await self.client.keys_upload()
        await self.sync_once(timeout=0)
        self._task = asyncio.create_task(self._loop())

    async def sync_once(self, timeout: int = 1000) -> None:
        """One sync plus the key traffic a real client does between syncs."""
        from nio import SyncResponse

        client = self.client
        resp = await client.sync(timeout=timeout, sync_filter={"room": {"timeline": {"limit": 100}}})
        if isinstance(resp, SyncResponse):
            for room_id in resp.rooms.invite:
                await client.join(room_id)
            new = [(room_id, ev) for room_id, info in resp.rooms.join.items() for ev in info.timeline.events]
            if new:
                self.events.extend(new)
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        async with self._changed:
            self._changed.notify_all()

    async def _loop(self) -> None:
        while True:
            try:
                await self.sync_once(timeout=5000)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - e.g. homeserver restarting in a test
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        await self.client.close()

    # -- acting ----------------------------------------------------------------------

    async def create_room(self, invite: list[str], *, encrypted: bool = True, name: str | None = None) -> str:
        from nio import RoomCreateResponse

        state = (
            [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
            if encrypted
            else []
        )
        resp = await self.client.room_create(
            invite=invite, initial_state=state, name=name, is_direct=len(invite) == 1 and name is None
        )
        if not isinstance(resp, RoomCreateResponse):
            raise RuntimeError(f"room_create failed: {resp}")
        return str(resp.room_id)

    async def wait_joined(self, room_id: str, user_id: str, timeout: float = 30) -> None:
        await self.wait_until(
            lambda: (
                room_id in self.client.rooms
                and user_id in self.client.rooms[room_id].users
                and user_id not in self.client.rooms[room_id].invited_users
            ),
            timeout,
        )

    async def send_text(self, room_id: str, text: str, *, msgtype: str = "m.text") -> str:
        await self.wait_until(lambda: room_id in self.client.rooms, 30)
        resp = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": msgtype, "body": text}, ignore_unverified_devices=True
        )
        event_id = getattr(resp, "event_id", None)
        if not event_id:
            raise RuntimeError(f"send failed: {resp}")
        return str(event_id)

    async def send_file(self, room_id: str, data: bytes, filename: str, mimetype: str) -> str:
        import io

        resp, keys = await self.client.upload(
            io.BytesIO(data), content_type=mimetype, filename=filename, encrypt=True, filesize=len(data)
        )
        uri = getattr(resp, "content_uri", None)
        if not uri or keys is None:
            raise RuntimeError(f"upload failed: {resp}")
        keys["url"] = uri
        content = {
            "msgtype": "m.file",
            "body": filename,
            "filename": filename,
            "info": {"mimetype": mimetype, "size": len(data)},
            "file": keys,
        }
        send = await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)
        event_id = getattr(send, "event_id", None)
        if not event_id:
            raise RuntimeError(f"send failed: {send}")
        return str(event_id)

    async def send_plain(self, room_id: str, text: str) -> str:
        """An *unencrypted* m.room.message, even into an encrypted room (what an attacker can do)."""
        status, data = await self._http(
            "PUT",
            f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/plain{secrets.token_hex(8)}",
            {"msgtype": "m.text", "body": text},
        )
        if status != 200:
            raise RuntimeError(f"plain send failed: {status}")
        return str(data["event_id"])

    # -- cross-signing (what Element does at first login) ------------------------------

    async def _http(
        self, method: str, path: str, body: dict[str, object] | None = None
    ) -> tuple[int, dict[str, object]]:
        from bot.transports.matrix.transport import authed_request

        return await authed_request(self.client, method, path, body)

    async def cross_sign(self, keys: object | None = None) -> object:
        """Create (or, with ``keys``, re-use) a cross-signing identity and sign this device.

        Returns the :class:`CrossSigningKeys`; pass them to another session of the same
        user to have it signed too (like verifying a new session in Element). Calling it
        again with no keys replaces the identity ("reset cryptographic identity").
        """
        from bot.transports.matrix.crosssign import CrossSigningKeys
        from bot.transports.matrix.identity import query_keys, sign_device, upload_identity

        if keys is None:
            keys = CrossSigningKeys.generate()
            await upload_identity(self._http, self.user_id, keys, self.user.password)
        assert isinstance(keys, CrossSigningKeys)
        await sign_device(
            self._http, self.user_id, str(self.client.device_id), keys, await query_keys(self._http, [self.user_id])
        )
        return keys

    # -- observing -------------------------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        """Bounded wait for ``predicate`` (re-checked after every sync)."""
        cond = self._changed

        async def _wait() -> None:
            async with cond:
                await cond.wait_for(predicate)

        await asyncio.wait_for(_wait(), timeout)

    def messages_from(self, sender: str, room_id: str | None = None) -> list[object]:
        """Decrypted (or plain) ``m.room.message`` events from ``sender``."""
        from nio import RoomMessage

        return [
            ev
            for rid, ev in self.events
            if isinstance(ev, RoomMessage)
            and getattr(ev, "sender", None) == sender
            and (room_id is None or rid == room_id)
        ]

    async def wait_for_message(
        self,
        sender: str,
        room_id: str | None = None,
        *,
        count: int = 1,
        contains: str | None = None,
        timeout: float = 30,
    ) -> object:
        """Wait until ``sender`` has sent ``count`` messages (matching ``contains``); return the last."""

        def matching() -> list[object]:
            found = self.messages_from(sender, room_id)
            if contains is not None:
                found = [ev for ev in found if contains.lower() in str(getattr(ev, "body", "")).lower()]
            return found

        await self.wait_until(lambda: len(matching()) >= count, timeout)
        return matching()[count - 1]
