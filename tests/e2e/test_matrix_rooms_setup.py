"""The README's room setup, followed literally: rooms may be created before or after the
bot's first start, referred to by alias; the first start logs no ERROR, and the first IMO
notice and incident notice are posted without a restart."""

from __future__ import annotations

import logging
import secrets

import pytest
from nio import RoomCreateResponse

from bot.demo import BotStack

pytestmark = pytest.mark.e2e


async def _room_with_alias(client, alias_local: str, invite: list[str]) -> str:
    resp = await client.client.room_create(
        alias=alias_local,
        invite=invite,
        name=alias_local,
        initial_state=[
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
        ],
    )
    assert isinstance(resp, RoomCreateResponse), resp
    return str(resp.room_id)


async def test_rooms_before_and_after_first_start(synapse, new_user, scripted, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    tag = secrets.token_hex(3)
    bot_user = new_user("bot")
    admin_user, imo_user, coord_user, partner_user = (new_user(r) for r in ("admin", "imo", "coord", "partner"))
    stack = BotStack(
        synapse,
        tmp_path / "bot",
        bot_user,
        imo_room=f"#imo-{tag}:localhost",
        coordinator_room=f"#coord-{tag}:localhost",
        admin_room=f"#admin-{tag}:localhost",
    )
    # the directory comes first (an invitation is accepted only from someone in it)
    await stack.start()
    await stack.add_users(
        [
            (admin_user.user_id, "admin", None),
            (imo_user.user_id, "imo", None),
            (coord_user.user_id, "coordinator", None),
            (partner_user.user_id, "partner", "Relief Org"),
        ]
    )
    await stack.stop()
    admin = await scripted(admin_user)
    admin_room = await _room_with_alias(admin, f"admin-{tag}", [bot_user.user_id])  # before the first start
    caplog.clear()
    try:
        await stack.start()
        await admin.wait_joined(admin_room, bot_user.user_id, timeout=30)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
        assert stack.transport.configured_rooms.get("admin") == admin_room

        # the IMO and coordinator rooms are created after the first start
        imo = await scripted(imo_user)
        coordinator = await scripted(coord_user)
        imo_room = await _room_with_alias(imo, f"imo-{tag}", [bot_user.user_id])
        coord_room = await _room_with_alias(coordinator, f"coord-{tag}", [bot_user.user_id])
        await imo.wait_joined(imo_room, bot_user.user_id, timeout=30)
        await coordinator.wait_joined(coord_room, bot_user.user_id, timeout=30)

        partner = await scripted(partner_user)
        dm = await partner.create_room([bot_user.user_id])
        await partner.wait_joined(dm, bot_user.user_id)
        await partner.send_text(dm, "!ask Can we share village-level totals?")
        notice = await imo.wait_for_message(bot_user.user_id, imo_room, contains="Question Q-0001", timeout=60)
        assert notice.decrypted
        for text in (
            "!report",
            "A phone with a beneficiary list was lost",
            "today",
            "names of 30 people",
            "no",
            "wiped",
            "yes",
        ):
            await partner.send_text(dm, text)
        incident = await coordinator.wait_for_message(
            bot_user.user_id, coord_room, contains="New data incident report", timeout=60
        )
        assert incident.decrypted
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
    finally:
        await stack.stop()
