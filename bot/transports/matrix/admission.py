"""What the transport answers itself, before anything reaches the core, and its rate limit.

An admitted event goes on to the core. The others are answered here and never reach it:

* a plain (unencrypted) event in an encrypted room: refused, audited, the sender told;
* ``!devices`` (listing, ``confirm``, an admin's ``sas TXN match|mismatch``);
* an event from a session the trust policy refuses: the sender told what to do.

Rate limit: this traffic is limited here, per sender, with one polite notice per minute,
because the core never sees it. Ordinary messages are limited by the core; the transport
limits them too only with ``rate_limit_messages`` (a bare transport without a core).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from nio import AsyncClient

from bot.events import IncomingMessage
from bot.transports.matrix.inbound import DevicesCommand, devices_command
from bot.transports.matrix.notices import PLAIN_EVENT_NOTICE, RATE_LIMIT_NOTICE, refusal_for
from bot.transports.matrix.trust import TOFU, Verdict
from bot.transports.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.config import MatrixConfig
    from bot.transports.matrix.devices import Devices
    from bot.transports.matrix.sas import SasVerifier

log = logging.getLogger(__name__)

Audit = Callable[[str, str, "str | None", str], Awaitable[None]]


class AdmissionHost(Protocol):
    """What the admission needs from the transport."""

    @property
    def client(self) -> AsyncClient: ...

    async def notice(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        """A transport notice; never raises."""


class Admission:
    def __init__(
        self,
        host: AdmissionHost,
        config: MatrixConfig,
        *,
        devices: Devices,
        sas: SasVerifier,
        audit: Audit,
        clock: Callable[[], float],
        rate_limit_messages: bool,
    ) -> None:
        self._host = host
        self._tofu = config.device_trust == TOFU
        self._devices = devices
        self._sas = sas
        self._audit = audit
        self._limiter = RateLimiter(config.rate_limit_per_minute, clock=clock)
        self._rate_limit_messages = rate_limit_messages

    async def admit(self, msg: IncomingMessage, event: Any) -> bool:
        """True to pass ``msg`` on to the core; otherwise it was answered here (or rate limited)."""
        if self._rate_limit_messages and await self._over_limit(msg):
            return False
        answer = self._answer_here(msg, event)
        if answer is None:
            return True
        if not self._rate_limit_messages and await self._over_limit(msg):
            return False
        await answer()
        return False

    def _answer_here(self, msg: IncomingMessage, event: Any) -> Callable[[], Awaitable[None]] | None:
        """How the transport answers ``msg`` itself (it never reaches the core), or None to pass it on."""
        room = self._host.client.rooms.get(msg.chat_id)
        if room is not None and room.encrypted and not msg.encrypted:
            return lambda: self._refuse_plain(msg)
        command = devices_command(msg.text)
        if command is not None:
            return lambda: self._devices_command(msg, event, command)
        verdict = self._devices.sender_verdict(event) if msg.encrypted else Verdict.TRUSTED
        if verdict is not Verdict.TRUSTED:
            return lambda: self._refuse_untrusted(msg, verdict)
        return None

    async def _over_limit(self, msg: IncomingMessage) -> bool:
        if self._limiter.allow(msg.sender_id):
            return False
        if self._limiter.should_warn(msg.sender_id):
            await self._host.notice(msg.chat_id, RATE_LIMIT_NOTICE, reply_to=msg.event_id)
        log.info("matrix: rate limited %s (event %s)", msg.sender_id, msg.event_id)
        return True

    async def _refuse_plain(self, msg: IncomingMessage) -> None:
        # a plain event in an encrypted room (e.g. a stolen password's second session): never act
        log.warning("matrix: unencrypted event %s in encrypted room %s not passed on", msg.event_id, msg.chat_id)
        await self._audit(msg.sender_id, "matrix.event.plain", None, "denied")
        await self._host.notice(msg.chat_id, PLAIN_EVENT_NOTICE, reply_to=msg.event_id)

    async def _refuse_untrusted(self, msg: IncomingMessage, verdict: Verdict) -> None:
        # an untrusted session may be an attacker's on a compromised account: never act on it
        await self._host.notice(msg.chat_id, refusal_for(verdict.value, self._tofu), reply_to=msg.event_id)
        log.warning(
            "matrix: event %s from an untrusted session of %s not passed on (%s)",
            msg.event_id,
            msg.sender_id,
            verdict.value,
        )

    async def _devices_command(self, msg: IncomingMessage, event: Any, command: DevicesCommand) -> None:
        if command.sas_args is not None:
            await self._sas.command(
                msg, list(command.sas_args), trusted_device=self._devices.from_trusted_device(event)
            )
        else:
            await self._devices.command(msg, event, command)
