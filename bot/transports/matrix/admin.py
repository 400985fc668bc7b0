"""Operator actions that run outside the bot process: ``reset-device`` and device trust.

``reset_device`` exists because a lost or mismatched crypto store cannot be repaired: the
device's private keys are gone. The only honest fix is a new device (new keys, partners
see a new device) and deleting the old one so nobody keeps encrypting to dead keys.
"""

from __future__ import annotations

import logging
import shutil
from typing import TYPE_CHECKING, Any

from nio import DeleteDevicesAuthResponse, DeleteDevicesError

from bot.transport import TransportError
from bot.transports.matrix.login import make_client, password_login
from bot.transports.matrix.state import (
    crypto_store_files,
    ensure_store_dir,
    load_credentials,
)
from bot.transports.matrix.trust import add_admin_trust_request

if TYPE_CHECKING:
    from bot.config import Config, MatrixConfig

log = logging.getLogger(__name__)


async def reset_device(config: MatrixConfig, previous_device: str | None = None) -> str:
    """Log in as a new device, delete the old one (password UIA), drop its store; return the new id.

    The sync token and the partner-device trust list are kept: the new device must not
    re-handle old messages, and partners' devices did not change.
    """
    if config.password is None:
        raise TransportError("reset-device needs the bot's password (password_file or password_env)")
    store_dir = ensure_store_dir(config.store_dir)
    old = load_credentials(store_dir)
    stale = crypto_store_files(store_dir, old.user_id, old.device_id) if old else []
    client = make_client(config)
    try:
        creds = await password_login(client, config)
        await client.keys_upload()
        # with the store folder gone, the database remembers which device the bot last ran as
        old_id = old.device_id if old is not None else previous_device
        if old_id is not None and old_id != creds.device_id:
            await _delete_device(client, config, old_id)
    finally:
        await client.close()
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    log.warning(
        "matrix: reset device: new device %s replaces %s",
        creds.device_id,
        old.device_id if old else (previous_device or "none"),
    )
    return creds.device_id


async def _delete_device(client: object, config: MatrixConfig, device_id: str) -> None:
    """Delete a device; the homeserver asks for the password through user-interactive auth."""
    from nio import AsyncClient

    assert isinstance(client, AsyncClient) and config.password is not None
    first = await client.delete_devices([device_id])
    if isinstance(first, DeleteDevicesAuthResponse):
        auth = {
            "type": "m.login.password",
            "session": first.session,
            "identifier": {"type": "m.id.user", "user": config.user_id},
            "password": config.password.reveal(),
        }
        result = await client.delete_devices([device_id], auth=auth)
        if isinstance(result, DeleteDevicesError):
            raise TransportError(f"deleting old device {device_id} failed: {result.status_code}")
    elif isinstance(first, DeleteDevicesError) and first.status_code != "M_NOT_FOUND":
        raise TransportError(f"deleting old device {device_id} failed: {first.status_code}")


async def reset_identity_cli(cfg: Config) -> tuple[str | None, str]:
    """``clusterbot matrix reset-identity``: new cross-signing keys, audited, admin room told on start.

    Returns (old fingerprint or None, new fingerprint).
    """
    from bot.transports.matrix.crosssign import fingerprint
    from bot.transports.matrix.identity import reset_identity
    from bot.transports.matrix.login import authed_request
    from bot.transports.matrix.state import IDENTITY_RESET_NOTICE_FILE, write_json

    mcfg = cfg.matrix
    creds = load_credentials(mcfg.store_dir)
    if creds is None:
        raise TransportError(f"matrix: no bot login in {mcfg.store_dir}; start the bot once first")
    client = make_client(mcfg, creds)
    client.restore_login(creds.user_id, creds.device_id, creds.access_token)

    async def http(method: str, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        return await authed_request(client, method, path, body)

    try:
        old, keys = await reset_identity(
            http,
            user_id=creds.user_id,
            device_id=creds.device_id,
            store_dir=mcfg.store_dir,
            passphrase=mcfg.pickle_key.reveal(),
            password=mcfg.password.reveal() if mcfg.password else None,
        )
    finally:
        await client.close()
    old_fp, new_fp = (fingerprint(old) if old else None), fingerprint(keys.master_public)
    write_json(mcfg.store_dir / IDENTITY_RESET_NOTICE_FILE, {"old": old_fp, "new": new_fp})
    await _audit_operator(cfg, "matrix.identity.reset")
    log.warning("matrix: identity reset by the operator: %s replaces %s", new_fp, old_fp)
    return old_fp, new_fp


async def _audit_operator(cfg: Config, action: str) -> None:
    from storage.opening import check_database
    from storage.store import Storage

    await check_database(cfg.storage.database_url)  # a misspelt SQLite path never becomes a new database
    store = await Storage.open(cfg.storage.database_url, cfg.storage.blob_dir, cfg.storage.master_key_file)
    try:
        await store.audit("operator", "admin", action, None, "done")
    finally:
        await store.close()


def trust_device(config: MatrixConfig, user_id: str, device_id: str, fingerprint: str | None = None) -> str:
    """Record an admin's decision to trust a device; the running bot applies it on its next sync.

    ``fingerprint`` (the device's ed25519 key as shown in the user's client) is optional
    but recommended: with it, a device that merely reuses the id is refused.
    """
    add_admin_trust_request(ensure_store_dir(config.store_dir), user_id, device_id, fingerprint)
    return f"Device {device_id} of {user_id} will be trusted on the bot's next sync" + (
        " if its fingerprint matches." if fingerprint else "."
    )
