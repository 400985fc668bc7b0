"""Direct chats the bot itself created: the only rooms that receive a user's protected content.

Why: a room someone else created can hold (or later re-admit) people who must not read
along. A partner of another organisation could create a public encrypted room, invite the
bot and the victim, leave, and rejoin later; reusing any room whose members happen to be
{bot, user} would deliver the victim's answers, products and incident replies there.

So the bot keeps its own registry (``direct_rooms.json`` in ``store_dir``) of private,
invite-only, encrypted 1:1 rooms it created, and checks the room's membership on the
server (joined and invited) right before each use. A room that no longer holds exactly
{bot, user} is dropped and replaced by a fresh one; the admin room is told when somebody
else got in. Rooms created by others still work for commands, never for delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.transport import TransportError
from bot.transports.matrix.state import read_json, write_json

log = logging.getLogger(__name__)

DIRECT_ROOMS_FILE = "direct_rooms.json"

Http = Callable[[str, str, "dict[str, Any] | None"], Awaitable["tuple[int, dict[str, Any]]"]]
CreateRoom = Callable[[str], Awaitable[str]]
Notify = Callable[[str], Awaitable[None]]


class DirectChats:
    def __init__(
        self, store_dir: Path, own_user_id: str, http: Http, create_room: CreateRoom, notify_admins: Notify | None
    ) -> None:
        self._path = store_dir / DIRECT_ROOMS_FILE
        self._own = own_user_id
        self._http = http
        self._create_room = create_room
        self._notify_admins = notify_admins
        self.rooms: dict[str, str] = dict(read_json(self._path, {}))  # user id -> room id

    def is_ours(self, room_id: str) -> bool:
        """True for a 1:1 room the bot created and still uses for this user."""
        return room_id in self.rooms.values()

    def owner(self, room_id: str) -> str | None:
        return next((user for user, room in self.rooms.items() if room == room_id), None)

    async def members(self, room_id: str) -> dict[str, str]:
        """Joined and invited members (user -> membership), as the server sees them now."""
        status, data = await self._http("GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/members", None)
        if status >= 400:
            raise TransportError(f"matrix: members of {room_id}: {status} {data.get('errcode')}")
        found = {str(ev.get("state_key")): (ev.get("content") or {}).get("membership") for ev in data.get("chunk", [])}
        return {user: m for user, m in found.items() if m in ("join", "invite")}

    async def check(self, room_id: str) -> dict[str, str] | None:
        """The room's members if it is still exactly {bot, user}; else forget it (and say why)."""
        user_id = self.owner(room_id)
        if user_id is None:
            return None
        members = await self.members(room_id)
        if set(members) == {self._own, user_id}:
            return members
        del self.rooms[user_id]
        write_json(self._path, self.rooms)
        intruders = sorted(set(members) - {self._own, user_id})
        log.warning(
            "matrix: direct chat %s with %s no longer private (%d other member(s)); replacing it",
            room_id,
            user_id,
            len(intruders),
        )
        if intruders and self._notify_admins is not None:
            try:
                await self._notify_admins(
                    f"The private chat {room_id} with {user_id} gained other members "
                    f"({', '.join(intruders)}). I stopped using it and will open a new one."
                )
            except Exception:
                log.exception("matrix: could not notify admins about a direct chat")
        return None

    async def chat_for(self, user_id: str) -> str:
        """The user's private chat with the bot, created (and registered) if needed."""
        room_id = self.rooms.get(user_id)
        if room_id is not None and await self.check(room_id) is not None:
            return room_id
        room_id = await self._create_room(user_id)
        self.rooms[user_id] = room_id
        write_json(self._path, self.rooms)
        return room_id
