"""Login and restore: the one device the bot is, and the store that must match it.

The first start logs in with the password as a new device (or adopts a configured access
token); every later start restores that device from ``store_dir``. A store that is missing,
cannot be opened with the pickle key, or whose keys are not the server's keys for the
device stops the start with :class:`StoreMismatchError` and instructions, never silently.

Narrow inputs: the Matrix config and an :class:`AsyncClient`; no transport object.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.transport import TransportError
from bot.transports.matrix.state import (
    IDENTITY_RESET_NOTICE_FILE,
    Credentials,
    StoreMismatchError,
    crypto_db_path,
    ensure_store_dir,
    load_credentials,
    read_json,
    save_credentials,
)

if TYPE_CHECKING:
    from bot.config import MatrixConfig

log = logging.getLogger(__name__)

SYNC_TIMEOUT_MS = 30_000
RESET_HINT = "run `clusterbot matrix reset-device --config <file>` to log in as a new device and delete the old one"

#: An authenticated JSON request: (method, path, body) -> (status, body).
Http = Callable[[str, str, "dict[str, Any] | None"], Awaitable["tuple[int, dict[str, Any]]"]]


async def authed_request(
    client: AsyncClient, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """One authenticated JSON request outside nio's wrappers; returns (status, body)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            client.homeserver + path,
            json=body,
            headers={"Authorization": f"Bearer {client.access_token}"},
            timeout=aiohttp.ClientTimeout(total=30),
        ) as resp,
    ):
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


async def login_or_restore(cfg: MatrixConfig) -> AsyncClient:
    """The client for the bot's device: restored from ``store_dir``, or logged in the first time."""
    ensure_store_dir(cfg.store_dir)
    creds = load_credentials(cfg.store_dir)
    if creds is not None and creds.user_id != cfg.user_id:
        raise StoreMismatchError(
            f"matrix: store_dir {cfg.store_dir} holds credentials for {creds.user_id}, "
            f"not {cfg.user_id}; use a separate store_dir per account"
        )
    if creds is None:
        if cfg.password is None and cfg.access_token is not None:
            return await adopt_access_token(cfg)
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
            f"{cfg.store_dir}; the bot cannot decrypt anything with it. {RESET_HINT}."
        )
    client = make_client(cfg, creds)
    try:
        client.restore_login(creds.user_id, creds.device_id, creds.access_token)
    except Exception as exc:  # vodozemac raises its own pickle exceptions
        await client.close()
        raise StoreMismatchError(
            f"matrix: the encryption store in {cfg.store_dir} cannot be opened with the configured "
            f"pickle_key ({type(exc).__name__}). Restore the right pickle_key; if it is lost, "
            f"{RESET_HINT}."
        ) from exc
    return client


async def adopt_access_token(cfg: MatrixConfig) -> AsyncClient:
    """First start with only an access token: learn the device id from ``whoami``."""
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


async def check_device_keys(client: AsyncClient, cfg: MatrixConfig, http: Http) -> None:
    """Refuse to run when the server's keys for our device are not the store's keys.

    That happens when the store was replaced or restored from an old backup: the bot
    would silently fail to decrypt everything, so we stop with instructions instead.
    """
    who = await client.whoami()
    if not isinstance(who, WhoamiResponse):
        raise StoreMismatchError(
            f"matrix: the homeserver rejected the stored access token for device "
            f"{client.device_id} ({getattr(who, 'status_code', who)}). If the device was "
            f"deleted or logged out, {RESET_HINT}."
        )
    user_id, device_id = str(client.user_id), str(client.device_id)
    server_keys = await server_device_keys(http, user_id, device_id)
    assert client.olm is not None
    ours = client.olm.account.identity_keys["ed25519"]
    if server_keys is None:
        if client.olm.account.shared:
            log.warning("matrix: server has no keys for our device; re-uploading")
            client.olm.account.shared = False
    elif server_keys != ours:
        raise StoreMismatchError(
            f"matrix: the encryption store in {cfg.store_dir} does not match device "
            f"{device_id} on the homeserver (different identity key). {RESET_HINT}."
        )
    if client.should_upload_keys:
        await client.keys_upload()


async def server_device_keys(http: Http, user_id: str, device_id: str) -> str | None:
    """The ed25519 key the homeserver publishes for one device, or None."""
    body = {"device_keys": {user_id: [device_id]}, "timeout": 10000}
    path = "/_matrix/client/v3/keys/query"
    status, data = await http("POST", path, body)
    if status >= 400:
        raise TransportError(f"matrix: POST {path} -> {status} {data.get('errcode')}")
    device = data.get("device_keys", {}).get(user_id, {}).get(device_id)
    if not device:
        return None
    return device.get("keys", {}).get(f"ed25519:{device_id}")


async def announce_identity_reset(cfg: MatrixConfig, notify_admins: Callable[[str], Awaitable[None]] | None) -> None:
    """After ``matrix reset-identity``: tell the admin room once what partners will see."""
    path = cfg.store_dir / IDENTITY_RESET_NOTICE_FILE
    notice = read_json(path, None)
    if not notice or notify_admins is None:
        return
    try:
        await notify_admins(
            f"The bot's Matrix identity was reset by the operator: new master key {notice.get('new')} "
            f"(was {notice.get('old') or 'none'}). Partners' apps will show that the bot's identity "
            "changed; publish the new fingerprint so they can compare it, and verify the bot again."
        )
    except Exception:
        log.exception("matrix: could not tell the admin room about the identity reset")
        return
    path.unlink(missing_ok=True)
