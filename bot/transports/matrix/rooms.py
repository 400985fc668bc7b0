"""Rooms: the configured (protected) rooms, invitations, and the bot's own private chats.

* :class:`ProtectedRooms` maps ``imo_room`` / ``coordinator_room`` / ``admin_room`` (ids or
  aliases) to room ids and converges on them: rooms created, joined or encrypted after the
  bot started are picked up without a restart; the admins are told once what is missing
  or not encrypted, and nothing is posted into a configured room that is not encrypted.
* :class:`Invitations` accepts invitations from users in the directory, a direct chat from
  a few strangers (so they can ``!join``), and rejects the rest (audited).
* :func:`create_direct_room` / :func:`guard_direct_chat`: the private chats the bot creates
  for protected content (see ``directs.py``) and the check right before each send into one.

Each takes a narrow host (:class:`RoomsHost`) or plain values, never the transport itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from nio import AsyncClient, InviteMemberEvent, JoinError, RoomCreateError, SyncResponse

from bot.transport import TransportError
from bot.transports.matrix.directs import DirectChats
from bot.transports.matrix.trust import DeviceTrust

if TYPE_CHECKING:
    from bot.config import MatrixConfig

log = logging.getLogger(__name__)

STRANGER_INVITES_PER_HOUR = 10  # private chats opened by people outside the directory (to `!join`)
PURPOSES = ("imo_room", "coordinator_room", "admin_room")
RECHECK_SECONDS = 5.0  # how often a missing configured room is looked for again

IsKnownUser = Callable[[str], Awaitable[bool]]
Audit = Callable[[str, str, "str | None", str], Awaitable[None]]
NotifyAdmins = Callable[[str], Awaitable[None]]
WaitForRoom = Callable[[str], Awaitable[None]]


class RoomsHost(Protocol):
    """What the room bookkeeping needs from the transport."""

    @property
    def client(self) -> AsyncClient: ...

    async def is_encrypted(self, chat_id: str) -> bool: ...

    async def wait_for_room(self, room_id: str) -> None:
        """Return once the room is known to the client; TransportError after a timeout."""

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the sync loop."""


class ProtectedRooms:
    def __init__(self, host: RoomsHost, config: MatrixConfig, notify_admins: NotifyAdmins | None) -> None:
        self._host = host
        self._config = config
        self._notify_admins = notify_admins
        self.rooms: dict[str, str] = {}  # room id -> purpose (imo_room/coordinator_room/admin_room)
        self._refused: set[str] = set()
        self._missing_told: set[str] = set()  # configured rooms whose absence the admins heard of
        self._last_recheck = 0.0
        self._resolving = asyncio.Lock()  # admin notices wait until the admin room is resolved

    @property
    def configured(self) -> dict[str, str]:
        """kind ('imo', 'coordinator', 'admin') -> resolved room id, for the core's room map."""
        return {purpose.removesuffix("_room"): room_id for room_id, purpose in self.rooms.items()}

    def admin_room_id(self) -> str | None:
        return next((rid for rid, purpose in self.rooms.items() if purpose == "admin_room"), None)

    async def resolve(self) -> None:
        """Map the configured rooms (ids or aliases) to room ids; retried every sync until done.

        The rooms may be created before or after the bot's first start: an alias that does
        not resolve yet, or a room the bot is not invited to yet, is waited for (and the
        admins told once what is missing), never an error.
        """
        async with self._resolving:
            await self._resolve_each()

    async def _resolve_each(self) -> None:
        for purpose in PURPOSES:
            ref = getattr(self._config, purpose, None)
            if not ref or purpose in self.rooms.values():
                continue
            room_id: str | None = ref
            if ref.startswith("#"):
                resolved = await self._host.client.room_resolve_alias(ref)
                room_id = getattr(resolved, "room_id", None)
            if room_id is None:
                self._missing_room(purpose, f"the alias {ref} does not exist yet")
                continue
            self.rooms[room_id] = purpose
            await self.check(room_id)

    async def after_sync(self, synced_rooms: Iterable[str], *, joined: bool, now: float) -> None:
        """A configured room appeared, was joined or got encryption: pick it up now."""
        if not (
            set(synced_rooms) & self._refused
            or (self._missing_told and (joined or now - self._last_recheck > RECHECK_SECONDS))
        ):
            return
        self._last_recheck = now
        await self.resolve()
        for room_id, purpose in list(self.rooms.items()):
            if purpose in self._missing_told and await self._host.is_encrypted(room_id):
                self._missing_told.discard(purpose)
                log.info("matrix: the configured %s %s is ready", purpose.replace("_", " "), room_id)
            elif room_id in self._refused:
                await self.check(room_id)

    def _missing_room(self, purpose: str, why: str) -> None:
        if purpose in self._missing_told:
            return
        self._missing_told.add(purpose)
        text = (
            f"The configured {purpose.replace('_', ' ')} is not usable yet: {why}. Create it encrypted and "
            f"invite the bot from an account in the directory; it is picked up without a restart."
        )
        log.warning("matrix: %s", text)
        if self._notify_admins is not None and purpose != "admin_room":
            self._host.in_background(self._tell_admins(text, after_resolving=True))

    async def _tell_admins(self, text: str, *, after_resolving: bool = False) -> None:
        assert self._notify_admins is not None
        if after_resolving:
            await asyncio.sleep(0)  # let the resolution of the other configured rooms (the admin room) finish
            async with self._resolving:
                pass
        try:
            await self._notify_admins(text)
        except Exception:
            log.exception("matrix: could not notify admins")

    async def check(self, room_id: str) -> bool:
        """Configured rooms must be encrypted; otherwise refuse and say why (log + admins, once)."""
        if await self._host.is_encrypted(room_id):
            self._refused.discard(room_id)
            return True
        purpose = self.rooms[room_id]
        if room_id not in self._host.client.rooms:
            self._missing_room(purpose, f"the bot is not in {room_id} (not invited yet)")
            return False
        if room_id not in self._refused:
            self._refused.add(room_id)
            reason = (
                f"The configured {purpose.replace('_', ' ')} {room_id} is not end-to-end encrypted. "
                f"The bot will not post there until encryption is enabled in that room."
            )
            log.error("matrix: %s", reason)
            if self._notify_admins and purpose != "admin_room":
                self._host.in_background(self._tell_admins(reason))
        return False

    async def guard(self, chat_id: str) -> None:
        """Right before a send: a configured room must be known and encrypted."""
        if chat_id in self.rooms and chat_id not in self._host.client.rooms:
            try:  # joined a moment ago: its state arrives with the next sync
                await self._host.wait_for_room(chat_id)
            except TransportError:
                pass
        if chat_id in self.rooms and not await self.check(chat_id):
            raise TransportError(f"refusing to post to {chat_id}: the configured room is not encrypted")


