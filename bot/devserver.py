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
from collections.abc import Iterator
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
            raise SynapseUnavailable(
                "matrix-synapse is not installed; install the dev extra: pip install -e '.[dev]'"
            )
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
                raise SynapseUnavailable(f"Synapse exited early; see {self.base_dir / 'stdout.log'}:\n"
                                         + self._tail_logs())
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

    def _request(self, method: str, path: str, body: dict[str, object] | None = None,
                 token: str | None = None) -> dict[str, object]:
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
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))
        body = {"nonce": nonce, "username": localpart, "password": password, "admin": admin,
                "mac": mac.hexdigest()}
        result = self._request("POST", "/_synapse/admin/v1/register", body)
        return RegisteredUser(
            user_id=str(result["user_id"]), localpart=localpart, password=password,
            access_token=str(result["access_token"]), device_id=str(result.get("device_id", "")),
        )


@contextlib.contextmanager
def running_synapse(base_dir: Path | None = None) -> Iterator[SynapseServer]:
    """``with running_synapse() as hs: ...`` — start, yield, always stop and clean up."""
    server = SynapseServer(base_dir)
    with server:
        yield server
