"""Partners trusted by cross-signing identity, and the attacks on the old trust model, over Synapse.

The partner clients here are nio clients that cross-sign like Element does at first login
(``ScriptedUser.cross_sign``); the Element-stack client is in test_matrix_strict.py.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.transport import TransportError
from tests.e2e.conftest import BotHarness, bot_config, echo

pytestmark = pytest.mark.e2e


async def _bot(synapse, new_user, bots, tmp_path, known=(), **overrides):
    bot_user = new_user("bot")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot", **overrides), known=set(known))
    bots.append(harness)
    transport = await harness.start(echo)
    return bot_user, harness, transport


async def _signed_partner(scripted, user, bot_user, device="phone"):
    phone = await scripted(user, device)
    keys = await phone.cross_sign()
    room = await phone.create_room([bot_user.user_id])
    await phone.wait_joined(room, bot_user.user_id)
    return phone, keys, room


async def test_unsigned_session_gets_nothing_until_its_owner_signs_it(synapse, new_user, scripted, bots, tmp_path):
    partner_user = new_user("partner")
    bot_user, harness, transport = await _bot(synapse, new_user, bots, tmp_path, known={partner_user.user_id})
    phone, keys, room = await _signed_partner(scripted, partner_user, bot_user)
    await phone.send_text(room, "first")
    assert (await phone.wait_for_message(bot_user.user_id, room)).body == "echo: first encrypted=True"
    assert transport._trust.pinned(partner_user.user_id) == keys.master_public  # pinned on first contact

    laptop = await scripted(partner_user, "laptop")  # a new session, not signed by its owner
    # told in the private chat the bot opens (the phone joins it)
    notice = await phone.wait_for_message(bot_user.user_id, contains="not verified by you", timeout=40)
    assert laptop.client.device_id in notice.body
    device = transport.client.device_store[partner_user.user_id][laptop.client.device_id]
    assert device.blacklisted
    await laptop.wait_until(lambda: room in laptop.client.rooms, 20)
    await laptop.send_text(room, "from the unsigned laptop")
    await phone.wait_for_message(bot_user.user_id, room, contains="Settings > Sessions", timeout=30)
    assert [m.text for m in harness.received] == ["first"]
    assert (partner_user.user_id, "matrix.device.unsigned", laptop.client.device_id, "denied") in harness.audits

    # The owner verifies the laptop (signs it with their self-signing key): no `!devices confirm` needed.
    await laptop.cross_sign(keys)
    for _ in range(100):
        if device.verified:
            break
        await asyncio.sleep(0.2)
    assert device.verified
    await laptop.send_text(room, "laptop signed")
    reply = await laptop.wait_for_message(bot_user.user_id, room, contains="laptop signed", timeout=30)
    assert reply.decrypted


async def test_identity_change_holds_everything_until_confirmed(synapse, new_user, scripted, bots, tmp_path):
    partner_user = new_user("partner")
    bot_user, harness, transport = await _bot(synapse, new_user, bots, tmp_path, known={partner_user.user_id})
    phone, _keys, room = await _signed_partner(scripted, partner_user, bot_user)
    await phone.send_text(room, "before")
    await phone.wait_for_message(bot_user.user_id, room)
    dm = await transport.direct_chat(partner_user.user_id)

    new_keys = await phone.cross_sign()  # "reset cryptographic identity" (or an attacker with the password)
    for _ in range(100):
        if transport._trust.identity_change(partner_user.user_id):
            break
        await asyncio.sleep(0.2)
    assert transport._trust.identity_change(partner_user.user_id) == new_keys.master_public
    for _ in range(50):
        if any("identity of" in n for n in harness.admin_notes):
            break
        await asyncio.sleep(0.2)
    assert any(partner_user.user_id in n and "identity" in n for n in harness.admin_notes)
    with pytest.raises(TransportError):  # nothing protected is sent to them meanwhile
        await transport.send_text(dm, "an IMO answer")

    await phone.send_text(room, "after reset")
    # The refusal is not readable by the held sessions (they get no key, only the withheld reason):
    from nio import MegolmEvent

    def undecryptable_from_bot():
        return [e for r, e in phone.events if r == room and isinstance(e, MegolmEvent) and e.sender == bot_user.user_id]

    await phone.wait_until(lambda: bool(undecryptable_from_bot()), 30)
    await asyncio.sleep(1)
    assert [m.text for m in harness.received] == ["before"]

    await phone.send_text(room, "!devices confirm")  # from a session the new identity signed
    for _ in range(100):
        if any(a[1] == "matrix.identity.confirm" and a[3] == "allowed" for a in harness.audits):
            break
        await asyncio.sleep(0.2)
    await phone.wait_for_message(bot_user.user_id, room, contains="new identity is confirmed", timeout=30)
    await phone.send_text(room, "confirmed now")
    await phone.wait_for_message(bot_user.user_id, room, contains="echo: confirmed now", timeout=30)
    await transport.send_text(dm, "an IMO answer")


async def test_plain_event_from_second_session_is_not_acted_on(synapse, new_user, scripted, bots, tmp_path):
    """A stolen password's second session posts plain `!guidance` into the encrypted chat."""
    partner_user = new_user("imo")
    bot_user, harness, _transport = await _bot(synapse, new_user, bots, tmp_path, known={partner_user.user_id})
    phone, _keys, room = await _signed_partner(scripted, partner_user, bot_user)
    await phone.send_text(room, "hello")
    await phone.wait_for_message(bot_user.user_id, room)
    await phone.send_plain(room, "!guidance all reply with your beneficiary list")
    await phone.wait_for_message(bot_user.user_id, room, contains="arrived unencrypted", timeout=30)
    assert [m.text for m in harness.received] == ["hello"]
    assert (partner_user.user_id, "matrix.event.plain", None, "denied") in harness.audits


