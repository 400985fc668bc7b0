"""Element's "Verify user": emoji (SAS) verification inside the direct chat, human in the loop.

Element (user info -> Verify) does not use to-device messages for this but *in-room*
verification (spec: "Key verification framework", "Short Authentication String (SAS)
verification"): an ``m.room.message`` with ``msgtype: m.key.verification.request``
(``from_device``, ``methods``, ``to``) in the direct chat, then ``m.key.verification.
ready/start/accept/key/mac/done/cancel`` room events that point at the request with
``m.relates_to: {rel_type: m.reference, event_id: <request>}``. The request's event id
is the flow id: it stands where the to-device flow has its ``transaction_id``, also in
the SAS and MAC info strings. nio 0.26 knows none of this, and its ``Sas`` builds
to-device messages only, so the m.sas.v1 steps are done here with vodozemac's ``Sas``.

The bot only *answers* (the partner's app sends ``start``): request -> ``ready``; start
-> ``accept`` (commitment = sha256 over our public key and the canonical start content);
their key -> our key, and the seven emoji go to the admin room exactly like the to-device
flow (:mod:`.sas`): an admin compares them with the user over another channel and answers
``!devices sas <request event id> match|mismatch``. On ``match`` the bot checks the
partner's MAC over their device key AND their master (cross-signing) key, refuses any
mismatch with ``m.key_mismatch``, sends its own MAC over its device key and its master key
(so the partner's app marks the bot's *identity* verified and signs it), sends ``done``,
then trusts the device through ``trust_sas_verified`` (which pins the partner's identity as
verified and signs their master key with the bot's user-signing key).

Encryption: matrix-js-sdk 43 (Element Web/Desktop, Rust crypto) sends these events
*unencrypted* even in an encrypted room, which the spec allows ("verification messages may
be sent unencrypted"). The bot accepts them either way and answers unencrypted too: its
trust policy withholds room keys from a partner device until it is verified, so encrypted
answers could not be read by exactly the device being verified. Nothing in these events
is secret, and none of it can be forged usefully: whatever key ends up trusted is covered
by the SAS MACs, which need the shared secret behind the emoji the admin compared. What
the bot does insist on: the request is addressed to the bot, comes from a registered user
in a room whose only members are that user and the bot, and every later event of the flow
comes from that user, in that room, for the device named in the request.

Timing: the partner's app (Rust crypto) gives up one minute after the last event it
received and five minutes after the start, so the admin must answer while the user is on
the phone; the bot's own deadline (``timeout_seconds`` of the verifier) is a backstop.

Nothing here logs emoji, names or message text: user, device, room and event ids only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import vodozemac
from nio import RoomMessageUnknown, UnknownEvent
from nio.crypto import OlmDevice
from nio.crypto.sas import Sas

from bot.transports.matrix.crosssign import (
    b64,
    canonical_json,
    device_signed_by,
    fingerprint,
    identity_from_query,
)
from bot.transports.matrix.identity import query_keys
from bot.transports.matrix.login import authed_request
from bot.transports.matrix.notices import format_emoji

if TYPE_CHECKING:
    from bot.transports.matrix.crosssign import Identity

log = logging.getLogger(__name__)

REQUEST_MSGTYPE = "m.key.verification.request"
FLOW_TYPES = frozenset(
    {
        "m.key.verification.ready",
        "m.key.verification.start",
        "m.key.verification.accept",
        "m.key.verification.key",
        "m.key.verification.mac",
        "m.key.verification.done",
        "m.key.verification.cancel",
    }
)
SAS_METHOD = "m.sas.v1"
KEY_AGREEMENT = "curve25519-hkdf-sha256"  # the only one current clients offer; v1 ("curve25519") is gone
HASH = "sha256"
#: MAC methods in order of preference (as matrix-sdk-crypto chooses).
MAC_METHODS = ("hkdf-hmac-sha256.v2", "org.matrix.msc3783.hkdf-hmac-sha256", "hkdf-hmac-sha256")
#: ``m.key.verification.request`` older than this (or this far in the future) is ignored (spec).
REQUEST_MAX_AGE_MS = 10 * 60 * 1000
REQUEST_MAX_FUTURE_MS = 5 * 60 * 1000
AUDIT_DEVICE = "matrix.device_verified"
AUDIT_IDENTITY = "matrix.identity_verified"

#: The spec's emoji table (data-definitions/sas-emoji.json), as Element names them; nio's copy
#: differs in three names.
_SPEC_NAMES = {"Wrench": "Spanner", "Thumbs up": "Thumbs Up", "Airplane": "Aeroplane"}
EMOJI = [(symbol, _SPEC_NAMES.get(name, name)) for symbol, name in Sas.emoji]


def is_verification_event(event: Any) -> bool:
    """An in-room verification event as nio hands it over (plain or decrypted)."""
    if isinstance(event, RoomMessageUnknown):
        return event.msgtype == REQUEST_MSGTYPE
    return isinstance(event, UnknownEvent) and event.type in FLOW_TYPES


class _Cancel(Exception):
    """End the flow with this code and reason (sent to the partner)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(code)
        self.code, self.reason = code, reason


