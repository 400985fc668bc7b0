"""The bot's own cross-signing identity on the homeserver: create once, check every start.

Why: a device its owner has not cross-signed is an "insecure device" to Element, which
then neither sends it room keys nor shows its messages without a red warning. So on every
start the bot makes sure that

* the account has a cross-signing identity whose private keys the bot holds (sealed in
  ``store_dir``); on the very first start it creates and uploads one;
* the server's master key is the one the bot holds; if not, it refuses to start
  (:class:`IdentityMismatchError`): replacing an identity silently would make every
  partner's client warn about an identity change, so only ``clusterbot matrix
  reset-identity`` does that, on purpose;
* the current device is signed by the bot's self-signing key (a new device after
  ``matrix reset-device`` is signed here).

The HTTP is a narrow callable (``Http``) so this module can be driven by the transport
and by the operator CLI alike.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.transport import TransportError
from bot.transports.matrix.crosssign import (
    SEALED_FILE,
    CrossSigningKeys,
    SealError,
    device_signed_by,
    fingerprint,
    identity_from_query,
    seal_keys,
    sealed_master_public,
    unseal_keys,
)
from bot.transports.matrix.state import StoreMismatchError, atomic_write

log = logging.getLogger(__name__)

Http = Callable[[str, str, "dict[str, Any] | None"], Awaitable["tuple[int, dict[str, Any]]"]]

RESET_IDENTITY_HINT = (
    "run `clusterbot matrix reset-identity` to create a new identity (partners will see that the "
    "bot's identity changed and may have to verify it again)"
)


class IdentityMismatchError(StoreMismatchError):
    """The account's cross-signing identity is not one whose private keys the bot holds."""


class IdentityUploadError(TransportError):
    """The homeserver refused the cross-signing upload (one clear line for the operator)."""


def sealed_path(store_dir: Path) -> Path:
    return store_dir / SEALED_FILE


def load_keys(store_dir: Path, passphrase: str) -> CrossSigningKeys | None:
    try:
        sealed = sealed_path(store_dir).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return unseal_keys(sealed, passphrase)
    except SealError as exc:
        raise StoreMismatchError(
            f"matrix: {sealed_path(store_dir)}: {exc}; restore it and the pickle key together from the same backup"
        ) from None


def save_keys(store_dir: Path, keys: CrossSigningKeys, passphrase: str) -> None:
    atomic_write(sealed_path(store_dir), seal_keys(keys, passphrase))


def held_master(store_dir: Path) -> str | None:
    """The public master key recorded with the sealed keys (no secret needed)."""
    try:
        return sealed_master_public(sealed_path(store_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


async def query_keys(http: Http, user_ids: list[str]) -> dict[str, Any]:
    status, data = await http(
        "POST", "/_matrix/client/v3/keys/query", {"device_keys": {u: [] for u in user_ids}, "timeout": 10000}
    )
    if status >= 400:
        raise IdentityUploadError(f"matrix: keys/query -> {status} {data.get('errcode')}")
    return data


async def upload_identity(http: Http, user_id: str, keys: CrossSigningKeys, password: str | None) -> None:
    """``device_signing/upload``, answering user-interactive auth with the password if asked."""
    path = "/_matrix/client/v3/keys/device_signing/upload"
    body = keys.upload_body(user_id)
    status, data = await http("POST", path, body)
    if status == 401 and "flows" in data:
        if password is None:
            raise IdentityUploadError(
                "matrix: the homeserver asks for the bot's password to upload its "
                "cross-signing keys; configure password_file or password_env"
            )
        body["auth"] = {
            "type": "m.login.password",
            "session": data.get("session"),
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
        }
        status, data = await http("POST", path, body)
    if status >= 400:
        raise IdentityUploadError(f"matrix: cross-signing upload refused: {status} {data.get('errcode')}")


async def upload_signatures(http: Http, signed: dict[str, dict[str, dict[str, Any]]]) -> None:
    status, data = await http("POST", "/_matrix/client/v3/keys/signatures/upload", signed)
    failures = data.get("failures") or {}
    if status >= 400 or failures:
        raise IdentityUploadError(
            f"matrix: signature upload refused: {status} {data.get('errcode') or sorted(failures)}"
        )


async def sign_device(
    http: Http, user_id: str, device_id: str, keys: CrossSigningKeys, query: dict[str, Any] | None = None
) -> bool:
    """Sign our device with the self-signing key unless the server already shows that signature.

    Returns True when a new signature was uploaded.
    """
    query = query if query is not None else await query_keys(http, [user_id])
    device = (query.get("device_keys") or {}).get(user_id, {}).get(device_id)
    if device is None:
        raise IdentityUploadError(f"matrix: the homeserver has no keys for our device {device_id} yet")
    identity = identity_from_query(query, user_id)
    if identity is not None and identity.master == keys.master_public and device_signed_by(identity, device):
        return False
    await upload_signatures(http, {user_id: {device_id: keys.sign_own_device(user_id, device)}})
    log.info("matrix: signed device %s with the bot's self-signing key", device_id)
    return True


async def ensure_identity(
    http: Http, *, user_id: str, device_id: str, store_dir: Path, passphrase: str, password: str | None
) -> CrossSigningKeys:
    """Make the account's identity ours and our device signed; see the module docstring."""
    keys = load_keys(store_dir, passphrase)
    query = await query_keys(http, [user_id])
    server = identity_from_query(query, user_id)
    if server is None:
        if keys is None:
            keys = CrossSigningKeys.generate()
            save_keys(store_dir, keys, passphrase)  # sealed on disk before the server knows it
            log.info("matrix: created the bot's cross-signing identity %s", fingerprint(keys.master_public))
        await upload_identity(http, user_id, keys, password)
        query = await query_keys(http, [user_id])
    elif keys is None or server.master != keys.master_public:
        held = f" (the bot holds {fingerprint(keys.master_public)})" if keys else " (the bot holds none)"
        raise IdentityMismatchError(
            f"matrix: the account {user_id} has the cross-signing identity {fingerprint(server.master)}, "
            f"whose private keys this bot does not hold{held}. Restore cross_signing.sealed from a "
            f"backup of {store_dir}, or {RESET_IDENTITY_HINT}."
        )
    await sign_device(http, user_id, device_id, keys, query)
    return keys


async def reset_identity(
    http: Http, *, user_id: str, device_id: str, store_dir: Path, passphrase: str, password: str | None
) -> tuple[str | None, CrossSigningKeys]:
    """Replace the account's identity with a new one (operator's explicit choice).

    Returns (old master or None, new keys). The new sealed file replaces the old one only
    after the server accepted the new keys, so a refused upload loses nothing.
    """
    query = await query_keys(http, [user_id])
    old = identity_from_query(query, user_id)
    keys = CrossSigningKeys.generate()
    staged = store_dir / (SEALED_FILE + ".new")
    atomic_write(staged, seal_keys(keys, passphrase))
    try:
        await upload_identity(http, user_id, keys, password)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    staged.replace(sealed_path(store_dir))
    await sign_device(http, user_id, device_id, keys)
    return (old.master if old else None), keys
