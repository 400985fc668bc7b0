"""Issue 13, "done when": a partner added from the IMO room can submit a file within a minute,
with no shell access used. Real bot, real Synapse, real E2EE clients (handlers/directory_chat.py).
"""

from __future__ import annotations

import re
import time

import pytest

from bot.demo import BotStack
from tests.e2e.conftest import person
from tests.e2e.synapse import ScriptedUser

pytestmark = pytest.mark.e2e

AGGREGATE = (
    b"State,Township,Township Pcode,Households reached\nRakhine,Sittwe,MMR012001,1200\nKachin,Myitkyina,MMR001001,800\n"
)


async def protected_room(client: ScriptedUser, stack: BotStack, kind: str) -> str:
    room = await client.create_room([stack.bot_user.user_id], name=f"cluster {kind}")
    await client.wait_joined(room, stack.bot_user.user_id)
    stack.app.rooms[kind] = ("matrix", room)
    return room


async def test_partner_added_from_the_imo_room_submits_within_a_minute(stack, synapse, new_user, scripted):
    bot = stack.bot_user.user_id
    admin = await person(stack, new_user, scripted, "admin")
    admin_room = await protected_room(admin, stack, "admin")
    imo = await person(stack, new_user, scripted, "imo")
    imo_room = await protected_room(imo, stack, "imo")
    await stack.app.directory.add_org("Relief Org", "protection")  # organisations exist already
    newcomer = await scripted(new_user("newpartner"))  # a fresh account, not in the directory
    assert await stack.app.directory.lookup("matrix", newcomer.user_id) is None

    started = time.monotonic()
    await imo.send_text(imo_room, f"!user add {newcomer.user_id} org Relief Org role partner")
    done = await imo.wait_for_message(bot, imo_room, contains="added", timeout=60)
    assert done.decrypted and f"{newcomer.user_id} as partner of Relief Org" in done.body
    added = time.monotonic() - started

    # the new partner opens a private encrypted chat with the bot and sends a file
    room = await newcomer.create_room([bot])
    await newcomer.wait_joined(room, bot, timeout=60)
    await newcomer.send_file(room, AGGREGATE, "totals.csv", "text/csv")
    answer = await newcomer.wait_for_message(bot, room, contains="S-0001", timeout=60)
    elapsed = time.monotonic() - started
    print(f"\n!user add answered after {added:.1f} s; screening answer after {elapsed:.1f} s")
    assert answer.decrypted and "accepted" in answer.body
    assert elapsed < 60

    # announced in the admin room, one line; audited in the hash chain
    note = await admin.wait_for_message(bot, admin_room, contains="Directory:", timeout=60)
    assert note.decrypted and note.body == (
        f"Directory: {imo.user_id} (imo) added {newcomer.user_id} as partner of Relief Org."
    )
    user = await stack.app.directory.lookup("matrix", newcomer.user_id)
    assert user is not None and user.role == "partner"
    entries = [(e.actor_role, e.action, e.object_id, e.outcome) for e in await stack.app.storage.audit_entries()]
    assert ("imo", "directory.user_add", f"user:{user.id}", "done") in entries
    assert await stack.app.storage.verify_audit() is None


async def test_a_stranger_asks_to_join_and_an_imo_approves_with_one_reply(stack, synapse, new_user, scripted):
    """Someone outside the directory opens a private encrypted chat, sends `!join ORG`; the IMO
    room gets the request; `!approve` adds them; their file is then screened. Any other command
    of theirs before that is refused."""
    bot = stack.bot_user.user_id
    imo = await person(stack, new_user, scripted, "imo")
    imo_room = await protected_room(imo, stack, "imo")
    await stack.app.directory.add_org("Relief Org", "protection")
    stranger = await scripted(new_user("stranger"))

    room = await stranger.create_room([bot])  # a direct chat: the bot joins although it does not know them
    await stranger.wait_joined(room, bot, timeout=60)
    await stranger.send_text(room, "!help")
    refused = await stranger.wait_for_message(bot, room, contains="!join", timeout=60)
    assert refused.decrypted
    await stranger.send_text(room, "!join Relief Org")
    sent = await stranger.wait_for_message(bot, room, contains="J-0", timeout=60)
    rid = re.search(r"J-\d{4,}", sent.body).group(0)  # type: ignore[union-attr]

    request = await imo.wait_for_message(bot, imo_room, contains=rid, timeout=60)
    assert request.decrypted and stranger.user_id in request.body
    await imo.send_text(imo_room, f"!approve {rid}")
    # told in a private chat the bot opens (a room it controls), wherever that is
    welcome = await stranger.wait_for_message(bot, None, contains="approved", timeout=60)
    assert welcome.decrypted
    user = await stack.app.directory.lookup("matrix", stranger.user_id)
    assert user is not None and user.role == "partner"

    await stranger.send_file(room, AGGREGATE, "totals.csv", "text/csv")
    answer = await stranger.wait_for_message(bot, room, contains="S-0001", timeout=60)
    assert answer.decrypted and "accepted" in answer.body
