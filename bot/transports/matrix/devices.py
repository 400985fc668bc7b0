"""Device checks: who the bot shares keys with and acts for, and the ``!devices`` command.

:class:`Devices` owns the trust store (:class:`~bot.transports.matrix.trust.DeviceTrust`)
once the transport started: it refreshes cross-signing identities after key queries,
applies the trust policy (refused sessions are blacklisted, so nio never shares a room key
with them), tells owners and the admin room what was refused, answers ``!devices``
(listing, ``confirm``), tells refused sessions why they got no key
(``m.room_key.withheld``), and records emoji-verified devices and identities.

It talks to the transport only through :class:`DevicesHost`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from nio import AsyncClient, ToDeviceMessage
from nio.crypto import OlmDevice

from bot.events import IncomingMessage
from bot.transport import TransportError
from bot.transports.matrix.crosssign import (
    CrossSigningKeys,
    device_signed_by,
    fingerprint,
    identity_from_query,
)
from bot.transports.matrix.identity import query_keys, upload_signatures
from bot.transports.matrix.inbound import DevicesCommand
from bot.transports.matrix.notices import identity_changed_notice, unsigned_device_notice
from bot.transports.matrix.trust import TOFU, DeviceChange, DeviceTrust, UserKeys, Verdict

if TYPE_CHECKING:
    from bot.config import MatrixConfig

log = logging.getLogger(__name__)

Audit = Callable[[str, str, "str | None", str], Awaitable[None]]
NotifyAdmins = Callable[[str], Awaitable[None]]

WITHHELD_REASON = "This session is not verified by its owner, or its owner's identity changed."


class DevicesHost(Protocol):
    """What the device checks need from the transport."""

    @property
    def client(self) -> AsyncClient: ...

    @property
    def user_id(self) -> str: ...

    @property
    def device_id(self) -> str: ...

    identity: CrossSigningKeys | None  # the bot's cross-signing keys, once started

    async def http(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Status and JSON body of an authenticated request."""

    async def notice(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        """A transport notice (may reach a user whose new identity is unconfirmed); never raises."""

    async def notice_to_user(self, user_id: str, text: str) -> None:
        """A transport notice in the user's private chat; raises when it cannot be sent."""

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the sync loop."""


class Devices:
    def __init__(
        self, host: DevicesHost, config: MatrixConfig, *, audit: Audit, notify_admins: NotifyAdmins | None
    ) -> None:
        self._host = host
        self._config = config
        self._audit = audit
        self._notify_admins = notify_admins
        self._trust: DeviceTrust | None = None
        self._withheld_sent: dict[str, set[tuple[str, str]]] = {}  # megolm session -> told sessions

    @property
    def trust(self) -> DeviceTrust:
        assert self._trust is not None, "matrix: device trust is loaded at start"
        return self._trust

    @property
    def loaded(self) -> DeviceTrust | None:
        return self._trust

    def load(self) -> None:
        """Open the trust store for the bot's (now known) user and device."""
        self._trust = DeviceTrust(
            self._config.store_dir, self._config.device_trust, self._host.user_id, self._host.device_id
        )

    @property
    def _tofu(self) -> bool:
        return self._config.device_trust == TOFU

    # ------------------------------------------------------------------ keys --

    async def refresh_identities(self, user_ids: set[str]) -> None:
        """Fetch cross-signing identities and device signatures (nio drops them from keys/query)."""
        users = sorted(u for u in user_ids if u != self._host.user_id)
        for start in range(0, len(users), 100):
            chunk = users[start : start + 100]
            query = await query_keys(self._host.http, chunk)
            for user_id in chunk:
                identity = identity_from_query(query, user_id)
                devices = (query.get("device_keys") or {}).get(user_id) or {}
                signed = frozenset(
                    (device_id, keys.get("keys", {}).get(f"ed25519:{device_id}", ""))
                    for device_id, keys in devices.items()
                    if identity is not None and device_signed_by(identity, keys)
                )
                self.trust.set_keys(user_id, UserKeys(identity, signed))

    def apply_policy(self) -> None:
        """Classify every known device; what was refused is reported beside the sync loop."""
        for change in self.trust.apply(self._host.client):
            self._host.in_background(self.report(change))

    # ---------------------------------------------------------------- senders --

    def sender_device(self, event: Any) -> OlmDevice | None:
        client = self._host.client
        if not getattr(event, "decrypted", False) or event.sender not in client.device_store.users:
            return None  # a plain event has no device we could check
        return client.device_store.device_from_sender_key(event.sender, event.sender_key or "")

    def sender_verdict(self, event: Any) -> Verdict:
        device = self.sender_device(event)
        return Verdict.UNKNOWN if device is None else self.trust.verdict(device)

    def from_trusted_device(self, event: Any) -> bool:
        return self.sender_verdict(event) is Verdict.TRUSTED

    # ---------------------------------------------------------------- reports --

    async def report(self, change: DeviceChange) -> None:
        """Tell the owner (and, for an identity change, the admin room) what the bot refused."""
        if change.kind is Verdict.IDENTITY_CHANGED:
            text = identity_changed_notice(self._tofu)
            await self._audit(change.user_id, "matrix.identity.changed", None, "denied")
            await self._identity_changed_to_admins(change)
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
            await self._host.notice_to_user(change.user_id, text)
        except Exception:
            log.exception("matrix: could not notify %s about a device or identity change", change.user_id)

    async def _identity_changed_to_admins(self, change: DeviceChange) -> None:
        if not self._notify_admins:
            return
        try:
            await self._notify_admins(
                f"The Matrix identity of {change.user_id} changed (new master key "
                f"{fingerprint(change.ed25519)}). Nothing is acted on or sent to them until they "
                "confirm from a session of the new identity or an admin runs "
                "`clusterbot admin identity trust`."
            )
        except Exception:
            log.exception("matrix: could not notify admins about an identity change")

    # -------------------------------------------------------------- !devices --

    async def command(self, msg: IncomingMessage, event: Any, cmd: DevicesCommand) -> None:
        """``!devices`` (listing) and ``!devices confirm [DEVICE]``."""
        reply = self._host.notice
        if not cmd.confirm:
            await reply(msg.chat_id, self.listing(msg.sender_id), reply_to=msg.event_id)
            return
        new_identity = self.trust.identity_change(msg.sender_id)
        if new_identity is not None:
            await self._confirm_identity(msg, event, new_identity)
            return
        pending = self.trust.pending_for(msg.sender_id)
        if not pending:
            await reply(msg.chat_id, "There is no new device to confirm.", reply_to=msg.event_id)
            return
        if not msg.encrypted or not self.from_trusted_device(event):
            await self._refuse_confirmation(msg, pending)
            return
        device_id = cmd.device_id
        if device_id is None and len(pending) == 1:
            device_id = next(iter(pending))
        if device_id is None or device_id not in pending:
            await reply(
                msg.chat_id,
                "Which device? Send `!devices confirm DEVICEID` for one of: "
                + ", ".join(sorted(pending))
                + ". Confirm only devices you recognise.",
                reply_to=msg.event_id,
            )
            return
        confirmed = self.trust.confirm_pending(self._host.client, msg.sender_id, device_id)
        await self._audit(msg.sender_id, "matrix.device.confirm", ",".join(confirmed), "allowed")
        log.info("matrix: %s confirmed device(s) %s", msg.sender_id, ",".join(confirmed))
        await reply(msg.chat_id, f"Confirmed: {', '.join(confirmed)}. Thank you.", reply_to=msg.event_id)

    async def _refuse_confirmation(self, msg: IncomingMessage, pending: dict[str, str]) -> None:
        await self._host.notice(
            msg.chat_id,
            "Please confirm from one of your already confirmed devices, in an encrypted chat. "
            "If you no longer have any of them, ask an administrator to trust the new device.",
            reply_to=msg.event_id,
        )
        await self._audit(msg.sender_id, "matrix.device.confirm", ",".join(sorted(pending)), "denied")
        if self._notify_admins:
            await self._notify_admins(
                f"{msg.sender_id} asked to confirm device(s) {', '.join(sorted(pending))} "
                "without a confirmed device; `clusterbot admin device trust` can do it."
            )

    async def _confirm_identity(self, msg: IncomingMessage, event: Any, new_master: str) -> None:
        """``!devices confirm`` after an identity change: only from a session the new identity signed."""
        device = self.sender_device(event)
        keys = self.trust.keys.get(msg.sender_id)
        signed_by_new = (
            device is not None
            and keys is not None
            and keys.identity is not None
            and keys.identity.master == new_master
            and (device.id, device.ed25519) in keys.signed
        )
        if not self._tofu or not msg.encrypted or not signed_by_new:
            await self._audit(msg.sender_id, "matrix.identity.confirm", None, "denied")
            await self._host.notice(
                msg.chat_id,
                "I cannot confirm your new identity from here: "
                + (
                    "an administrator must confirm it (`clusterbot admin identity trust`)."
                    if not self._tofu
                    else "send `!devices confirm` from a session you verified with your new identity."
                ),
                reply_to=msg.event_id,
            )
            return
        self.trust.confirm_identity(self._host.client, msg.sender_id, new_master)
        await self._audit(msg.sender_id, "matrix.identity.confirm", None, "allowed")
        if self._notify_admins:
            await self._notify_admins(
                f"{msg.sender_id} confirmed their new Matrix identity "
                f"{fingerprint(new_master)} from a session it signed."
            )
        await self._host.notice(msg.chat_id, "Your new identity is confirmed. Thank you.", reply_to=msg.event_id)

    def listing(self, user_id: str) -> str:
        trust = self.trust
        keys = trust.keys.get(user_id)
        if keys is None or keys.identity is None:
            head = "Your account has no cross-signing identity; I trust your devices one by one."
        elif trust.identity_change(user_id):
            head = f"Your identity CHANGED to {fingerprint(keys.identity.master)} and is not confirmed yet."
        elif trust.is_verified_identity(user_id):
            head = f"Your identity {fingerprint(keys.identity.master)} is verified."
        elif trust.pinned(user_id):
            head = f"Your identity {fingerprint(keys.identity.master)} is known (trusted on first use)."
        else:
            head = f"Your identity {fingerprint(keys.identity.master)} is not verified yet."
        lines = [
            f"- {d.id} {d.display_name or ''} ({trust.verdict(d).value})"
            for d in self._host.client.device_store.active_user_devices(user_id)
        ]
        return head + "\nYour devices:\n" + "\n".join(lines or ["(none known)"])

    # ------------------------------------------------------ emoji verification --

    async def trust_sas_verified(self, device: OlmDevice, master: str | None = None) -> None:
        """A device passed emoji verification: trust it like an admin-trusted one (persisted).

        ``master`` is the owner's master key when the verification's MAC covered it (Element's
        "Verify user"). Only then, and when it is the current identity that signed the device,
        is the identity verified too: pinned as verified and signed with the bot's user-signing
        key, so the partner's client shows the bot as having verified them. A device-only
        verification never pins an identity: whoever replaced an identity could have signed
        the real device's key with it.
        """
        self.trust.trust(device.user_id, device.id, device.ed25519)
        keys = self.trust.keys.get(device.user_id)
        if (
            master is not None
            and keys is not None
            and keys.identity is not None
            and keys.identity.master == master
            and (device.id, device.ed25519) in keys.signed
        ):
            self.trust.confirm_identity(self._host.client, device.user_id, keys.identity.master, verified=True)
            await self._sign_user(device.user_id)
        self.apply_policy()

    async def _sign_user(self, user_id: str) -> None:
        """Sign the user's (verified) master key with our user-signing key."""
        own = self._host.identity
        if own is None:
            return
        query = await query_keys(self._host.http, [user_id])
        identity = identity_from_query(query, user_id)
        if identity is None or identity.master != self.trust.pinned(user_id):
            return
        signed = own.sign_user(self._host.user_id, identity.master_obj)
        try:
            await upload_signatures(self._host.http, {user_id: {identity.master: signed}})
            log.info("matrix: signed the verified identity of %s", user_id)
        except TransportError as exc:
            log.warning("matrix: could not sign the identity of %s: %s", user_id, exc)

    # -------------------------------------------------------------- withheld --

    async def send_withheld(self, chat_id: str) -> None:
        """Tell each refused session of the room's members *why* it got no key (``m.room_key.withheld``).

        Element then shows the reason in place of the message (e.g. "your device is
        unverified"), which is the only thing an untrusted session may learn.
        """
        client = self._host.client
        room = client.rooms.get(chat_id)
        olm = client.olm
        session = olm.outbound_group_sessions.get(chat_id) if olm else None
        if room is None or olm is None or session is None:
            return
        sent = self._withheld_sent.setdefault(session.id, set())
        for user_id in set(room.users):
            if user_id == self._host.user_id:
                continue
            for device in client.device_store.active_user_devices(user_id):
                if not device.blacklisted or (user_id, device.id) in sent:
                    continue
                sent.add((user_id, device.id))
                content = {
                    "algorithm": "m.megolm.v1.aes-sha2",
                    "room_id": chat_id,
                    "session_id": session.id,
                    "sender_key": olm.account.identity_keys["curve25519"],
                    "from_device": self._host.device_id,
                    "code": "m.unverified",
                    "reason": WITHHELD_REASON,
                }
                try:
                    await client.to_device(ToDeviceMessage("m.room_key.withheld", user_id, device.id, content))
                except Exception:
                    log.exception("matrix: could not send a withheld notice to a session of %s", user_id)