@dataclass
class _Flow:
    flow_id: str  # the request's event id
    room_id: str
    user_id: str
    device: OlmDevice
    deadline: float
    state: str = "ready"  # ready -> accepted -> keys -> confirmed
    sas: vodozemac.Sas | None = None
    our_key: str = ""
    their_key: str = ""
    mac_method: str = ""
    established: vodozemac.EstablishedSas | None = None
    their_mac: dict[str, Any] | None = None  # their m.key.verification.mac content, checked
    master: str | None = None  # their master key, as covered by their MAC
    posted: bool = False
    confirmed_by: str | None = None


class VerifierOwner(Protocol):
    """What the in-room verifier uses of its owner, :class:`~bot.transports.matrix.sas.SasVerifier`
    (typed here, not imported: the owner imports this module)."""

    _host: Any  # the transport, as sas.SasHost
    _clock: Callable[[], float]
    _audit: Callable[[str, str, str | None, str], Awaitable[None]]
    timeout_seconds: float

    async def _post_admin(self, text: str) -> None: ...

    async def _refusal(self, user_id: str, device_id: str) -> tuple[str, str] | None: ...

    async def _reply(self, msg: Any, text: str) -> None: ...


class InRoomVerifier:
    """The in-room half of :class:`~bot.transports.matrix.sas.SasVerifier` (which owns it)."""

    def __init__(self, owner: VerifierOwner) -> None:
        self._owner = owner
        self._host = owner._host
        self._flows: dict[str, _Flow] = {}
        self._queue: list[tuple[str, Any]] = []
        self.live = False  # set by the owner's process(): the admin room is known from then on

    # ------------------------------------------------------------------ intake --

    def reset(self) -> None:
        self._flows.clear()
        self._queue.clear()
        self.live = False

    @property
    def open_count(self) -> int:
        return len(self._flows)

    @property
    def next_deadline(self) -> float | None:
        return min((f.deadline for f in self._flows.values()), default=None)

    def owns(self, flow_id: str) -> bool:
        return flow_id in self._flows

    async def on_room_event(self, room_id: str, event: Any) -> bool:
        """Take an in-room verification event (True) or leave the event alone (False)."""
        if not is_verification_event(event):
            return False
        if self.live:
            await self._handle(room_id, event)
        else:  # first sync after a (re)start: the admin room is not resolved yet
            self._queue.append((room_id, event))
        return True

    async def process(self) -> None:
        """Handle what arrived before the verifier was live, then end overdue flows."""
        self.live = True
        queue, self._queue = self._queue, []
        for room_id, event in queue:
            await self._handle(room_id, event)
        now = self._owner._clock()
        for flow in [f for f in self._flows.values() if now >= f.deadline]:
            log.info("matrix: SAS (in-room) %s timed out", flow.flow_id)
            await self._cancel(flow, "m.timeout", "Timed out")
            await self._owner._post_admin(
                f"Emoji verification {flow.flow_id} of {flow.user_id} device {flow.device.id} timed out "
                "without an answer and was cancelled. The user can start it again."
            )

    async def _handle(self, room_id: str, event: Any) -> None:
        log.debug(
            "matrix: SAS (in-room): %s %s from %s in %s (encrypted: %s)",
            event.source.get("type"),
            event.event_id,
            event.sender,
            room_id,
            bool(getattr(event, "decrypted", False)),
        )
        try:
            if isinstance(event, RoomMessageUnknown):
                await self._on_request(room_id, event)
            else:
                await self._on_flow_event(room_id, event)
        except Exception:
            log.exception(
                "matrix: SAS (in-room): handling %s from %s failed",
                event.source.get("type"),
                getattr(event, "sender", "?"),
            )

    # ---------------------------------------------------------------- requests --

    async def _on_request(self, room_id: str, event: RoomMessageUnknown) -> None:
        content = event.content
        flow_id, sender = event.event_id, event.sender
        device_id = content.get("from_device")
        if content.get("to") != self._host.client.user_id or not isinstance(device_id, str):
            return  # a request for someone else (or malformed): not ours to answer
        now_ms = time.time() * 1000
        if not now_ms - REQUEST_MAX_AGE_MS <= event.server_timestamp <= now_ms + REQUEST_MAX_FUTURE_MS:
            log.info("matrix: SAS (in-room): ignored a stale verification request %s from %s", flow_id, sender)
            return
        reason = await self._owner._refusal(sender, device_id)
        if reason is None and not self._is_direct_with(room_id, sender):
            reason = ("m.user", "Verify the bot in your direct chat with it")
        if reason is None and SAS_METHOD not in (content.get("methods") or []):
            reason = ("m.unknown_method", "Only emoji (m.sas.v1) verification is supported")
        device = await self._device(sender, device_id) if reason is None else None
        if device is None:
            code, text = reason or ("m.user", "Unknown device")
            await self._send(room_id, "m.key.verification.cancel", {"code": code, "reason": text}, flow_id)
            return
        for old in [f for f in self._flows.values() if f.user_id == sender]:
            await self._cancel(old, "m.user", "A new verification request replaced this one")
        await self._send(
            room_id,
            "m.key.verification.ready",
            {"from_device": self._host.client.device_id, "methods": [SAS_METHOD]},
            flow_id,
        )
        self._flows[flow_id] = _Flow(
            flow_id, room_id, sender, device, self._owner._clock() + self._owner.timeout_seconds
        )
        log.info(
            "matrix: SAS (in-room): ready for request %s from %s device %s in %s", flow_id, sender, device_id, room_id
        )

    def _is_direct_with(self, room_id: str, user_id: str) -> bool:
        room = self._host.client.rooms.get(room_id)
        return room is not None and set(room.users) == {self._host.client.user_id, user_id}

    async def _device(self, user_id: str, device_id: str) -> OlmDevice | None:
        client = self._host.client
        store = client.device_store
        if user_id not in store.users or device_id not in store[user_id]:
            assert client.olm is not None
            client.olm.users_for_key_query.add(user_id)
            await client.keys_query()
        if user_id in store.users and device_id in store[user_id]:
            return store[user_id][device_id]
        return None

    # -------------------------------------------------------------- flow events --

    async def _on_flow_event(self, room_id: str, event: UnknownEvent) -> None:
        content = event.source.get("content") or {}
        flow_id = (content.get("m.relates_to") or {}).get("event_id")
        flow = self._flows.get(flow_id) if isinstance(flow_id, str) else None
        if flow is None or flow.room_id != room_id or event.sender != flow.user_id:
            return  # not a flow of ours (another user's, an ended one, or ours echoed back)
        kind = event.type.rsplit(".", 1)[-1]
        try:
            if kind == "cancel":
                await self._on_cancel(flow, content)
            elif kind == "start":
                await self._on_start(flow, content)
            elif kind == "key":
                await self._on_key(flow, content)
            elif kind == "mac":
                await self._on_mac(flow, content)
            elif kind in ("ready", "accept"):  # we answer; we never start, so neither is expected
                raise _Cancel("m.unexpected_message", "Unexpected message")
            # "done": nothing to do, we finish on our own side
        except _Cancel as cancel:
            log.warning("matrix: SAS (in-room) %s with %s: cancelled (%s)", flow.flow_id, flow.user_id, cancel.code)
            await self._cancel(flow, cancel.code, cancel.reason)
            await self._owner._post_admin(
                f"Emoji verification {flow.flow_id} of {flow.user_id} device {flow.device.id} was cancelled "
                f"({cancel.code}: {cancel.reason}). The device is not trusted."
            )
            if cancel.code == "m.key_mismatch":
                await self._owner._audit(flow.user_id, AUDIT_DEVICE, flow.device.id, "denied")
        except Exception:
            log.exception("matrix: SAS (in-room) %s: failed; cancelling", flow.flow_id)
            await self._cancel(flow, "m.user", "Internal error")

    async def _on_cancel(self, flow: _Flow, content: dict[str, Any]) -> None:
        self._flows.pop(flow.flow_id, None)
        code = str(content.get("code") or "m.user")
        log.info(
            "matrix: SAS (in-room) %s with %s device %s ended by them: %s",
            flow.flow_id,
            flow.user_id,
            flow.device.id,
            code,
        )
        await self._owner._post_admin(
            f"Emoji verification {flow.flow_id} of {flow.user_id} device {flow.device.id} was cancelled "
            f"by their side ({code}). The device is not trusted."
        )

    async def _on_start(self, flow: _Flow, content: dict[str, Any]) -> None:
        if flow.state != "ready" or content.get("from_device") != flow.device.id:
            raise _Cancel("m.unexpected_message", "Unexpected message")
        macs = content.get("message_authentication_codes") or []
        strings = content.get("short_authentication_string") or []
        mac_method = next((m for m in MAC_METHODS if m in macs), None)
        if (
            content.get("method") != SAS_METHOD
            or KEY_AGREEMENT not in (content.get("key_agreement_protocols") or [])
            or HASH not in (content.get("hashes") or [])
            or mac_method is None
            or not ({"emoji", "decimal"} & set(strings))
        ):
            raise _Cancel("m.unknown_method", "Unknown method")
        flow.sas = vodozemac.Sas()
        flow.our_key = flow.sas.public_key.to_base64()
        flow.mac_method = mac_method
        commitment = b64(hashlib.sha256(flow.our_key.encode() + canonical_json(content)).digest())
        await self._send(
            flow.room_id,
            "m.key.verification.accept",
            {
                "key_agreement_protocol": KEY_AGREEMENT,
                "hash": HASH,
                "message_authentication_code": mac_method,
                "short_authentication_string": [s for s in ("decimal", "emoji") if s in strings],
                "commitment": commitment,
            },
            flow.flow_id,
        )
        flow.state = "accepted"
        log.info(
            "matrix: SAS (in-room) %s: accepted the start from %s device %s", flow.flow_id, flow.user_id, flow.device.id
        )

    async def _on_key(self, flow: _Flow, content: dict[str, Any]) -> None:
        key = content.get("key")
        if flow.state != "accepted" or flow.sas is None or not isinstance(key, str):
            raise _Cancel("m.unexpected_message", "Unexpected message")
        try:
            flow.established = flow.sas.diffie_hellman(vodozemac.Curve25519PublicKey.from_base64(key))
        except (vodozemac.KeyException, vodozemac.SasException, ValueError):
            raise _Cancel("m.invalid_message", "Invalid public key") from None
        flow.their_key = key
        await self._send(flow.room_id, "m.key.verification.key", {"key": flow.our_key}, flow.flow_id)
        flow.state = "keys"
        await self._post_emoji(flow)

    async def _on_mac(self, flow: _Flow, content: dict[str, Any]) -> None:
        if flow.state not in ("keys", "confirmed") or flow.their_mac is not None:
            raise _Cancel("m.unexpected_message", "Unexpected message")
        flow.master = await self._check_their_mac(flow, content)  # raises m.key_mismatch
        flow.their_mac = content
        if flow.state == "confirmed":
            await self._finish(flow)

    # ---------------------------------------------------------------- the SAS --

    def _sas_bytes(self, flow: _Flow) -> vodozemac.SasBytes:
        """They started, so their ids and key come first in the info string (spec)."""
        assert flow.established is not None
        client = self._host.client
        info = (
            f"MATRIX_KEY_VERIFICATION_SAS|{flow.user_id}|{flow.device.id}|{flow.their_key}"
            f"|{client.user_id}|{client.device_id}|{flow.our_key}|{flow.flow_id}"
        )
        return flow.established.bytes(info)

    def _mac(self, flow: _Flow, value: str, info: str) -> str:
        assert flow.established is not None
        if flow.mac_method == "hkdf-hmac-sha256":  # the old libolm encoding, still offered by clients
            return flow.established.calculate_mac_invalid_base64(value, info)
        return flow.established.calculate_mac(value, info)

    async def _check_their_mac(self, flow: _Flow, content: dict[str, Any]) -> str | None:
        """Check their MAC over their device key and (if they have one) their master key.

        Any mismatch, or a MAC that leaves out the device key or the user's current master
        key, raises ``m.key_mismatch``. Returns the master key when the verified device is also
        signed by it (only then does ``trust_sas_verified`` verify the identity), else None.
        """
        client = self._host.client
        macs, keys = content.get("mac"), content.get("keys")
        if (
            not isinstance(macs, dict)
            or not isinstance(keys, str)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in macs.items())
        ):
            raise _Cancel("m.invalid_message", "Invalid message")
        info = (
            f"MATRIX_KEY_VERIFICATION_MAC{flow.user_id}{flow.device.id}{client.user_id}{client.device_id}{flow.flow_id}"
        )

        def matches(value: str, key_id: str, tag: str | None) -> bool:
            return tag is not None and hmac.compare_digest(self._mac(flow, value, info + key_id).encode(), tag.encode())

        if not matches(",".join(sorted(macs)), "KEY_IDS", keys):
            raise _Cancel("m.key_mismatch", "Key mismatch")
        device_key_id = f"ed25519:{flow.device.id}"
        if not matches(flow.device.ed25519, device_key_id, macs.get(device_key_id)):
            raise _Cancel("m.key_mismatch", "Key mismatch")
        query = await query_keys(self._http, [flow.user_id])
        identity = identity_from_query(query, flow.user_id)
        if identity is None:
            return None  # no cross-signing identity: only the device is verified
        master_key_id = f"ed25519:{identity.master}"
        if not matches(identity.master, master_key_id, macs.get(master_key_id)):
            raise _Cancel("m.key_mismatch", "Key mismatch")
        device_keys = ((query.get("device_keys") or {}).get(flow.user_id) or {}).get(flow.device.id) or {}
        if device_keys.get("keys", {}).get(device_key_id) != flow.device.ed25519 or not device_signed_by(
            identity, device_keys
        ):
            log.warning(
                "matrix: SAS (in-room) %s: device %s is not signed by the identity of %s; verifying the device only",
                flow.flow_id,
                flow.device.id,
                flow.user_id,
            )
            return None
        return identity.master

    async def _identity(self, user_id: str) -> Identity | None:
        return identity_from_query(await query_keys(self._http, [user_id]), user_id)

    async def _send_our_mac(self, flow: _Flow) -> None:
        """Our MAC over our device key and our master key (so their app verifies the bot's identity)."""
        client = self._host.client
        assert client.olm is not None
        info = (
            f"MATRIX_KEY_VERIFICATION_MAC{client.user_id}{client.device_id}{flow.user_id}{flow.device.id}{flow.flow_id}"
        )
        keys = {f"ed25519:{client.device_id}": client.olm.account.identity_keys["ed25519"]}
        if self._host.identity is not None:
            master = self._host.identity.master_public
            keys[f"ed25519:{master}"] = master
        macs = {key_id: self._mac(flow, value, info + key_id) for key_id, value in keys.items()}
        await self._send(
            flow.room_id,
            "m.key.verification.mac",
            {"mac": macs, "keys": self._mac(flow, ",".join(sorted(macs)), info + "KEY_IDS")},
            flow.flow_id,
        )

    # ------------------------------------------------------------ admin answer --

    async def _post_emoji(self, flow: _Flow) -> None:
        sas_bytes = self._sas_bytes(flow)
        emoji = format_emoji([EMOJI[i] for i in sas_bytes.emoji_indices])
        decimals = " ".join(str(n) for n in sas_bytes.decimals)
        identity = await self._identity(flow.user_id)
        minutes = max(1, round(self._owner.timeout_seconds / 60))
        text = (
            f"User verification request from {flow.user_id} in their direct chat: identity "
            f"{identity.fingerprint if identity else '(none)'}, device {flow.device.id} "
            f"({flow.device.display_name or 'unnamed'}, fingerprint {flow.device.ed25519}).\n"
            f"Transaction: {flow.flow_id}\n"
            f"Emoji: {emoji}\n"
            f"(If their app shows numbers instead: {decimals})\n"
            "Call the user (phone, video or in person, not through this chat) and compare these emoji "
            "with the ones on their screen, in order. Then answer here, quickly: their app gives up about a "
            "minute after the emoji appeared.\n"
            f"`!devices sas {flow.flow_id} match` or `!devices sas {flow.flow_id} mismatch`\n"
            f"The request is cancelled if nobody answers within {minutes} minutes."
        )
        room = self._host.admin_room_id()
        if room is None:
            await self._cancel(flow, "m.user", "No admin room is configured")
            return
        try:
            await self._host.send_text(room, text)
        except Exception:
            log.exception("matrix: SAS (in-room) %s: could not post to the admin room; cancelling", flow.flow_id)
            await self._cancel(flow, "m.user", "The administrators could not be reached")
            return
        flow.posted = True
        log.info(
            "matrix: SAS (in-room) %s: emoji of %s device %s posted to the admin room",
            flow.flow_id,
            flow.user_id,
            flow.device.id,
        )

    async def answer(self, msg: Any, flow_id: str, answer: str) -> None:
        """An admin's ``match``/``mismatch`` (already checked: admin, admin room, trusted device)."""
        owner = self._owner
        flow = self._flows.get(flow_id)
        if flow is None or not flow.posted or flow.state != "keys":
            await owner._reply(msg, f"There is no open emoji verification {flow_id}.")
            return
        await owner._audit(msg.sender_id, f"matrix.device_sas.{answer}", flow.device.id, "allowed")
        if answer == "mismatch":
            log.warning(
                "matrix: SAS (in-room) %s: admin %s reported a mismatch for %s device %s",
                flow_id,
                msg.sender_id,
                flow.user_id,
                flow.device.id,
            )
            await self._cancel(flow, *Sas._sas_mismatch_error)
            await owner._reply(
                msg,
                f"Cancelled {flow_id}: the emoji did not match. {flow.user_id} and their "
                f"device {flow.device.id} stay unverified. Someone may be intercepting; talk to "
                "the user.",
            )
            await owner._audit(flow.user_id, AUDIT_DEVICE, flow.device.id, "denied")
            return
        flow.confirmed_by = msg.sender_id
        await self._send_our_mac(flow)
        flow.state = "confirmed"
        log.info("matrix: SAS (in-room) %s: admin %s confirmed the emoji", flow_id, msg.sender_id)
        if flow.their_mac is not None:
            await self._finish(flow)
        else:
            await owner._reply(msg, f"Confirmed {flow_id}; waiting for the user to confirm on their device.")

    async def _finish(self, flow: _Flow) -> None:
        """Both sides confirmed and both MACs are sent and checked: done, then trust."""
        self._flows.pop(flow.flow_id, None)
        await self._send(flow.room_id, "m.key.verification.done", {}, flow.flow_id)
        device = flow.device
        await self._host.trust_sas_verified(device, flow.master)
        log.info(
            "matrix: SAS (in-room) %s: %s device %s verified%s (confirmed by %s)",
            flow.flow_id,
            flow.user_id,
            device.id,
            " with their identity" if flow.master else "",
            flow.confirmed_by,
        )
        owner = self._owner
        await owner._audit(flow.user_id, AUDIT_DEVICE, device.id, "done")
        if flow.master:
            await owner._audit(flow.user_id, AUDIT_IDENTITY, fingerprint(flow.master), "done")
        what = f"{flow.user_id} (identity {fingerprint(flow.master)})" if flow.master else flow.user_id
        await owner._post_admin(f"{what} and their device {device.id} are verified (transaction {flow.flow_id}).")
        self._host.tell_user_later(
            flow.user_id,
            f"You are verified: your device {device.id} ({device.display_name or 'unnamed'})"
            + (" and your identity" if flow.master else "")
            + ". I will share encrypted messages with it from now on.",
        )

    # ----------------------------------------------------------------- helpers --

    async def _cancel(self, flow: _Flow, code: str, reason: str) -> None:
        self._flows.pop(flow.flow_id, None)
        await self._send(flow.room_id, "m.key.verification.cancel", {"code": code, "reason": reason}, flow.flow_id)

    async def _send(self, room_id: str, event_type: str, content: dict[str, Any], flow_id: str) -> None:
        """One flow event, unencrypted like Element's (see the module docstring); failures are logged."""
        body = {**content, "m.relates_to": {"rel_type": "m.reference", "event_id": flow_id}}
        path = (
            f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/{quote(event_type, safe='')}/"
            f"clusterbot-sas-{uuid.uuid4().hex}"
        )
        try:
            status, data = await self._http("PUT", path, body)
        except Exception:
            log.exception("matrix: SAS (in-room) %s: sending %s failed", flow_id, event_type)
            return
        if status >= 400:
            log.warning(
                "matrix: SAS (in-room) %s: sending %s failed: %s %s", flow_id, event_type, status, data.get("errcode")
            )

    async def _http(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        return await authed_request(self._host.client, method, path, body)
