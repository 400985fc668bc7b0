"""Files the Matrix transport keeps in ``store_dir`` next to nio's crypto store.

Why these live together: the access token, the device id and the Olm/Megolm keys are
one identity. Restoring a token with a different store (or the reverse) makes the bot
unable to decrypt, so they are created, moved and deleted together. Every file is written
atomically (write + rename) with mode 0600 so a crash never leaves half a token behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CREDENTIALS_FILE = "credentials.json"
SYNC_TOKEN_FILE = "sync_token"
DEVICE_TRUST_FILE = "device_trust.json"
ADMIN_TRUST_FILE = "admin_trust_requests.json"
PENDING_FILE = "undecryptable_pending.json"
IDENTITY_RESET_NOTICE_FILE = "identity_reset_notice.json"  # left by `matrix reset-identity` for the bot


def ensure_store_dir(store_dir: Path) -> Path:
    store_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(store_dir, 0o700)
    return store_dir


def atomic_write(path: Path, data: str) -> None:
    """Write ``data`` to ``path`` so readers see the old or the new content, never a mix."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, json.dumps(value, indent=2, sort_keys=True))


class StoreMismatchError(RuntimeError):
    """The crypto store is missing or belongs to another device: start-up must stop loudly."""


@dataclass(frozen=True)
class Credentials:
    user_id: str
    device_id: str
    access_token: str
    homeserver: str

    def __repr__(self) -> str:
        return f"Credentials(user_id={self.user_id!r}, device_id={self.device_id!r}, access_token='***')"


def load_credentials(store_dir: Path) -> Credentials | None:
    raw = read_json(store_dir / CREDENTIALS_FILE, None)
    if not raw:
        return None
    return Credentials(**{k: raw[k] for k in ("user_id", "device_id", "access_token", "homeserver")})


def save_credentials(store_dir: Path, creds: Credentials) -> None:
    write_json(store_dir / CREDENTIALS_FILE, asdict(creds))


def load_sync_token(store_dir: Path) -> str | None:
    try:
        token = (store_dir / SYNC_TOKEN_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return token or None


def save_sync_token(store_dir: Path, token: str) -> None:
    atomic_write(store_dir / SYNC_TOKEN_FILE, token)


def crypto_store_files(store_dir: Path, user_id: str, device_id: str) -> list[Path]:
    """nio's DefaultStore files for one device (database + trust lists)."""
    prefix = f"{user_id}_{device_id}"
    return [p for p in store_dir.iterdir() if p.name.startswith(prefix)] if store_dir.exists() else []


def crypto_db_path(store_dir: Path, user_id: str, device_id: str) -> Path:
    return store_dir / f"{user_id}_{device_id}.db"
