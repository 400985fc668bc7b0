"""Trust on first use: a new device on a partner's account is reported and kept out."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import BotHarness, bot_config, echo

pytestmark = pytest.mark.e2e


async def test_new_partner_device_triggers_tofu_notice_until_confirmed(synapse, new_user, scripted, bots, tmp_path):
    bot_user, partner_user = new_user("bot"), new_user("partner")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known={partner_user.user_id})
    bots.append(harness)
    transport = await harness.start(echo)
    phone = await scripted(partner_user, "phone")
    room = await phone.create_room([bot_user.user_id])
    await phone.wait_joined(room, bot_user.user_id)
    await phone.send_text(room, "first")
    await phone.wait_for_message(bot_user.user_id, room)

    laptop = await scripted(partner_user, "laptop")  # a second login = a new device
    notice = await phone.wait_for_message(bot_user.user_id, contains="new device", timeout=40)  # in its private chat
    assert laptop.client.device_id in notice.body
    assert (partner_user.user_id, "matrix.device.new", laptop.client.device_id, "denied") in harness.audits
    new_dev = transport.client.device_store[partner_user.user_id][laptop.client.device_id]
    assert new_dev.blacklisted

    # The unconfirmed device can talk, but the bot does not act on it.
    await laptop.wait_until(lambda: room in laptop.client.rooms, 20)
    await laptop.send_text(room, "from laptop")
    await phone.wait_for_message(bot_user.user_id, room, contains="not confirmed yet", timeout=30)
    assert [m.text for m in harness.received] == ["first"]

    # A confirmation from the new device itself is refused; from the known phone it works.
    await laptop.send_text(room, "!devices confirm")
    await phone.wait_for_message(bot_user.user_id, room, contains="already confirmed devices", timeout=30)
    await phone.send_text(room, "!devices confirm")
    await phone.wait_for_message(bot_user.user_id, room, contains="Confirmed:", timeout=30)
    assert new_dev.verified

    # From now on the laptop gets the room keys for the bot's messages.
    await laptop.send_text(room, "laptop again")
    reply = await laptop.wait_for_message(bot_user.user_id, room, contains="laptop again", timeout=30)
    assert reply.decrypted
    await asyncio.sleep(0.5)
    assert [m.text for m in harness.received] == ["first", "laptop again"]


async def test_admin_trust_in_verified_mode(synapse, new_user, scripted, bots, tmp_path):
    from bot.transports.matrix import trust_device

    bot_user, partner_user = new_user("bot"), new_user("partner")
    cfg = bot_config(synapse, bot_user, tmp_path / "bot", device_trust="verified")
    harness = BotHarness(cfg, known={partner_user.user_id})
    bots.append(harness)
    await harness.start(echo)
    phone = await scripted(partner_user, "phone")
    room = await phone.create_room([bot_user.user_id])
    await phone.wait_joined(room, bot_user.user_id)
    await phone.send_text(room, "hi")
    from nio import MegolmEvent

    def undecryptable_from_bot():
        return [e for r, e in phone.events if r == room and isinstance(e, MegolmEvent) and e.sender == bot_user.user_id]

    # Not trusted: the bot answered, but did not share its room key with this device.
    await phone.wait_until(lambda: bool(undecryptable_from_bot()), 30)
    assert phone.messages_from(bot_user.user_id, room) == []
    assert harness.received == []  # and it did not act on the unverified device's message

    fingerprint = phone.client.olm.account.identity_keys["ed25519"]
    trust_device(cfg, partner_user.user_id, phone.client.device_id, fingerprint)
    await phone.send_text(room, "hi again")
    second = await phone.wait_for_message(bot_user.user_id, room, timeout=30)
    assert second.decrypted and second.body == "echo: hi again encrypted=True"


async def test_devices_are_confirmed_one_at_a_time(synapse, new_user, scripted, bots, tmp_path):
    """A blanket `!devices confirm` would also admit a device an attacker added at the same moment."""
    bot_user, partner_user = new_user("bot"), new_user("partner")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known={partner_user.user_id})
    bots.append(harness)
    transport = await harness.start(echo)
    phone = await scripted(partner_user, "phone")
    room = await phone.create_room([bot_user.user_id])
    await phone.wait_joined(room, bot_user.user_id)
    await phone.send_text(room, "first")
    await phone.wait_for_message(bot_user.user_id, room)
    laptop = await scripted(partner_user, "laptop")
    intruder = await scripted(partner_user, "unknown")
    for dev in (laptop, intruder):
        await phone.wait_for_message(bot_user.user_id, contains=dev.client.device_id, timeout=40)

    await phone.send_text(room, "!devices confirm")
    which = await phone.wait_for_message(bot_user.user_id, room, contains="Which device?", timeout=30)
    assert laptop.client.device_id in which.body and intruder.client.device_id in which.body
    await phone.send_text(room, f"!devices confirm {laptop.client.device_id}")
    await phone.wait_for_message(bot_user.user_id, room, contains="Confirmed:", timeout=30)
    store = transport.client.device_store[partner_user.user_id]
    assert store[laptop.client.device_id].verified
    assert store[intruder.client.device_id].blacklisted
