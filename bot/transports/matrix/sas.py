"""Interactive emoji (SAS) verification with a human in the loop.

A bot cannot look at a screen, so "do the emoji match?" is answered by a person: when a
directory user's device starts an SAS verification with the bot's device, the bot accepts
it, posts the seven emoji (and the transaction id) into the encrypted admin room, and an
admin compares them with the user over a channel they already trust (a phone or video
call, in person; never the chat being verified) and answers in the admin room::

    !devices sas TXN match      -> the bot sends its MAC (confirm_short_auth_string)
    !devices sas TXN mismatch   -> the bot cancels with m.mismatched_sas

When both MACs check out (``sas.verified``) the device is trusted exactly like an
admin-trusted device (same trust store, survives restarts), the user is told in their
direct chat (after the trust is recorded, so the new device can read it), and the event
is logged (ids only) and audited.

Protocol notes (matrix-nio 0.26):

* nio handles every ``m.key.verification.*`` event *before* our to-device callback runs
  and queues its own replies (our public key after theirs) in
  ``client.outgoing_to_device_messages``. The callback only queues the event; the
  transport calls :meth:`SasVerifier.process` after it sent nio's queued to-device
  messages, so our key always goes out before anything we send ourselves.
* nio's ``Sas`` times out one minute after it was created (``_last_event_time`` is never
  updated), which is far too short for a person to answer. Each accepted ``Sas`` gets a
  longer per-instance limit; our own deadline (:data:`SAS_TIMEOUT_SECONDS`) fires first
  and cancels cleanly with ``m.timeout``.
* nio 0.26 does not know ``m.key.verification.request``/``ready``/``done`` (the flow that
  current clients such as Element start with). The bot answers a to-device request with
  ``ready`` itself and sends ``done`` after success, so those clients can go on to the
  ``start`` that nio understands.
* Element's "Verify user" (in the direct chat) is *in-room* verification, which nio does
  not know at all: :mod:`.sas_inroom` does it (same admin answer, same bookkeeping limits);
  the transport hands it the room events through :meth:`SasVerifier.on_room_event`.

Nothing here logs emoji, names or message text: user, device and transaction ids only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from nio import (
    AsyncClient,
    KeyVerificationEvent,
    KeyVerificationStart,
    LocalProtocolError,
    ToDeviceResponse,
    UnknownToDeviceEvent,
)
from nio.crypto import OlmDevice
from nio.crypto.sas import Sas, SasState
from nio.event_builders import ToDeviceMessage

from bot.transports.matrix.crosssign import CrossSigningKeys
from bot.transports.matrix.notices import format_emoji
from bot.transports.matrix.sas_inroom import InRoomVerifier

log = logging.getLogger(__name__)

#: How long an accepted verification waits for the admin's answer (and the user's device).
SAS_TIMEOUT_SECONDS = 600.0
#: At most this many verifications wait for an admin at once; more are cancelled (flood guard).
MAX_PENDING = 20
#: ``m.key.verification.request`` older than this (or this far in the future) is ignored (spec).
REQUEST_MAX_AGE_MS = 10 * 60 * 1000
REQUEST_MAX_FUTURE_MS = 5 * 60 * 1000

SAS_METHOD = "m.sas.v1"
AUDIT_ACTION = "matrix.device_verified"


class SasHost(Protocol):
    """What the verifier needs from the transport."""

    @property
    def client(self) -> AsyncClient: ...

    identity: CrossSigningKeys | None  # the bot's cross-signing keys (its MAC covers the master key)

    def admin_room_id(self) -> str | None: ...

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> str: ...

    def tell_user_later(self, user_id: str, text: str) -> None: ...

    async def trust_sas_verified(self, device: OlmDevice, master: str | None = None) -> None: ...


@dataclass
class _Verification:
    txn: str
    user_id: str
    device_id: str
    deadline: float
    posted: bool = False
    confirmed_by: str | None = None


class SasVerifier:
    def __init__(
        self,
        host: SasHost,
        *,
        is_known_user: Callable[[str], Awaitable[bool]],
        is_admin: Callable[[str], Awaitable[bool]] | None,
        audit: Callable[[str, str, str | None, str], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
        timeout_seconds: float = SAS_TIMEOUT_SECONDS,
    ) -> None:
        self._host = host
        self._is_known_user = is_known_user
        self._is_admin = is_admin
        self._audit = audit
        self._clock = clock
        self.timeout_seconds = timeout_seconds
        self._queue: list[Any] = []
        self._pending: dict[str, _Verification] = {}
        self._requests: set[str] = set()  # txns that began with m.key.verification.request
        self.in_room = InRoomVerifier(self)  # Element's "Verify user" in the direct chat
        if is_admin is None:
            log.warning(
                "matrix: no admin lookup was given; emoji (SAS) verifications cannot be "
                "confirmed by anyone and will be cancelled"
            )

    # ------------------------------------------------------------------ intake --

    def reset(self) -> None:
        """Forget everything (a new client after a restart: nio's verifications are gone too)."""
        self._queue.clear()
        self._pending.clear()
        self._requests.clear()
        self.in_room.reset()

    async def on_to_device(self, event: Any) -> None:
        """nio to-device callback: only queue; :meth:`process` does the work after the sync."""
        if isinstance(event, KeyVerificationEvent) or (
            isinstance(event, UnknownToDeviceEvent) and event.type == "m.key.verification.request"
        ):
            self._queue.append(event)
        if isinstance(event, KeyVerificationStart) and not await self._is_known_user(event.sender):
            olm = self._host.client.olm
            if olm is not None:  # nio asked to fetch a stranger's keys (unknown device): don't
                olm.users_for_key_query.discard(event.sender)

    async def on_room_event(self, room_id: str, event: Any) -> bool:
        """An in-room verification event (True: taken, do not pass it on) or not (False)."""
        return await self.in_room.on_room_event(room_id, event)

    @property
    def next_deadline(self) -> float | None:
        deadlines = [v.deadline for v in self._pending.values()]
        if self.in_room.next_deadline is not None:
            deadlines.append(self.in_room.next_deadline)
        return min(deadlines, default=None)

    async def process(self) -> None:
        """Handle queued events, then move every open verification along (or end it)."""
        queue, self._queue = self._queue, []
        for event in queue:
            try:
                if isinstance(event, KeyVerificationStart):
                    await self._on_start(event)
                elif isinstance(event, UnknownToDeviceEvent):
                    await self._on_request(event)
            except Exception:
                log.exception(
                    "matrix: SAS: handling %s from %s failed", type(event).__name__, getattr(event, "sender", "?")
                )
        for verification in list(self._pending.values()):
            try:
                await self._advance(verification)
            except Exception:
                log.exception("matrix: SAS %s: failed; cancelling", verification.txn)
                await self._cancel(verification, "m.user", "Internal error")
        await self.in_room.process()

    # ---------------------------------------------------------------- requests --

    async def _on_request(self, event: UnknownToDeviceEvent) -> None:
        content = event.source.get("content", {})
        txn, device_id = content.get("transaction_id"), content.get("from_device")
        if not isinstance(txn, str) or not isinstance(device_id, str):
            return
        now_ms = time.time() * 1000
        stamp = content.get("timestamp")
        if isinstance(stamp, int) and not (now_ms - REQUEST_MAX_AGE_MS <= stamp <= now_ms + REQUEST_MAX_FUTURE_MS):
            log.info("matrix: SAS: ignored a stale verification request %s from %s", txn, event.sender)
            return
        reason = await self._refusal(event.sender, device_id)
        if reason is None and SAS_METHOD not in (content.get("methods") or []):
            reason = ("m.unknown_method", "Only emoji (m.sas.v1) verification is supported")
        if reason is not None:
            await self._send_raw_cancel(event.sender, device_id, txn, *reason)
            return
        self._requests.add(txn)
        await self._to_device(
            ToDeviceMessage(
                "m.key.verification.ready",
                event.sender,
                device_id,
                {"from_device": self._host.client.device_id, "methods": [SAS_METHOD], "transaction_id": txn},
            )
        )
        log.info("matrix: SAS: ready for request %s from %s device %s", txn, event.sender, device_id)

    async def _refusal(self, user_id: str, device_id: str) -> tuple[str, str] | None:
        """Why a verification from this user must be cancelled right away, or None."""
        if not await self._is_known_user(user_id):
            log.warning("matrix: SAS: cancelled a verification from unknown user %s device %s", user_id, device_id)
            await self._audit(user_id, AUDIT_ACTION, device_id, "denied")
            return ("m.user", "This bot only verifies devices of its registered users")
        if self._is_admin is None or self._host.admin_room_id() is None:
            log.warning(
                "matrix: SAS: cancelled a verification from %s device %s: no admin room or admin "
                "lookup is configured to compare the emoji",
                user_id,
                device_id,
            )
            return ("m.user", "Emoji verification is not enabled on this bot; ask an administrator")
        if len(self._pending) + self.in_room.open_count >= MAX_PENDING:
            log.warning("matrix: SAS: too many open verifications; cancelled one from %s", user_id)
            return ("m.user", "Too many verifications are waiting; try again later")
        return None

    # ------------------------------------------------------------------- start --

    async def _on_start(self, event: KeyVerificationStart) -> None:
        client = self._host.client
        txn, device_id = event.transaction_id, event.from_device
        reason = await self._refusal(event.sender, device_id)
        sas = client.key_verifications.get(txn)
        if reason is not None:
            if sas is not None and not sas.canceled:
                sas.cancel()
            await self._send_raw_cancel(event.sender, device_id, txn, *reason)
            self._requests.discard(txn)
            return
        if sas is None:
            # nio drops a start from a device it has no keys for; fetch them and hand it back.
            assert client.olm is not None
            client.olm.users_for_key_query.add(event.sender)
            await client.keys_query()
            client.olm.handle_key_verification(event)
            await self._flush()
            sas = client.key_verifications.get(txn)
            if sas is None:
                log.warning("matrix: SAS: device %s of %s is unknown; cancelled %s", device_id, event.sender, txn)
                await self._send_raw_cancel(event.sender, device_id, txn, "m.key_mismatch", "Unknown device")
                return
        if sas.canceled:  # malformed start or unsupported methods: nio queued the cancel
            await self._flush()
            log.warning("matrix: SAS: start %s from %s was refused by nio (%s)", txn, event.sender, sas.cancel_code)
            return
        # nio would give up after one minute; a person needs longer. Our deadline fires first.
        limit = timedelta(seconds=self.timeout_seconds + 120)
        sas._max_age = limit
        sas._max_event_timeout = limit
        await self._flush()
        resp = await client.accept_key_verification(txn)
        if not isinstance(resp, ToDeviceResponse):
            log.warning("matrix: SAS: accepting %s failed", txn)
            return
        self._pending[txn] = _Verification(txn, event.sender, device_id, self._clock() + self.timeout_seconds)
        log.info("matrix: SAS: accepted verification %s from %s device %s", txn, event.sender, device_id)

    # ----------------------------------------------------------------- advance --

    async def _advance(self, v: _Verification) -> None:
        sas = self._host.client.key_verifications.get(v.txn)
        if sas is None or sas.canceled:
            self._pending.pop(v.txn, None)
            self._requests.discard(v.txn)
            code = sas.cancel_code if sas is not None else "m.user"
            log.info("matrix: SAS %s with %s device %s ended: %s", v.txn, v.user_id, v.device_id, code)
            await self._post_admin(
                f"Emoji verification {v.txn} of {v.user_id} device {v.device_id} was cancelled "
                f"({code}: {sas.cancel_reason if sas is not None else 'cancelled by the other side'}). "
                "The device is not trusted."
            )
            return
        if sas.verified:
            await self._finish(v, sas)
            return
        if self._clock() >= v.deadline:
            log.info("matrix: SAS %s timed out", v.txn)
            await self._cancel(v, *Sas._timeout_error)
            await self._post_admin(
                f"Emoji verification {v.txn} of {v.user_id} device {v.device_id} timed out without an "
                "answer and was cancelled. The user can start it again."
            )
            return
        if (
            not v.posted
            and sas.established_sas is not None
            and sas.state in (SasState.key_received, SasState.mac_received)
        ):
            await self._post_emoji(v, sas)

    async def _post_emoji(self, v: _Verification, sas: Sas) -> None:
        device = sas.other_olm_device
        emoji = sas.get_emoji()
        decimals = " ".join(str(n) for n in sas.get_decimals())
        minutes = max(1, round(self.timeout_seconds / 60))
        text = (
            f"Emoji verification request from {v.user_id}, device {device.id} "
            f"({device.display_name or 'unnamed'}, fingerprint {device.ed25519}).\n"
            f"Transaction: {v.txn}\n"
            f"Emoji: {format_emoji(emoji)}\n"
            f"(If their app shows numbers instead: {decimals})\n"
            "Call the user (phone, video or in person, not through this chat) and compare these emoji "
            "with the ones on their screen, in order. Then answer here:\n"
            f"`!devices sas {v.txn} match` or `!devices sas {v.txn} mismatch`\n"
            f"The request is cancelled if nobody answers within {minutes} minutes."
        )
        room = self._host.admin_room_id()
        if room is None:
            await self._cancel(v, "m.user", "No admin room is configured")
            return
        try:
            await self._host.send_text(room, text)
        except Exception:
            log.exception("matrix: SAS %s: could not post to the admin room; cancelling", v.txn)
            await self._cancel(v, "m.user", "The administrators could not be reached")
            return
        v.posted = True
        log.info("matrix: SAS %s: emoji of %s device %s posted to the admin room", v.txn, v.user_id, v.device_id)

    async def _finish(self, v: _Verification, sas: Sas) -> None:
        self._pending.pop(v.txn, None)
        device = sas.other_olm_device
        if device.id not in sas.verified_devices:
            await self._cancel(v, "m.key_mismatch", "Key mismatch")
            return
        await self._host.trust_sas_verified(device)
        if v.txn in self._requests:
            self._requests.discard(v.txn)
            await self._to_device(
                ToDeviceMessage("m.key.verification.done", device.user_id, device.id, {"transaction_id": v.txn})
            )
        log.info(
            "matrix: SAS %s: device %s of %s verified (confirmed by %s)",
            v.txn,
            device.id,
            device.user_id,
            v.confirmed_by,
        )
        await self._audit(device.user_id, AUDIT_ACTION, device.id, "done")
        await self._post_admin(f"Device {device.id} of {device.user_id} is verified (transaction {v.txn}).")
        self._host.tell_user_later(
            device.user_id,
            f"Your device {device.id} ({device.display_name or 'unnamed'}) is now verified. "
            "I will share encrypted messages with it from now on.",
        )

    # ---------------------------------------------------------------- commands --

    async def command(self, msg: Any, args: list[str], *, trusted_device: bool) -> None:
        """``!devices sas TXN match|mismatch`` from ``msg`` (an IncomingMessage)."""
        admin_room = self._host.admin_room_id()
        if self._is_admin is None or not await self._is_admin(msg.sender_id):
            log.warning("matrix: SAS: refused an answer from non-admin %s", msg.sender_id)
            await self._audit(msg.sender_id, "matrix.device_sas", args[0] if args else None, "denied")
            await self._reply(msg, "Only administrators can answer emoji verifications.")
            return
        if msg.chat_id != admin_room or not msg.encrypted or not trusted_device:
            await self._audit(msg.sender_id, "matrix.device_sas", args[0] if args else None, "denied")
            await self._reply(msg, "Answer emoji verifications in the admin room, from a verified device.")
            return
        if len(args) != 2 or args[1].lower() not in ("match", "mismatch"):
            await self._reply(msg, "Usage: `!devices sas TXN match` or `!devices sas TXN mismatch`")
            return
        txn, answer = args[0], args[1].lower()
        if self.in_room.owns(txn):
            await self.in_room.answer(msg, txn, answer)
            return
        v = self._pending.get(txn)
        sas = self._host.client.key_verifications.get(txn)
        if v is None or not v.posted or sas is None or sas.canceled:
            await self._reply(msg, f"There is no open emoji verification {txn}.")
            return
        await self._audit(msg.sender_id, f"matrix.device_sas.{answer}", v.device_id, "allowed")
        if answer == "mismatch":
            log.warning(
                "matrix: SAS %s: admin %s reported a mismatch for %s device %s",
                txn,
                msg.sender_id,
                v.user_id,
                v.device_id,
            )
            await self._cancel(v, *Sas._sas_mismatch_error)
            await self._reply(
                msg,
                f"Cancelled {txn}: the emoji did not match. Device {v.device_id} of "
                f"{v.user_id} stays untrusted. Someone may be intercepting; talk to the user.",
            )
            await self._audit(v.user_id, AUDIT_ACTION, v.device_id, "denied")
            return
        v.confirmed_by = msg.sender_id
        resp = await self._host.client.confirm_short_auth_string(txn)
        if not isinstance(resp, ToDeviceResponse):
            await self._reply(msg, f"Could not send the confirmation for {txn}; please try again.")
            return
        log.info("matrix: SAS %s: admin %s confirmed the emoji", txn, msg.sender_id)
        if sas.verified:
            await self._finish(v, sas)
        else:
            await self._reply(msg, f"Confirmed {txn}; waiting for the user to confirm on their device.")

    # ----------------------------------------------------------------- helpers --

    async def _cancel(self, v: _Verification, code: str, reason: str) -> None:
        """Cancel our side (nio's Sas too) and tell the other device."""
        self._pending.pop(v.txn, None)
        self._requests.discard(v.txn)
        sas = self._host.client.key_verifications.get(v.txn)
        if sas is None:
            await self._send_raw_cancel(v.user_id, v.device_id, v.txn, code, reason)
            return
        sas.state = SasState.canceled
        sas.cancel_code, sas.cancel_reason = code, reason
        await self._to_device(sas.get_cancellation())

    async def _send_raw_cancel(self, user_id: str, device_id: str, txn: str, code: str, reason: str) -> None:
        await self._to_device(
            ToDeviceMessage(
                "m.key.verification.cancel", user_id, device_id, {"transaction_id": txn, "code": code, "reason": reason}
            )
        )

    async def _to_device(self, message: ToDeviceMessage) -> None:
        try:
            await self._host.client.to_device(message)
        except Exception:
            log.exception("matrix: SAS: sending %s failed", message.type)

    async def _flush(self) -> None:
        """Send what nio queued (e.g. the cancel of a superseded verification) before our own."""
        client = self._host.client
        if client.outgoing_to_device_messages:
            for message in list(client.outgoing_to_device_messages):
                try:
                    await client.to_device(message)  # in order; nio drops it from the queue on success
                except LocalProtocolError:
                    pass

    async def _post_admin(self, text: str) -> None:
        room = self._host.admin_room_id()
        if room is None:
            return
        try:
            await self._host.send_text(room, text)
        except Exception:
            log.exception("matrix: SAS: could not post to the admin room")

    async def _reply(self, msg: Any, text: str) -> None:
        try:
            await self._host.send_text(msg.chat_id, text, reply_to=msg.event_id)
        except Exception:
            log.exception("matrix: SAS: could not reply in %s", msg.chat_id)
