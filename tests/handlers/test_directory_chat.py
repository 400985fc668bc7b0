"""Directory management from chat (handlers/directory_chat.py) on the memory transport.

Admins manage everyone from the admin room; IMOs manage partners only, from the IMO room;
nothing works elsewhere. Every change is audited and announced in the admin room. Someone
unknown to the directory may only send ``!join ORG`` (rate-limited), which an IMO approves
with one command or a ``yes`` in reply to the notice.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.events import Attachment
from bot.notices import UNKNOWN_SENDER_MAY_JOIN as UNKNOWN_SENDER
from handlers.directory_chat import (
    JOIN_BUSY,
    JOIN_ONLY_PRIVATE,
    JOIN_TOO_MANY,
    WRONG_ROOM,
)
from storage.directory import JOIN_PENDING_MAX, JOIN_TRIES
from storage.models import DataKey, Setting
from tests.conftest import Harness

NEW = "@newpartner:example.org"
STRANGER = "@stranger:example.org"
AGGREGATE = b"State,Township,Households reached\nRakhine,Sittwe,1200\nKachin,Myitkyina,800\n"


async def in_room(h: Harness, sender: str, room: str, text: str, **kw: object) -> list[str]:
    return await h.say(sender, text, chat_id=room, **kw)


def admin_room(h: Harness) -> list[str]:
    return h.transport.texts(Harness.ADMIN_ROOM)


async def audits(h: Harness) -> list[tuple[str, str, str | None, str]]:
    assert h.app is not None
    return [(e.actor_role, e.action, e.object_id, e.outcome) for e in await h.app.storage.audit_entries()]


async def submit(h: Harness, sender: str) -> list[str]:
    return await h.say(sender, "", attachments=(Attachment("totals.csv", "text/csv", AGGREGATE),))


# ---------------------------------------------------------------------------- happy paths


async def test_imo_adds_a_partner_who_can_then_submit(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    assert "don't know you" in (await submit(h, NEW))[0]
    replies = await in_room(h, Harness.IMO, Harness.IMO_ROOM, f"!user add {NEW} org Relief Org role partner")
    assert replies == [f"Done. Directory: {Harness.IMO} (imo) added {NEW} as partner of Relief Org."]
    assert admin_room(h)[-1] == f"Directory: {Harness.IMO} (imo) added {NEW} as partner of Relief Org."
    user = await h.app.directory.lookup("memory", NEW)
    assert user is not None and (user.role, user.org_name) == ("partner", "Relief Org")
    assert ("imo", "directory.user_add", f"user:{user.id}", "done") in await audits(h)
    answer = await submit(h, NEW)
    assert "S-0001" in answer[-1] and "accepted" in answer[-1]


async def test_admin_adds_org_staff_changes_role_lists_and_removes(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    A, ROOM = Harness.ADMIN, Harness.ADMIN_ROOM
    assert await in_room(h, A, ROOM, "!org add Health Org sector health") == [
        f"Directory: {A} (admin) added organisation Health Org (sector health)."
    ]
    org = await h.app.directory.org_by_name("Health Org")
    assert org is not None and org.sector == "health"
    assert ("admin", "directory.org_add", f"org:{org.id}", "done") in await audits(h)
    assert "Health Org (sector health)" in (await in_room(h, A, ROOM, "!org list"))[0]

    assert "added @imo2:example.org as imo." in (await in_room(h, A, ROOM, "!user add @imo2:example.org role imo"))[0]
    assert (
        "added @doc:example.org as partner of Health Org"
        in (await in_room(h, A, ROOM, '!user add @doc:example.org org "health org"'))[0]
    )  # case-insensitive, partner default
    assert (
        "set @doc:example.org to coordinator"
        in (await in_room(h, A, ROOM, "!user role @doc:example.org coordinator"))[0]
    )
    doc = await h.app.directory.lookup("memory", "@doc:example.org")
    assert doc is not None and doc.role == "coordinator"
    listing = (await in_room(h, A, ROOM, "!users Health Org"))[0]
    assert "@doc:example.org — coordinator, Health Org" in listing and Harness.PARTNER not in listing
    everyone = (await in_room(h, A, ROOM, "!users"))[0]
    assert Harness.IMO in everyone and "@imo2:example.org — imo" in everyone
    assert "removed @doc:example.org" in (await in_room(h, A, ROOM, "!user remove @doc:example.org"))[0]
    assert await h.app.directory.lookup("memory", "@doc:example.org") is None
    actions = [(a, o) for _r, a, _obj, o in await audits(h)]
    for action in ("directory.user_add", "directory.user_role", "directory.user_remove"):
        assert (action, "done") in actions
    # the admin room got one line per change and nothing else
    assert len([t for t in admin_room(h) if t.startswith("Directory:")]) == 5


async def test_imo_removes_and_lists_partners_only(harness: Harness) -> None:
    h = harness
    I, ROOM = Harness.IMO, Harness.IMO_ROOM  # noqa: E741
    listing = (await in_room(h, I, ROOM, "!users"))[0]
    assert listing.startswith("Partners (3)") and Harness.ADMIN not in listing and Harness.COORDINATOR not in listing
    assert Harness.OTHER_ORG_PARTNER not in (await in_room(h, I, ROOM, "!users Relief Org"))[0]
    assert "removed" in (await in_room(h, I, ROOM, f"!user remove {Harness.PARTNER2}"))[0]
    assert admin_room(h)[-1] == f"Directory: {I} (imo) removed {Harness.PARTNER2}."
    assert "don't know you" in (await h.say(Harness.PARTNER2, "!help"))[0]


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "command",
    [
        "!user add @boss:example.org role admin",
        "!user add @imo2:example.org role imo",
        "!user add @c:example.org role coordinator",
        f"!user role {Harness.PARTNER} imo",
        f"!user remove {Harness.ADMIN}",
        f"!user remove {Harness.COORDINATOR}",
        f"!user role {Harness.COORDINATOR} partner",
    ],
)
async def test_imo_cannot_touch_staff(harness: Harness, command: str) -> None:
    h = harness
    assert h.app is not None
    before = [u.role for u in await h.app.directory.list_users()]
    replies = await in_room(h, Harness.IMO, Harness.IMO_ROOM, command)
    assert "IMOs manage partners only" in replies[0]
    assert [u.role for u in await h.app.directory.list_users()] == before
    assert (await audits(h))[-1][0:2] == (
        "imo",
        {"add": "directory.user_add", "role": "directory.user_role", "remove": "directory.user_remove"}[
            command.split()[1]
        ],
    )
    assert (await audits(h))[-1][3] == "denied"
    assert not [t for t in admin_room(h) if t.startswith("Directory:")]


@pytest.mark.parametrize("sender", [Harness.PARTNER, Harness.COORDINATOR])
@pytest.mark.parametrize(
    "command", ["!org add Fake Org", f"!user add {NEW} org Relief Org", "!users", "!approve J-0001", "!deny J-0001"]
)
async def test_other_roles_are_refused_by_the_policy(harness: Harness, sender: str, command: str) -> None:
    h = harness
    assert h.app is not None
    role = "partner" if sender == Harness.PARTNER else "coordinator"
    replies = await h.say(sender, command)
    assert f"your role ({role}) cannot use !{command.split()[0][1:]}" in replies[0]
    assert (await audits(h))[-1][3] == "denied"
    assert await h.app.directory.org_by_name("Fake Org") is None
    assert await h.app.directory.lookup("memory", NEW) is None


@pytest.mark.parametrize(
    "sender,room",
    [
        (Harness.IMO, None),  # the IMO's private chat
        (Harness.IMO, Harness.ADMIN_ROOM),
        (Harness.IMO, Harness.COORD_ROOM),
        (Harness.ADMIN, None),
        (Harness.ADMIN, Harness.IMO_ROOM),
    ],
)
async def test_commands_only_in_the_right_room(harness: Harness, sender: str, room: str | None) -> None:
    h = harness
    assert h.app is not None
    for command in ("!org add Fake Org", f"!user add {NEW} org Relief Org", "!users", "!approve J-0001"):
        replies = await h.say(sender, command, **({"chat_id": room} if room else {}))
        assert replies == [WRONG_ROOM], command
        assert (await audits(h))[-1][3] == "denied"
    assert await h.app.directory.org_by_name("Fake Org") is None
    assert await h.app.directory.lookup("memory", NEW) is None


async def test_unencrypted_room_is_refused(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    h.transport.encrypted_chats.discard(Harness.IMO_ROOM)
    replies = await in_room(h, Harness.IMO, Harness.IMO_ROOM, f"!user add {NEW} org Relief Org", encrypted=False)
    assert "not end-to-end encrypted" in replies[0]
    assert await h.app.directory.lookup("memory", NEW) is None


async def test_no_one_changes_themselves(harness: Harness) -> None:
    h = harness
    assert "yourself" in (await in_room(h, Harness.ADMIN, Harness.ADMIN_ROOM, f"!user remove {Harness.ADMIN}"))[0]
    assert "own role" in (await in_room(h, Harness.ADMIN, Harness.ADMIN_ROOM, f"!user role {Harness.ADMIN} partner"))[0]


async def test_bad_input_gets_usage_not_a_change(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    A, ROOM = Harness.ADMIN, Harness.ADMIN_ROOM
    assert "no organisation named 'Nowhere'" in (await in_room(h, A, ROOM, f"!user add {NEW} org Nowhere"))[0]
    assert "Matrix id" in (await in_room(h, A, ROOM, "!user add bob org Relief Org"))[0]
    assert "already exists" in (await in_room(h, A, ROOM, f"!user add {Harness.PARTNER} org Relief Org"))[0]
    assert "already exists" in (await in_room(h, A, ROOM, "!org add Relief Org"))[0]
    assert "role must be one of" in (await in_room(h, A, ROOM, f"!user add {NEW} org Relief Org role king"))[0]
    assert "needs" in (await in_room(h, A, ROOM, f"!user add {NEW} role partner"))[0]
    assert "Usage" in (await in_room(h, A, ROOM, "!user frobnicate"))[0]
    assert "no user" in (await in_room(h, A, ROOM, "!user remove @ghost:example.org"))[0]
    assert not [t for t in admin_room(h) if t.startswith("Directory:")]


# ---------------------------------------------------------------------------- !join


async def test_unknown_user_may_only_join(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    for text in ("!help", "!users", "!org add X", f"!user add {STRANGER} org Relief Org", "!approve J-0001", "hello"):
        assert await h.say(STRANGER, text) == [UNKNOWN_SENDER], text
    assert "don't know you" in (await submit(h, STRANGER))[0]
    assert await h.app.directory.org_by_name("X") is None
    entries = await audits(h)
    assert entries[-1] == ("unknown", "access", None, "denied") and len(entries) == 7
    assert h.transport.texts(Harness.IMO_ROOM) == []


async def test_join_approved_by_command(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    reply = await h.say(STRANGER, "!join Relief Org")
    assert "J-0001" in reply[0] and "Information Management Officer" in reply[0]
    notice = h.transport.texts(Harness.IMO_ROOM)[-1]
    assert notice.startswith(f"J-0001: {STRANGER} asks to join org Relief Org as partner")
    assert "!approve J-0001" in notice
    assert ("unknown", "directory.join_request", "J-0001", "done") in await audits(h)
    # the request is sealed: neither the Matrix id nor the organisation is in the settings table
    async with h.app.storage.session() as s:
        rows = " ".join(r.value for r in (await s.execute(select(Setting))).scalars())
    assert STRANGER not in rows and "Relief" not in rows

    replies = await in_room(h, Harness.IMO, Harness.IMO_ROOM, "!approve J-0001")
    assert (
        replies[0]
        == f"Done. Directory: {Harness.IMO} (imo) approved J-0001: {STRANGER} added as partner of Relief Org."
    )
    assert admin_room(h)[-1].startswith(f"Directory: {Harness.IMO} (imo) approved J-0001")
    told = h.transport.texts(await h.transport.direct_chat(STRANGER))[-1]
    assert "partner of Relief Org" in told and "send me files" in told
    user = await h.app.directory.lookup("memory", STRANGER)
    assert user is not None and user.role == "partner" and user.org_name == "Relief Org"
    entries = await audits(h)
    assert ("imo", "directory.join_approve", "J-0001", "done") in entries
    assert ("imo", "directory.user_add", f"user:{user.id}", "done") in entries
    assert "accepted" in (await submit(h, STRANGER))[-1]
    # decided once: a second answer changes nothing, and the sealed request is shredded
    assert "no open join request J-0001" in (await in_room(h, Harness.IMO, Harness.IMO_ROOM, "!deny J-0001"))[0]
    async with h.app.storage.session() as s:
        keys = list((await s.execute(select(DataKey).where(DataKey.purpose == "join-request"))).scalars())
    assert keys and all(k.wrapped_key is None for k in keys)


async def test_join_approved_by_replying_yes_and_denied_by_replying_no(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    await h.say(STRANGER, "!join Water Org")
    first = h.transport.sent[-2]  # the IMO room notice, then the answer to the stranger
    assert first.chat_id == Harness.IMO_ROOM and first.text.startswith("J-0001")
    await h.say("@other:example.org", "!join Water Org")
    second = h.transport.sent[-2]
    assert second.chat_id == Harness.IMO_ROOM and second.text.startswith("J-0002")

    replies = await in_room(h, Harness.IMO, Harness.IMO_ROOM, "yes", reply_to=first.message_id)
    assert "approved J-0001" in replies[0]
    user = await h.app.directory.lookup("memory", STRANGER)
    assert user is not None and user.org_name == "Water Org"
    replies = await in_room(h, Harness.IMO, Harness.IMO_ROOM, "no", reply_to=second.message_id)
    assert "denied J-0002" in replies[0]
    assert await h.app.directory.lookup("memory", "@other:example.org") is None
    assert "did not approve" in h.transport.texts(await h.transport.direct_chat("@other:example.org"))[-1]
    assert ("imo", "directory.join_deny", "J-0002", "done") in await audits(h)


async def test_join_same_answer_whether_or_not_the_org_exists(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    real = (await h.say(STRANGER, "!join Relief Org"))[0]
    fake = (await h.say("@other:example.org", "!join No Such Org"))[0]
    assert real.replace("J-0001", "J-X") == fake.replace("J-0002", "J-X")
    notice = h.transport.texts(Harness.IMO_ROOM)[-1]
    assert "no such organisation yet" in notice
    refusal = (await in_room(h, Harness.IMO, Harness.IMO_ROOM, "!approve J-0002"))[0]
    assert "No organisation named 'No Such Org'" in refusal
    assert await h.app.directory.lookup("memory", "@other:example.org") is None
    # the IMO approves into an existing organisation instead
    assert (
        "partner of Water Org" in (await in_room(h, Harness.IMO, Harness.IMO_ROOM, "!approve J-0002 org Water Org"))[0]
    )


async def test_join_flood_is_limited(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    answers = [(await h.say(STRANGER, f"!join Relief Org {i}"))[0] for i in range(JOIN_TRIES + 3)]
    assert "J-0001" in answers[0]
    assert all("still waiting" in a for a in answers[1:JOIN_TRIES])
    assert all(a == JOIN_TOO_MANY for a in answers[JOIN_TRIES:])
    assert len(h.transport.texts(Harness.IMO_ROOM)) == 1  # one notice, however often they ask
    assert (await audits(h))[-1] == ("unknown", "directory.join", None, "denied")
    # many strangers: at most JOIN_PENDING_MAX undecided requests reach the IMO room
    for i in range(JOIN_PENDING_MAX + 2):
        await h.say(f"@s{i}:example.org", "!join Relief Org")
    assert len(h.transport.texts(Harness.IMO_ROOM)) == JOIN_PENDING_MAX
    assert (await h.say("@late:example.org", "!join Relief Org")) == [JOIN_BUSY]
    # an hour later the sender may ask again (their request is still pending: same answer)
    h.clock.advance(hours=1, minutes=1)
    assert "still waiting" in (await h.say(STRANGER, "!join Relief Org"))[0]


async def test_join_only_from_an_encrypted_private_chat(harness: Harness) -> None:
    h = harness
    for kw in ({"chat_id": "!plain", "encrypted": False}, {"chat_id": Harness.IMO_ROOM}):
        assert await h.say(STRANGER, "!join Relief Org", **kw) == [JOIN_ONLY_PRIVATE]
    assert not [t for t in h.transport.texts() if t.startswith("J-")]  # no notice posted
    assert "!join" in (await h.say(STRANGER, "!join"))[0]  # usage


async def test_known_users_cannot_join(harness: Harness) -> None:
    h = harness
    assert "cannot use !join" in (await h.say(Harness.PARTNER, "!join Water Org"))[0]
    assert h.transport.texts(Harness.IMO_ROOM) == []


async def test_join_request_expires(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    await h.say(STRANGER, "!join Relief Org")
    h.clock.advance(days=8)
    await h.app.run_sweeps()
    assert "J-0001 expired" in h.transport.texts(Harness.IMO_ROOM)[-1]
    assert "no open join request" in (await in_room(h, Harness.IMO, Harness.IMO_ROOM, "!approve J-0001"))[0]
    assert re.search(r"J-0002", (await h.say(STRANGER, "!join Relief Org"))[0])