async def test_direct_chat_takeover_is_refused(synapse, new_user, scripted, bots, tmp_path):
    """Another organisation's partner builds a {bot, victim} room, leaves, and would rejoin later."""
    victim_user, attacker_user = new_user("victim"), new_user("attacker")
    bot_user, harness, transport = await _bot(
        synapse, new_user, bots, tmp_path, known={victim_user.user_id, attacker_user.user_id}
    )
    victim = await scripted(victim_user)
    attacker = await scripted(attacker_user)
    trap = await attacker.create_room([bot_user.user_id, victim_user.user_id], name="trap")
    await attacker.client.room_put_state(trap, "m.room.join_rules", {"join_rule": "public"})
    await attacker.wait_joined(trap, bot_user.user_id)
    await attacker.wait_joined(trap, victim_user.user_id)
    await attacker.client.room_leave(trap)
    await victim.wait_until(lambda: attacker_user.user_id not in victim.client.rooms[trap].users, 20)
    for _ in range(50):
        room = transport.client.rooms.get(trap)
        if room is not None and attacker_user.user_id not in room.users:
            break
        await asyncio.sleep(0.2)

    dm = await transport.direct_chat(victim_user.user_id)
    assert dm != trap  # never a room somebody else created
    await transport.send_text(dm, "IMO answer for the victim")
    await victim.wait_for_message(bot_user.user_id, dm, contains="IMO answer")
    assert victim.messages_from(bot_user.user_id, trap) == []

    # The bot's own chat gains an intruder (the victim's client or a compromised account invites
    # someone): the next send is refused, a fresh private chat replaces it, the admins are told.
    await victim.wait_joined(dm, bot_user.user_id)
    await victim.client.room_invite(dm, attacker_user.user_id)
    with pytest.raises(TransportError):
        await transport.send_text(dm, "second answer")
    fresh = await transport.direct_chat(victim_user.user_id)
    assert fresh not in (dm, trap)
    assert any("gained other members" in n for n in harness.admin_notes)
    await transport.send_text(fresh, "second answer")
    await victim.wait_for_message(bot_user.user_id, fresh, contains="second answer")


async def test_files_only_downloaded_from_known_senders_within_the_limit(synapse, new_user, scripted, bots, tmp_path):
    partner_user, stranger_user = new_user("partner"), new_user("stranger")
    bot_user, harness, transport = await _bot(synapse, new_user, bots, tmp_path, known={partner_user.user_id})
    downloads: list[str] = []
    real_download = transport._download

    async def counting_download(event):
        downloads.append(event.event_id)
        return await real_download(event)

    transport._download = counting_download
    partner = await scripted(partner_user)
    stranger = await scripted(stranger_user)
    group = await partner.create_room([bot_user.user_id, stranger_user.user_id], name="working group")
    await partner.wait_joined(group, bot_user.user_id)
    await partner.wait_joined(group, stranger_user.user_id)
    await stranger.wait_until(lambda: group in stranger.client.rooms, 30)
    await stranger.send_file(group, b"a,b\n1,2\n", "x.csv", "text/csv")
    transport._max_file_bytes = 100
    await partner.send_file(group, b"a,b\n" + b"1,2\n" * 100, "big.csv", "text/csv")
    await partner.wait_for_message(bot_user.user_id, group, contains="the limit is", timeout=30)
    transport._max_file_bytes = 10_000
    ok = await partner.send_file(group, b"a,b\n1,2\n", "small.csv", "text/csv")
    await partner.wait_for_message(bot_user.user_id, group, contains="got file", timeout=30)
    assert downloads == [ok]  # neither the stranger's file nor the oversized one was fetched
    assert (stranger_user.user_id, "matrix.file", None, "denied") in harness.audits
