"""Device trust policy on top of nio's device store.

nio shares a room key with a device when it is *verified*, never when it is
*blacklisted*, and raises ``OlmUnverifiedDeviceError`` for anything else (we never pass
``ignore_unverified_devices=True``). So the policy only has to put every device it knows
into one of the two states before each send; an unknown device can therefore never
receive a key by accident.

* ``tofu``: the first time the bot sees a user, all their current devices are
  remembered (verified). Devices that appear later are blacklisted and reported until
  the user confirms them from a remembered device (``!devices confirm``) or an admin
  trusts them.
* ``verified``: only devices trusted by an admin
  (``clusterbot admin device trust``) or verified by emoji (SAS, compared by an admin in
  the admin room; see :mod:`bot.transports.matrix.sas`) are verified; everything else is
  blacklisted. Both kinds are stored as ``admin_trusted`` and survive restarts.

Admin decisions are written by another process into ``admin_trust_requests.json``; the
running transport applies them on its next sync, so the CLI works whether or not the bot
is running.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import AsyncClient
from nio.crypto import OlmDevice, TrustState

from bot.transports.matrix.state import ADMIN_TRUST_FILE, DEVICE_TRUST_FILE, read_json, write_json

log = logging.getLogger(__name__)

TOFU = "tofu"
VERIFIED = "verified"


@dataclass(frozen=True)
class DeviceChange:
    """A device the policy refused to trust yet (reported to its owner)."""

    user_id: str
    device_id: str
    display_name: str
    ed25519: str


class DeviceTrust:
    def __init__(self, store_dir: Path, mode: str, own_user_id: str, own_device_id: str) -> None:
        if mode not in (TOFU, VERIFIED):
            raise ValueError(f"device_trust must be 'tofu' or 'verified', not {mode!r}")
        self.mode = mode
        self._path = store_dir / DEVICE_TRUST_FILE
        self._admin_path = store_dir / ADMIN_TRUST_FILE
        self._own = (own_user_id, own_device_id)
        raw = read_json(self._path, {})
        self.remembered: dict[str, dict[str, str]] = raw.get("remembered", {})
        self.pending: dict[str, dict[str, str]] = raw.get("pending", {})
        self.admin_trusted: dict[str, dict[str, str]] = raw.get("admin_trusted", {})
        self._admin_mtime: float | None = None

    # -- persistence -------------------------------------------------------------------

    def _save(self) -> None:
        write_json(self._path, {"remembered": self.remembered, "pending": self.pending,
                                "admin_trusted": self.admin_trusted})

    # -- queries -----------------------------------------------------------------------

    def is_remembered(self, device: OlmDevice) -> bool:
        """Remembered on first use or confirmed by its owner (counts in ``tofu`` mode only)."""
        return self.remembered.get(device.user_id, {}).get(device.id) == device.ed25519

    def is_admin_trusted(self, device: OlmDevice) -> bool:
        return self.admin_trusted.get(device.user_id, {}).get(device.id) == device.ed25519

    def is_trusted(self, device: OlmDevice) -> bool:
        if self.is_admin_trusted(device):
            return True
        return self.mode == TOFU and self.is_remembered(device)

    def pending_for(self, user_id: str) -> dict[str, str]:
        return dict(self.pending.get(user_id, {}))

    # -- policy ------------------------------------------------------------------------

    def apply(self, client: AsyncClient) -> list[DeviceChange]:
        """Put every known device into verified/blacklisted; return newly refused devices."""
        self._apply_admin_requests(client)
        changes: list[DeviceChange] = []
        dirty = False
        for user_id in list(client.device_store.users):
            devices = [d for d in client.device_store.active_user_devices(user_id)
                       if (d.user_id, d.id) != self._own]
            if self.mode == TOFU and user_id not in self.remembered:
                self.remembered[user_id] = {d.id: d.ed25519 for d in devices}
                dirty = True
                log.info("tofu: remembered %d device(s) of %s on first use", len(devices), user_id)
            for device in devices:
                change, changed = self._decide(client, device)
                dirty |= changed
                if change:
                    changes.append(change)
        if dirty:
            self._save()
        return changes

    def _decide(self, client: AsyncClient, device: OlmDevice) -> tuple[DeviceChange | None, bool]:
        if self.is_trusted(device):
            if device.trust_state != TrustState.verified:
                client.verify_device(device)
            return None, False
        if device.trust_state != TrustState.blacklisted:
            client.blacklist_device(device)
        if self.mode != TOFU:
            return None, False
        known = self.pending.setdefault(device.user_id, {})
        if known.get(device.id) == device.ed25519:
            return None, False
        known[device.id] = device.ed25519
        log.warning("tofu: new device %s of %s is not trusted until confirmed", device.id, device.user_id)
        name = device.display_name or ""
        return DeviceChange(device.user_id, device.id, name, device.ed25519), True

    def confirm_pending(self, client: AsyncClient, user_id: str) -> list[str]:
        """The user confirmed their new devices: remember and verify them."""
        confirmed = self.pending.pop(user_id, {})
        for device_id, ed25519 in confirmed.items():
            self.remembered.setdefault(user_id, {})[device_id] = ed25519
        self._save()
        self.apply(client)
        return sorted(confirmed)

    def trust(self, user_id: str, device_id: str, ed25519: str) -> None:
        self.admin_trusted.setdefault(user_id, {})[device_id] = ed25519
        self.remembered.setdefault(user_id, {})[device_id] = ed25519
        self.pending.get(user_id, {}).pop(device_id, None)
        self._save()

    # -- admin requests (written by `clusterbot admin device trust`) -------------------

    def _apply_admin_requests(self, client: AsyncClient) -> None:
        try:
            mtime = self._admin_path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == self._admin_mtime:
            return
        requests: list[dict[str, Any]] = read_json(self._admin_path, [])
        remaining = []
        for req in requests:
            device = _lookup(client, req["user_id"], req["device_id"])
            if device is None:
                remaining.append(req)  # not seen yet; keep until the device shows up
                if client.olm:
                    client.olm.users_for_key_query.add(req["user_id"])
                continue
            expected = req.get("ed25519")
            if expected and expected.replace(" ", "") != device.ed25519:
                log.error("admin trust for %s/%s refused: fingerprint mismatch", req["user_id"], req["device_id"])
                continue
            self.trust(device.user_id, device.id, device.ed25519)
            log.info("admin trusted device %s of %s", device.id, device.user_id)
        if remaining != requests:
            write_json(self._admin_path, remaining)
        # Requests for devices not seen yet are retried on every sync until they show up.
        self._admin_mtime = None if remaining else self._admin_path.stat().st_mtime


def _lookup(client: AsyncClient, user_id: str, device_id: str) -> OlmDevice | None:
    try:
        return client.device_store[user_id][device_id]
    except KeyError:
        return None


def add_admin_trust_request(store_dir: Path, user_id: str, device_id: str, ed25519: str | None) -> None:
    path = store_dir / ADMIN_TRUST_FILE
    requests: list[dict[str, Any]] = read_json(path, [])
    requests = [r for r in requests if (r["user_id"], r["device_id"]) != (user_id, device_id)]
    entry: dict[str, Any] = {"user_id": user_id, "device_id": device_id}
    if ed25519:
        entry["ed25519"] = ed25519
    requests.append(entry)
    write_json(path, requests)