class Invitations:
    """Which invitations the bot accepts; ``handle`` returns True when it joined a room."""

    def __init__(self, client: Callable[[], AsyncClient], *, is_known_user: IsKnownUser, audit: Audit) -> None:
        self._client = client
        self._is_known_user = is_known_user
        self._audit = audit
        self._stranger_invites: list[tuple[float, str]] = []

    async def handle(self, resp: SyncResponse) -> bool:
        joined = False
        for room_id, info in resp.rooms.invite.items():
            joined = await self._one(room_id, info) or joined
        return joined

    async def _one(self, room_id: str, info: Any) -> bool:
        client = self._client()
        invite = next(
            (
                e
                for e in info.invite_state
                if isinstance(e, InviteMemberEvent) and e.state_key == client.user_id and e.membership == "invite"
            ),
            None,
        )
        inviter = invite.sender if invite is not None else None
        known = inviter is not None and await self._is_known_user(inviter)
        stranger = bool(inviter and not known and self._stranger_may_invite(inviter, invite))
        if not (known or stranger):
            await client.room_leave(room_id)
            log.warning("matrix: rejected invitation to %s from unknown user %s", room_id, inviter)
            await self._audit(inviter or "unknown", "matrix.invite", room_id, "denied")
            return False
        assert inviter is not None
        result = await client.join(room_id)
        if isinstance(result, JoinError):
            log.warning("matrix: joining %s failed: %s", room_id, result.status_code)
            return False
        if stranger:
            # someone outside the directory opening a private chat: they may ask to `!join`
            # (the only thing the core lets a stranger do); nothing else of theirs acts
            await self._audit(inviter, "matrix.invite.stranger", room_id, "allowed")
        else:
            log.info("matrix: joined %s on invitation by %s", room_id, inviter)
            await self._audit(inviter, "matrix.invite", room_id, "allowed")
        return True

    def _stranger_may_invite(self, inviter: str, invite: Any) -> bool:
        """A direct-chat invitation (is_direct) from someone outside the directory, at most one per
        inviter and STRANGER_INVITES_PER_HOUR overall an hour: enough to ask to join, too few to
        fill the bot with rooms."""
        if not (getattr(invite, "content", None) or {}).get("is_direct"):
            return False
        now = time.monotonic()
        recent = [(t, who) for t, who in self._stranger_invites if now - t < 3600]
        self._stranger_invites = recent
        if len(recent) >= STRANGER_INVITES_PER_HOUR or any(who == inviter for _t, who in recent):
            return False
        self._stranger_invites.append((now, inviter))
        return True


async def create_direct_room(client: AsyncClient, user_id: str, wait_for_room: WaitForRoom) -> str:
    """A new private chat with ``user_id``: invite-only, encrypted, history from the invitation."""
    resp = await client.room_create(
        is_direct=True,
        invite=[user_id],
        preset=_trusted_private_chat(),
        initial_state=[
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
            {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "invite"}},
            {"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "invited"}},
        ],
    )
    if isinstance(resp, RoomCreateError):
        raise TransportError(f"matrix: could not create a direct chat: {resp.status_code}")
    await wait_for_room(resp.room_id)
    log.info("matrix: created encrypted direct chat %s with %s", resp.room_id, user_id)
    return str(resp.room_id)


async def guard_direct_chat(
    client: AsyncClient, directs: DirectChats | None, trust: DeviceTrust | None, chat_id: str, *, notice: bool
) -> None:
    """Right before a send into one of our private chats: still private, and the user trusted?"""
    if directs is None or not directs.is_ours(chat_id):
        return
    owner = directs.owner(chat_id)
    members = await directs.check(chat_id)
    if members is None:
        raise TransportError(f"refusing to post to {chat_id}: the private chat gained other members")
    room = client.rooms.get(chat_id)
    if room is not None and any(user not in room.users for user in members):
        # a just-created room whose member events this client has not synced yet: without
        # this, nio would share the room key with nobody and the user could not read it
        for user, membership in members.items():
            room.add_member(user, None, None, invited=membership == "invite")
        if client.olm is not None:
            client.olm.update_tracked_users(room)
    assert trust is not None and owner is not None
    if not notice and trust.identity_change(owner) is not None:
        raise TransportError(f"holding messages for {chat_id}: the user's new identity is not confirmed")


def _trusted_private_chat() -> Any:
    from nio.api import RoomPreset

    return RoomPreset.trusted_private_chat
