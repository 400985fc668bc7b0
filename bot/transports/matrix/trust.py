"""Who the bot trusts: users by their cross-signing identity, devices by their owner's signature.

nio shares a room key with a device when it is *verified*, never when it is
*blacklisted*, and raises ``OlmUnverifiedDeviceError`` for anything else (we never pass
``ignore_unverified_devices=True``). So the policy only has to put every device it knows
into one of the two states before each send; an unknown device can therefore never
receive a key by accident. The same verdict decides whether an incoming event acts.

For a user with a cross-signing identity (every current Element account):

* the user's master key is **pinned**: on first contact (``tofu``) or only once verified
  (``verified``: emoji verification compared by an admin, or an admin's
  ``clusterbot admin identity trust``);
* a device is trusted when the user's self-signing key (itself signed by the pinned master
  key) signed it; a device its owner has not signed gets no keys and is not acted on;
* a **changed** master key holds everything (no device of the user is trusted) until the
  user confirms with ``!devices confirm`` from a session of the new identity (``tofu``) or
  an admin confirms; the user and the admin room are told.

For an account without cross-signing (older clients, other bots), the earlier per-device
policy applies: ``tofu`` remembers the first devices seen (a user first seen with no device
gets first-use trust on their first device), later ones wait for ``!devices confirm``;
``verified`` needs an admin or emoji verification per device. An admin-trusted device
(``clusterbot admin device trust``, with its fingerprint) is trusted in every case.

Admin decisions are written by another process into ``admin_trust_requests.json``; the
running transport applies them on its next sync, so the CLI works whether or not the bot
is running.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import AsyncClient
from nio.crypto import OlmDevice, TrustState

from bot.transports.matrix.crosssign import Identity
from bot.transports.matrix.state import ADMIN_TRUST_FILE, DEVICE_TRUST_FILE, read_json, write_json

log = logging.getLogger(__name__)

TOFU = "tofu"
VERIFIED = "verified"


class Verdict(enum.Enum):
    TRUSTED = "trusted"
    UNSIGNED = "unsigned"  # the owner has an identity but did not sign this device
    IDENTITY_CHANGED = "identity changed"  # the user's master key is not the pinned one
    IDENTITY_UNVERIFIED = "identity not verified"  # verified mode, identity not verified yet
    NEW_DEVICE = "waiting for confirmation"  # no cross-signing: tofu device not confirmed yet
    UNVERIFIED = "not verified"  # no cross-signing, verified mode
    UNKNOWN = "unknown"  # the user's keys were not fetched yet


@dataclass(frozen=True)
class UserKeys:
    """What ``/keys/query`` said about one user: identity and which devices it signed."""

    identity: Identity | None
    signed: frozenset[tuple[str, str]] = frozenset()  # (device id, ed25519) signed by the SSK


@dataclass(frozen=True)
class DeviceChange:
    """Something the owner (and for identities, the admins) must hear about."""

    kind: Verdict
    user_id: str
    device_id: str
    display_name: str
    ed25519: str


@dataclass
class _State:
    remembered: dict[str, dict[str, str]] = field(default_factory=dict)
    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    admin_trusted: dict[str, dict[str, str]] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)  # user -> pinned master key
    verified_identities: dict[str, str] = field(default_factory=dict)  # user -> verified master key
    identity_changes: dict[str, str] = field(default_factory=dict)  # user -> new, unconfirmed master
    unsigned_reported: dict[str, dict[str, str]] = field(default_factory=dict)


class DeviceTrust:
    def __init__(self, store_dir: Path, mode: str, own_user_id: str, own_device_id: str) -> None:
        if mode not in (TOFU, VERIFIED):
            raise ValueError(f"device_trust must be 'tofu' or 'verified', not {mode!r}")
        self.mode = mode
        self._path = store_dir / DEVICE_TRUST_FILE
        self._admin_path = store_dir / ADMIN_TRUST_FILE
        self._own = (own_user_id, own_device_id)
        raw = read_json(self._path, {})
        self.s = _State(**{k: raw.get(k, {}) for k in _State.__dataclass_fields__})
        self.keys: dict[str, UserKeys] = {}
        self._admin_mtime: float | None = None

    def _save(self) -> None:
        write_json(self._path, {k: getattr(self.s, k) for k in _State.__dataclass_fields__})

    # -- verdicts ----------------------------------------------------------------------

    def pinned(self, user_id: str) -> str | None:
        return self.s.identities.get(user_id)

    def verdict(self, device: OlmDevice) -> Verdict:
        if self.s.admin_trusted.get(device.user_id, {}).get(device.id) == device.ed25519:
            return Verdict.TRUSTED
        keys = self.keys.get(device.user_id)
        if keys is None:
            return Verdict.UNKNOWN
        pinned = self.s.identities.get(device.user_id)
        if keys.identity is None:
            if pinned is not None:
                return Verdict.IDENTITY_CHANGED  # an identity never disappears on its own
            return self._legacy_verdict(device)
        if pinned is None:
            return Verdict.IDENTITY_UNVERIFIED
        if pinned != keys.identity.master:
            return Verdict.IDENTITY_CHANGED
        if (device.id, device.ed25519) in keys.signed:
            return Verdict.TRUSTED
        return Verdict.UNSIGNED

    def _legacy_verdict(self, device: OlmDevice) -> Verdict:
        if self.mode != TOFU:
            return Verdict.UNVERIFIED
        if self.s.remembered.get(device.user_id, {}).get(device.id) == device.ed25519:
            return Verdict.TRUSTED
        return Verdict.NEW_DEVICE

    def is_trusted(self, device: OlmDevice) -> bool:
        return self.verdict(device) is Verdict.TRUSTED

    def pending_for(self, user_id: str) -> dict[str, str]:
        return dict(self.s.pending.get(user_id, {}))

    def identity_change(self, user_id: str) -> str | None:
        """The new, unconfirmed master key of a user whose identity changed (else None)."""
        keys = self.keys.get(user_id)
        pinned = self.s.identities.get(user_id)
        if pinned is None or keys is None:
            return None
        current = keys.identity.master if keys.identity else ""
        return current if current != pinned else None

    def is_verified_identity(self, user_id: str) -> bool:
        keys = self.keys.get(user_id)
        return bool(keys and keys.identity and self.s.verified_identities.get(user_id) == keys.identity.master)

    # -- policy ------------------------------------------------------------------------

    def set_keys(self, user_id: str, keys: UserKeys) -> None:
        self.keys[user_id] = keys

    def apply(self, client: AsyncClient) -> list[DeviceChange]:
        """Pin first identities, put every known device into verified/blacklisted, return news."""
        self._apply_admin_requests(client)
        changes: list[DeviceChange] = []
        dirty = False
        for user_id in list(client.device_store.users):
            devices = [d for d in client.device_store.active_user_devices(user_id) if (d.user_id, d.id) != self._own]
            dirty |= self._first_contact(user_id, devices)
            change = self._identity_news(user_id)
            if change is not None:
                changes.append(change)
                dirty = True
            for device in devices:
                news, changed = self._decide(client, device)
                dirty |= changed
                if news is not None:
                    changes.append(news)
        if dirty:
            self._save()
        return changes

    def _first_contact(self, user_id: str, devices: list[OlmDevice]) -> bool:
        keys = self.keys.get(user_id)
        if keys is None or self.mode != TOFU:
            return False
        if keys.identity is not None:
            if user_id in self.s.identities:
                return False
            self.s.identities[user_id] = keys.identity.master
            log.info("tofu: pinned the cross-signing identity of %s on first contact", user_id)
            return True
        if self.s.remembered.get(user_id) or not devices:
            return False  # a user seen with no device yet gets first-use trust on their first one
        self.s.remembered[user_id] = {d.id: d.ed25519 for d in devices}
        log.info("tofu: remembered %d device(s) of %s on first use", len(devices), user_id)
        return True

    def _identity_news(self, user_id: str) -> DeviceChange | None:
        new = self.identity_change(user_id)
        if new is None:
            self.s.identity_changes.pop(user_id, None)
            return None
        if self.s.identity_changes.get(user_id) == new:
            return None
        self.s.identity_changes[user_id] = new
        log.warning("identity of %s changed; nothing is acted on or sent until confirmed", user_id)
        return DeviceChange(Verdict.IDENTITY_CHANGED, user_id, "", "", new)

    def _decide(self, client: AsyncClient, device: OlmDevice) -> tuple[DeviceChange | None, bool]:
        verdict = self.verdict(device)
        if verdict is Verdict.TRUSTED:
            if device.trust_state != TrustState.verified:
                client.verify_device(device)
            return None, False
        if device.trust_state != TrustState.blacklisted:
            client.blacklist_device(device)
        if verdict is Verdict.NEW_DEVICE:
            book = self.s.pending
        elif verdict is Verdict.UNSIGNED:
            book = self.s.unsigned_reported
        else:
            return None, False
        known = book.setdefault(device.user_id, {})
        if known.get(device.id) == device.ed25519:
            return None, False
        known[device.id] = device.ed25519
        log.warning("device %s of %s is not trusted (%s)", device.id, device.user_id, verdict.value)
        return DeviceChange(verdict, device.user_id, device.id, device.display_name or "", device.ed25519), True

    # -- decisions by the user or an admin ---------------------------------------------

    def confirm_pending(self, client: AsyncClient, user_id: str, device_id: str) -> list[str]:
        """The user confirmed one new (non-cross-signed) device: remember and verify it.

        One at a time, named by id: a blanket confirmation would also admit a device an
        attacker added at the same moment.
        """
        pending = self.s.pending.get(user_id, {})
        if device_id not in pending:
            return []
        ed25519 = pending.pop(device_id)
        if not pending:
            self.s.pending.pop(user_id, None)
        self.s.remembered.setdefault(user_id, {})[device_id] = ed25519
        confirmed = {device_id: ed25519}
        self._save()
        self.apply(client)
        return sorted(confirmed)

    def confirm_identity(self, client: AsyncClient, user_id: str, master: str, *, verified: bool = False) -> None:
        """Pin ``master`` as the user's identity (their confirmation, an admin's, or a verification)."""
        self.s.identities[user_id] = master
        self.s.identity_changes.pop(user_id, None)
        if verified:
            self.s.verified_identities[user_id] = master
        self._save()
        self.apply(client)

    def trust(self, user_id: str, device_id: str, ed25519: str) -> None:
        self.s.admin_trusted.setdefault(user_id, {})[device_id] = ed25519
        self.s.remembered.setdefault(user_id, {})[device_id] = ed25519
        self.s.pending.get(user_id, {}).pop(device_id, None)
        self._save()

    # -- admin requests (written by `clusterbot admin device|identity trust`) ----------

    def _apply_admin_requests(self, client: AsyncClient) -> None:
        try:
            mtime = self._admin_path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == self._admin_mtime:
            return
        requests: list[dict[str, Any]] = read_json(self._admin_path, [])
        remaining = [req for req in requests if not self._apply_admin_request(client, req)]
        if remaining != requests:
            write_json(self._admin_path, remaining)
        # Requests for devices not seen yet are retried on every sync until they show up.
        self._admin_mtime = None if remaining else self._admin_path.stat().st_mtime

    def _apply_admin_request(self, client: AsyncClient, req: dict[str, Any]) -> bool:
        """Apply one request; False keeps it for a later sync (keys not fetched yet)."""
        user_id = req["user_id"]
        if "master" in req:
            keys = self.keys.get(user_id)
            if keys is None or keys.identity is None:
                if client.olm:
                    client.olm.users_for_key_query.add(user_id)
                return False
            if req["master"].replace(" ", "") != keys.identity.master:
                log.error("admin identity trust for %s refused: fingerprint mismatch", user_id)
                return True
            self.s.identities[user_id] = keys.identity.master
            self.s.verified_identities[user_id] = keys.identity.master
            self.s.identity_changes.pop(user_id, None)
            self._save()
            log.info("admin confirmed the identity of %s", user_id)
            return True
        device = _lookup(client, user_id, req["device_id"])
        if device is None:
            if client.olm:
                client.olm.users_for_key_query.add(user_id)
            return False
        expected = req.get("ed25519")
        if expected and expected.replace(" ", "") != device.ed25519:
            log.error("admin trust for %s/%s refused: fingerprint mismatch", user_id, req["device_id"])
            return True
        self.trust(device.user_id, device.id, device.ed25519)
        log.info("admin trusted device %s of %s", device.id, device.user_id)
        return True


def _lookup(client: AsyncClient, user_id: str, device_id: str) -> OlmDevice | None:
    try:
        return client.device_store[user_id][device_id]
    except KeyError:
        return None


def add_admin_trust_request(
    store_dir: Path, user_id: str, device_id: str | None, ed25519: str | None, *, master: str | None = None
) -> None:
    """Queue an admin decision: a device (with its fingerprint) or a user's identity (master key)."""
    path = store_dir / ADMIN_TRUST_FILE
    requests: list[dict[str, Any]] = read_json(path, [])
    requests = [r for r in requests if (r["user_id"], r.get("device_id")) != (user_id, device_id)]
    entry: dict[str, Any] = {"user_id": user_id}
    if master is not None:
        entry["master"] = master
    else:
        entry["device_id"] = device_id
        if ed25519:
            entry["ed25519"] = ed25519
    requests.append(entry)
    write_json(path, requests)
