"""The Matrix transport against a real Synapse, driven by a tiny echo callback."""

from __future__ import annotations

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
    assert harness.received[0].encrypted and harness.received[0].direct
    relates = reply.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
    assert relates == harness.received[0].event_id
    assert await transport.is_encrypted(room)
