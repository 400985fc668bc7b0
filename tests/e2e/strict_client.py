"""A Matrix client on Element's own crypto stack, driven from Python tests.

:class:`StrictClient` runs ``tests/e2e/jsclient/client.mjs`` (matrix-js-sdk + matrix-sdk-crypto-wasm,
the Rust crypto that Element Web/Desktop ship) as a child process, one logged-in device per process,
in Element's strict "exclude insecure devices" mode (``OnlySignedDevicesIsolationMode``): room keys go
only to devices cross-signed by their owner, and messages from devices their owner has not cross-signed
are refused (decryption error ``UNSIGNED_SENDER_DEVICE``). The line protocol is documented at the top of
``client.mjs``.

Install the JavaScript side once (CI too) with ``npm ci --prefix tests/e2e/jsclient``; without it (or
without ``node``) the tests using these fixtures are skipped with that hint.

Every wait here is bounded, and :meth:`StrictClient.close` always ends the child process.

Usage from a test (the fixture ``strict_clients`` is a factory)::

    alice = await strict_clients(alice_user)                      # cross-signed, strict
    bob_insecure = await strict_clients(bob_user, cross_sign=False)
    room = await alice.create_dm(bob.user_id)
    msg = await bob.wait_for_message(alice.user_id, room, predicate=lambda m: m["decrypted"])
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

JSCLIENT_DIR = Path(__file__).resolve().parent / "jsclient"
CLIENT_SCRIPT = JSCLIENT_DIR / "client.mjs"
INSTALL_HINT = "run `npm ci --prefix tests/e2e/jsclient`"
DEFAULT_TIMEOUT = 30.0
LOGIN_TIMEOUT = 90.0
_READ_LIMIT = 64 * 1024 * 1024  # one stdout line may carry a base64 attachment

Message = dict[str, Any]


class StrictClientError(RuntimeError):
    """A command answered ``ok: false`` (or the process died / timed out)."""

    def __init__(self, message: str, reply: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reply = reply or {}
        self.error_name = self.reply.get("error_name")
        self.error_code = self.reply.get("error_code")


def node_binary() -> str | None:
    return os.environ.get("CLUSTERBOT_NODE") or shutil.which("node")


def node_available() -> bool:
    return node_binary() is not None


def jsclient_installed() -> bool:
    modules = JSCLIENT_DIR / "node_modules"
    return (
        CLIENT_SCRIPT.is_file()
        and (modules / "matrix-js-sdk" / "package.json").is_file()
        and (modules / "@matrix-org" / "matrix-sdk-crypto-wasm" / "package.json").is_file()
    )


def skip_reason() -> str | None:
    """Why strict-client tests cannot run here, or ``None`` when they can."""
    if not node_available():
        return f"node is not installed (Node.js >= 20 is needed); then {INSTALL_HINT}"
    if not jsclient_installed():
        return f"the strict Matrix client's node_modules are missing: {INSTALL_HINT}"
    return None


def require_strict_client() -> None:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)


class StrictClient:
    """One ``client.mjs`` process = one Matrix device on Element's crypto stack."""

    def __init__(self, name: str = "strict", *, log_path: Path | None = None) -> None:
        self.name = name
        self.log_path = log_path
        self.user_id: str | None = None
        self.device_id: str | None = None
        self.recovery_key: str | None = None
        self.master_key: str | None = None
        self.login_reply: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._stderr_tail: list[str] = []
        self._exited = False

    # -- process -------------------------------------------------------------------------

    async def start(self) -> StrictClient:
        reason = skip_reason()
        if reason:
            raise StrictClientError(reason)
        node = node_binary()
        assert node is not None
        env = dict(os.environ)
        env.setdefault("STRICT_CLIENT_LOG_LEVEL", "warn")
        self._proc = await asyncio.create_subprocess_exec(
            node,
            str(CLIENT_SCRIPT),
            cwd=str(JSCLIENT_DIR),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=_READ_LIMIT,
            start_new_session=True,
        )
        self._tasks = [asyncio.create_task(self._read_stdout()), asyncio.create_task(self._read_stderr())]
        return self

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and not self._exited

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            while True:
                line = await self._proc.stdout.readline()
                if not line:
                    break
                try:
                    obj = json.loads(line)
                except ValueError:
                    self._stderr_tail.append("[bad stdout line] " + line.decode(errors="replace")[:500])
                    continue
                if "event" in obj and "id" not in obj:
                    async with self._changed:
                        self.events.append(obj)
                        self._changed.notify_all()
                    continue
                fut = self._pending.pop(obj.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(obj)
        finally:
            self._exited = True
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(StrictClientError(f"{self.name}: client process ended\n{self.stderr_tail()}"))
            self._pending.clear()
            async with self._changed:
                self._changed.notify_all()

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        log = self.log_path.open("ab") if self.log_path is not None else None
        try:
            while True:
                line = await self._proc.stderr.readline()
                if not line:
                    break
                if log is not None:
                    log.write(line)
                    log.flush()
                self._stderr_tail.append(line.decode(errors="replace").rstrip())
                del self._stderr_tail[:-60]
        finally:
            if log is not None:
                log.close()

    def stderr_tail(self, lines: int = 30) -> str:
        return "\n".join(self._stderr_tail[-lines:])

    async def close(self) -> None:
        """Ask the client to stop, then make sure the process is gone (SIGKILL after a bounded wait)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(Exception):
                if proc.stdin is not None and not proc.stdin.is_closing():
                    proc.stdin.write(b'{"id":0,"cmd":"stop"}\n')
                    await asyncio.wait_for(proc.stdin.drain(), 2)
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, 9)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                    await asyncio.wait_for(proc.wait(), 5)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2)
        self._tasks = []

    # -- requests ------------------------------------------------------------------------

    async def request(self, cmd: str, *, timeout: float = DEFAULT_TIMEOUT, **params: Any) -> dict[str, Any]:
        """Send one command and return its reply; :class:`StrictClientError` on ``ok: false``."""
        if not self.running or self._proc is None or self._proc.stdin is None:
            raise StrictClientError(f"{self.name}: client process is not running\n{self.stderr_tail()}")
        req_id = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        line = json.dumps({"id": req_id, "cmd": cmd, **params}) + "\n"
        self._proc.stdin.write(line.encode())
        await asyncio.wait_for(self._proc.stdin.drain(), timeout)
        try:
            reply = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self._pending.pop(req_id, None)
            raise StrictClientError(
                f"{self.name}: `{cmd}` got no reply within {timeout:.0f}s\n{self.stderr_tail()}"
            ) from None
        if not reply.get("ok"):
            raise StrictClientError(
                f"{self.name}: `{cmd}` failed: {reply.get('error_name')}: "
                f"{reply.get('error')} (code {reply.get('error_code')})",
                reply,
            )
        return reply

    async def login(
        self,
        homeserver: str,
        user_id: str,
        password: str,
        *,
        device_name: str = "Element strict",
        cross_sign: bool = True,
        recovery_key: str | None = None,
        secret_storage: bool = True,
        auto_join: bool = False,
        isolation: str = "only_signed",
        timeout: float = LOGIN_TIMEOUT,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "homeserver": homeserver,
            "user_id": user_id,
            "password": password,
            "device_name": device_name,
            "cross_sign": cross_sign,
            "secret_storage": secret_storage,
            "auto_join": auto_join,
            "isolation": isolation,
        }
        if recovery_key:
            params["recovery_key"] = recovery_key
        reply = await self.request("login", timeout=timeout, **params)
        self.login_reply = reply
        self.user_id = reply["user_id"]
        self.device_id = reply["device_id"]
        self.recovery_key = reply.get("recovery_key")
        self.master_key = reply.get("master_key")
        return reply

    async def create_dm(self, *user_ids: str, encrypted: bool = True, name: str | None = None) -> str:
        params: dict[str, Any] = {"user_ids": list(user_ids), "encrypted": encrypted}
        if name:
            params["name"] = name
        return str((await self.request("create_dm", **params))["room_id"])

    async def join(self, room_id: str) -> None:
        await self.request("join", room_id=room_id)

    async def leave(self, room_id: str) -> None:
        await self.request("leave", room_id=room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.request("invite", room_id=room_id, user_id=user_id)

    async def wait_member(self, room_id: str, user_id: str, membership: str = "join", timeout: float = 20) -> None:
        await self.request(
            "wait_member",
            room_id=room_id,
            user_id=user_id,
            membership=membership,
            timeout_ms=int(timeout * 1000),
            timeout=timeout + 5,
        )

    async def send_text(
        self,
        room_id: str,
        body: str,
        *,
        plain: bool = False,
        msgtype: str = "m.text",
        allow_failure: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Send a message. The reply has ``sent``; a refused send raises unless ``allow_failure``."""
        params: dict[str, Any] = {"room_id": room_id, "body": body, "plain": plain, "msgtype": msgtype}
        if extra:
            params["extra"] = extra
        return self._check_sent(await self.request("send_text", **params), allow_failure)

    async def send_reply(
        self, room_id: str, body: str, reply_to: str, *, allow_failure: bool = False
    ) -> dict[str, Any]:
        reply = await self.request("send_reply", room_id=room_id, body=body, reply_to=reply_to)
        return self._check_sent(reply, allow_failure)

    async def send_file(
        self,
        room_id: str,
        *,
        path: Path | str | None = None,
        data: bytes | None = None,
        filename: str | None = None,
        mimetype: str = "application/octet-stream",
        msgtype: str = "m.file",
        allow_failure: bool = False,
    ) -> dict[str, Any]:
        import base64

        params: dict[str, Any] = {"room_id": room_id, "mimetype": mimetype, "msgtype": msgtype}
        if path is not None:
            params["path"] = str(path)
        elif data is not None:
            params["data_b64"] = base64.b64encode(data).decode()
        else:
            raise ValueError("send_file needs path or data")
        if filename:
            params["filename"] = filename
        return self._check_sent(await self.request("send_file", timeout=60, **params), allow_failure)

    def _check_sent(self, reply: dict[str, Any], allow_failure: bool) -> dict[str, Any]:
        if not reply.get("sent") and not allow_failure:
            raise StrictClientError(
                f"{self.name}: send refused: {reply.get('error_name')}: "
                f"{reply.get('error')} (code {reply.get('error_code')})",
                reply,
            )
        return reply

    async def download(self, event_id: str) -> bytes:
        import base64

        reply = await self.request("download", event_id=event_id, timeout=60)
        return base64.b64decode(reply["data_b64"])

    async def cross_sign_device(self, device_id: str) -> dict[str, Any]:
        return await self.request("cross_sign_device", device_id=device_id, timeout=45)

    async def reset_identity(self, *, full: bool = False) -> dict[str, Any]:
        reply = await self.request("reset_identity", full=full, timeout=60)
        self.master_key = reply.get("master_key")
        if reply.get("recovery_key"):
            self.recovery_key = reply["recovery_key"]
        return reply

    async def user_verification_status(self, user_id: str) -> dict[str, Any]:
        return await self.request("user_verification_status", user_id=user_id)

    async def device_info(self, user_id: str, device_id: str) -> dict[str, Any]:
        return await self.request("device_info", user_id=user_id, device_id=device_id)

    async def cross_signing_status(self) -> dict[str, Any]:
        return await self.request("cross_signing_status")

    async def own_master_key(self) -> str | None:
        return (await self.request("own_master_key")).get("master_key")

    async def shield(self, event_id: str) -> dict[str, Any]:
        return await self.request("shield", event_id=event_id)

    async def verify_user(self, user_id: str) -> None:
        await self.request("verify_user", user_id=user_id, timeout=45)

    async def verify_user_in_dm(
        self, user_id: str, room_id: str, *, confirm: bool | None = None, timeout: float = 120
    ) -> str:
        """Element's "Verify user" in a DM (in-room emoji verification); returns the transaction id
        (the request's event id). Progress arrives as ``verification`` events (:meth:`wait_for_verification`);
        ``confirm`` answers the emoji at once, otherwise :meth:`verification_answer` does."""
        params: dict[str, Any] = {"user_id": user_id, "room_id": room_id, "timeout_ms": int(timeout * 1000)}
        if confirm is not None:
            params["confirm"] = confirm
        return str((await self.request("verify_user_in_dm", timeout=45, **params))["transaction_id"])

    async def verification_answer(self, transaction_id: str, match: bool, timeout: float = 30) -> None:
        await self.request(
            "verification_answer",
            transaction_id=transaction_id,
            match=match,
            timeout_ms=int(timeout * 1000),
            timeout=timeout + 5,
        )

    async def verification_status(self, transaction_id: str) -> dict[str, Any]:
        return await self.request("verification_status", transaction_id=transaction_id)

    async def wait_for_verification(self, transaction_id: str, *phases: str, timeout: float = 60) -> dict[str, Any]:
        """The first ``verification`` event of that flow in one of ``phases`` (or an error/cancel line if
        ``cancelled``/``error`` is not among them, which then raises)."""

        def find() -> dict[str, Any] | None:
            for ev in self.events:
                if ev.get("event") != "verification" or ev.get("transaction_id") != transaction_id:
                    continue
                if ev.get("phase") in phases:
                    return ev
                if ev.get("phase") in ("cancelled", "error"):
                    raise StrictClientError(f"{self.name}: verification {transaction_id} ended: {ev}")
            return None

        return dict(await self.wait_until(find, timeout))

    async def pin_identity(self, user_id: str) -> None:
        await self.request("pin_identity", user_id=user_id)

    async def set_isolation(self, mode: str, *, error_on_verified_user_problems: bool = False) -> None:
        await self.request("set_isolation", mode=mode, error_on_verified_user_problems=error_on_verified_user_problems)

    # -- events --------------------------------------------------------------------------

    def messages(self, sender: str | None = None, room_id: str | None = None) -> list[Message]:
        """Latest state of each ``message`` event seen (updates replace earlier lines), in arrival order."""
        latest: dict[str, Message] = {}
        for ev in self.events:
            if ev.get("event") != "message":
                continue
            if sender is not None and ev.get("sender") != sender:
                continue
            if room_id is not None and ev.get("room_id") != room_id:
                continue
            latest.pop(ev["event_id"], None)
            latest[ev["event_id"]] = ev
        return list(latest.values())

    async def wait_until(self, check: Callable[[], Any], timeout: float = 60) -> Any:
        """Bounded wait until ``check()`` is truthy (re-checked at each event line); return its value."""

        async def _wait() -> Any:
            async with self._changed:
                while True:
                    value = check()
                    if value:
                        return value
                    if self._exited:
                        raise StrictClientError(f"{self.name}: client process ended\n{self.stderr_tail()}")
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.name}: condition not met within {timeout:.0f}s") from None

    async def wait_for_message(
        self,
        sender: str,
        room_id: str | None = None,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 60,
    ) -> Message:
        """Wait for a message line from ``sender`` (in ``room_id``) matching ``predicate``; return it.

        Every line counts, including updates of the same event (late decryption, shield changes), so a
        predicate such as ``lambda m: m["decrypted"]`` waits for the decryption.
        """

        def find() -> Message | None:
            for ev in self.events:
                if (
                    ev.get("event") == "message"
                    and ev.get("sender") == sender
                    and (room_id is None or ev.get("room_id") == room_id)
                    and (predicate is None or predicate(ev))
                ):
                    return ev
            return None

        try:
            return await self.wait_until(find, timeout)
        except TimeoutError:
            seen = [
                {k: m.get(k) for k in ("event_id", "body", "decrypted", "decryption_error", "shield")}
                for m in self.messages(sender, room_id)
            ]
            raise TimeoutError(
                f"{self.name}: no matching message from {sender} in {room_id} within {timeout:.0f}s; seen: {seen}"
            ) from None

    async def wait_for_event(
        self, kind: str, predicate: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 60
    ) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            for ev in self.events:
                if ev.get("event") == kind and (predicate is None or predicate(ev)):
                    return ev
            return None

        return await self.wait_until(find, timeout)


