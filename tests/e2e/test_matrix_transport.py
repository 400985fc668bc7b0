"""The Matrix transport against a real Synapse, driven by a tiny echo callback."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import BotHarness, bot_config, echo

pytestmark = pytest.mark.e2e


async def test_encrypted_text_roundtrip(synapse, new_user, scripted, bots, tmp_path):
    bot_user, partner_user = new_user("bot"), new_user("partner")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known={partner_user.user_id})
    bots.append(harness)
    transport = await harness.start(echo)
    partner = await scripted(partner_user)

    room = await partner.create_room([bot_user.user_id])
    await partner.wait_joined(room, bot_user.user_id)
    await partner.send_text(room, "hello bot")
    reply = await partner.wait_for_message(bot_user.user_id, room)

    assert reply.body == "echo: hello bot encrypted=True"
    assert reply.decrypted
    assert reply.source["content"]["msgtype"] == "m.notice"
    assert harness.received[0].encrypted and not harness.received[0].direct  # not a room the bot created
    relates = reply.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
    assert relates == harness.received[0].event_id
    assert await transport.is_encrypted(room)


async def _bot_and_partner(synapse, new_user, scripted, bots, tmp_path, handler=echo, **overrides):
    bot_user, partner_user = new_user("bot"), new_user("partner")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot", **overrides), known={partner_user.user_id})
    bots.append(harness)
    await harness.start(handler)
    partner = await scripted(partner_user)
    room = await partner.create_room([bot_user.user_id])
    await partner.wait_joined(room, bot_user.user_id)
    return harness, bot_user, partner, room


async def test_encrypted_file_both_directions(synapse, new_user, scripted, bots, tmp_path):
    harness, bot_user, partner, room = await _bot_and_partner(synapse, new_user, scripted, bots, tmp_path)
    data = b"name,phone\nA,+0000\n" * 20
    await partner.send_file(room, data, "list.csv", "text/csv")
    reply = await partner.wait_for_message(bot_user.user_id, room)
    att = harness.received[0].attachments[0]
    assert att.data == data and att.filename == "list.csv" and att.mimetype == "text/csv"
    assert reply.body == f"got file {att.sha256} encrypted=True"

    from nio import RoomEncryptedFile
    from nio.crypto.attachments import decrypt_attachment

    from bot.events import OutgoingFile

    await harness.transport.send_file(room, OutgoingFile("report.txt", "text/plain", b"report body"))
    sent = await partner.wait_for_message(bot_user.user_id, room, count=2)
    assert isinstance(sent, RoomEncryptedFile)
    blob = await partner.client.download(mxc=sent.url)
    assert decrypt_attachment(blob.body, sent.key["k"], sent.hashes["sha256"], sent.iv) == b"report body"


async def test_unencrypted_room_is_reported_truthfully_and_files_refused(synapse, new_user, scripted, bots, tmp_path):
    from bot.events import OutgoingFile
    from bot.transport import TransportError

    bot_user, partner_user = new_user("bot"), new_user("partner")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known={partner_user.user_id})
    bots.append(harness)
    transport = await harness.start(echo)
    partner = await scripted(partner_user)
    room = await partner.create_room([bot_user.user_id], encrypted=False)
    await partner.wait_joined(room, bot_user.user_id)
    await partner.send_text(room, "plain")
    reply = await partner.wait_for_message(bot_user.user_id, room)
    assert reply.body == "echo: plain encrypted=False"
    assert not await transport.is_encrypted(room)
    with pytest.raises(TransportError):
        await transport.send_file(room, OutgoingFile("x.csv", "text/csv", b"secret"))


async def test_invite_from_unknown_user_is_rejected_and_audited(synapse, new_user, scripted, bots, tmp_path):
    import asyncio

    bot_user, stranger_user = new_user("bot"), new_user("stranger")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known=set())
    bots.append(harness)
    transport = await harness.start(echo)
    stranger = await scripted(stranger_user)
    room = await stranger.create_room([bot_user.user_id], name="a group")  # not a direct chat
    for _ in range(100):
        if harness.audits:
            break
        await asyncio.sleep(0.2)
    assert harness.audits == [(stranger_user.user_id, "matrix.invite", room, "denied")]
    assert room not in transport.client.rooms
    await stranger.wait_until(lambda: bot_user.user_id not in stranger.client.rooms[room].invited_users, 20)

    # a direct chat is accepted (the stranger may only `!join`), a second one within the hour is not
    direct = await stranger.create_room([bot_user.user_id])
    await stranger.wait_joined(direct, bot_user.user_id, timeout=30)
    again = await stranger.create_room([bot_user.user_id])
    for _ in range(100):
        if len(harness.audits) >= 3:
            break
        await asyncio.sleep(0.2)
    assert harness.audits[1:] == [
        (stranger_user.user_id, "matrix.invite.stranger", direct, "allowed"),
        (stranger_user.user_id, "matrix.invite", again, "denied"),
    ]


async def test_configured_room_must_be_encrypted(synapse, new_user, scripted, bots, tmp_path):
    from bot.transport import TransportError

    bot_user, imo_user = new_user("bot"), new_user("imo")
    imo = await scripted(imo_user)
    room = await imo.create_room([bot_user.user_id], encrypted=False, name="IMO")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot", imo_room=room), known={imo_user.user_id})
    bots.append(harness)
    transport = await harness.start(echo)
    await imo.wait_joined(room, bot_user.user_id)
    with pytest.raises(TransportError):
        await transport.send_text(room, "sensitive digest")
    for _ in range(100):  # the admins are told in the background (never blocking a send or the sync)
        if any("not end-to-end encrypted" in note for note in harness.admin_notes):
            break
        await asyncio.sleep(0.1)
    assert any("not end-to-end encrypted" in note for note in harness.admin_notes)


async def test_rate_limit_answers_politely_once(synapse, new_user, scripted, bots, tmp_path):
    harness, bot_user, partner, room = await _bot_and_partner(
        synapse, new_user, scripted, bots, tmp_path, rate_limit_per_minute=2
    )
    for i in range(4):
        await partner.send_text(room, f"m{i}")
    await partner.wait_for_message(bot_user.user_id, room, contains="faster than")
    await partner.wait_for_message(bot_user.user_id, room, count=3)
    await partner.send_text(room, "again")
    import asyncio

    await asyncio.sleep(2)
    bodies = [ev.body for ev in partner.messages_from(bot_user.user_id, room)]
    assert sorted(b for b in bodies if b.startswith("echo")) == ["echo: m0 encrypted=True", "echo: m1 encrypted=True"]
    assert sum("faster than" in b for b in bodies) == 1 and len(bodies) == 3
    assert [m.text for m in harness.received] == ["m0", "m1"]


async def test_undecryptable_message_is_reported_to_the_sender(synapse, new_user, scripted, bots, tmp_path):
    harness, bot_user, partner, room = await _bot_and_partner(
        synapse, new_user, scripted, bots, tmp_path, undecryptable_timeout_seconds=2.0
    )
    curve = partner.client.olm.account.identity_keys["curve25519"]
    content = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgAEhA" + "A" * 40,
        "sender_key": curve,
        "session_id": "bogus-session-" + partner.client.device_id,
        "device_id": partner.client.device_id,
    }
    from nio import Api, RoomSendResponse

    # Bypass nio's encryption: post a ciphertext whose key nobody will ever share.
    method, path, data = Api.room_send(partner.client.access_token, room, "m.room.encrypted", content, "tx-bogus")
    resp = await partner.client._send(RoomSendResponse, method, path, data, (room,))
    reply = await partner.wait_for_message(bot_user.user_id, room, contains="could not read", timeout=30)
    assert reply.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == resp.event_id
    assert harness.received == []