StrictClientFactory = Callable[..., Awaitable[StrictClient]]


@pytest.fixture
async def strict_clients(synapse: Any, tmp_path: Path) -> AsyncIterator[StrictClientFactory]:
    """Factory fixture: ``await strict_clients(user, device_name=..., cross_sign=True, recovery_key=None)``.

    ``user`` is a :class:`bot.devserver.RegisteredUser`; the client is logged in against the session's
    Synapse. Skips the test (with the install hint) when node or the node_modules are missing. All clients
    are closed at teardown; their stderr logs are in ``tmp_path/strict-*.log``.
    """
    require_strict_client()
    clients: list[StrictClient] = []

    async def make(
        user: Any,
        *,
        device_name: str | None = None,
        cross_sign: bool = True,
        recovery_key: str | None = None,
        login: bool = True,
        **login_opts: Any,
    ) -> StrictClient:
        name = f"{user.localpart}-{len(clients)}"
        client = StrictClient(name, log_path=tmp_path / f"strict-{name}.log")
        clients.append(client)
        await client.start()
        if login:
            await client.login(
                synapse.url,
                user.user_id,
                user.password,
                device_name=device_name or f"Element strict {len(clients)}",
                cross_sign=cross_sign,
                recovery_key=recovery_key,
                **login_opts,
            )
        return client

    try:
        yield make
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
