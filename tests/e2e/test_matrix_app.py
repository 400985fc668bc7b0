"""The real bot (Application + handlers + Matrix transport) against Synapse."""

from __future__ import annotations

import asyncio
import importlib

import pytest

from bot.demo import BENEFICIARY_CSV
from tests.e2e.synapse import ScriptedUser

pytestmark = pytest.mark.e2e


def _screening_ready() -> bool:
    try:
        return hasattr(importlib.import_module("bot.screening"), "screen_bytes")
    except ImportError:
        return False


async def _partner(stack, synapse, new_user, scripted, role="partner", org="Relief Org"):
    user = new_user(role)
    await stack.add_users([(user.user_id, role, org if role == "partner" else None)])
    client: ScriptedUser = await scripted(user)
    return client


async def test_help_in_encrypted_direct_chat(stack, synapse, new_user, scripted):
    partner = await _partner(stack, synapse, new_user, scripted)
    room = await partner.create_room([stack.bot_user.user_id])
    await partner.wait_joined(room, stack.bot_user.user_id)
    await partner.send_text(room, "!help")
    reply = await partner.wait_for_message(stack.bot_user.user_id, room, timeout=30)
    assert reply.decrypted and "!label" in reply.body
    assert reply.source["content"]["msgtype"] == "m.notice"


async def test_sensitive_command_refused_in_unencrypted_room(stack, synapse, new_user, scripted):
    partner = await _partner(stack, synapse, new_user, scripted)
    room = await partner.create_room([stack.bot_user.user_id], encrypted=False)
    await partner.wait_joined(room, stack.bot_user.user_id)
    await partner.send_text(room, "!mydata")
    reply = await partner.wait_for_message(stack.bot_user.user_id, room, timeout=30)
    assert "not end-to-end encrypted" in reply.body


@pytest.mark.skipif(not _screening_ready(), reason="screening engine (bot.screening.screen_bytes) not landed yet")
async def test_file_submission_is_held_then_accepted_after_label(stack, synapse, new_user, scripted):
    partner = await _partner(stack, synapse, new_user, scripted)
    bot_id = stack.bot_user.user_id
    room = await partner.create_room([bot_id])
    await partner.wait_joined(room, bot_id)
    await partner.send_file(room, BENEFICIARY_CSV, "beneficiaries.csv", "text/csv")
    held = await partner.wait_for_message(bot_id, room, contains="held", timeout=120)
    import re

    sid = re.search(r"S-\d{4}", held.body).group(0)
    level = re.search(r"needs the level (\w+)", held.body).group(1)
    await partner.send_text(room, f"!label {sid} {level}")
    accepted = await partner.wait_for_message(bot_id, room, contains="accepted as", timeout=60)
    assert sid in accepted.body and accepted.decrypted


async def test_restart_answers_message_sent_while_down_exactly_once(stack, synapse, new_user, scripted):
    partner = await _partner(stack, synapse, new_user, scripted)
    bot_id = stack.bot_user.user_id
    room = await partner.create_room([bot_id])
    await partner.wait_joined(room, bot_id)
    await partner.send_text(room, "!help")
    await partner.wait_for_message(bot_id, room, timeout=30)
    device = stack.transport.device_id
    await stack.stop()

    await partner.send_text(room, "!help")  # while the bot is down
    await stack.start()  # same database, same Matrix store: a restart
    assert stack.transport.device_id == device
    await partner.wait_for_message(bot_id, room, count=2, timeout=30)
    await asyncio.sleep(2)
    assert len(partner.messages_from(bot_id, room)) == 2


async def test_slow_screening_does_not_delay_another_partner(stack, synapse, new_user, scripted, monkeypatch):
    """The sync loop does not wait for handlers: B's !help is answered while A's file is still screening."""
    from handlers import submissions

    real_screen = submissions.screen

    async def slow_screen(*args, **kwargs):  # a 50 MB spreadsheet's worth of screening time
        await asyncio.sleep(6)
        return await real_screen(*args, **kwargs)

    monkeypatch.setattr(submissions, "screen", slow_screen)
    bot_id = stack.bot_user.user_id
    a = await _partner(stack, synapse, new_user, scripted)
    b = await _partner(stack, synapse, new_user, scripted, org="Water Org")
    room_a = await a.create_room([bot_id])
    room_b = await b.create_room([bot_id])
    await a.wait_joined(room_a, bot_id)
    await b.wait_joined(room_b, bot_id)
    big = b"State,Township,People\n" + b"Rakhine,Sittwe,5400\n" * 80_000  # 1.6 MB, aggregated
    await a.send_file(room_a, big, "totals.csv", "text/csv")
    await a.wait_for_message(bot_id, room_a, contains="screening", timeout=60)
    await b.send_text(room_b, "!help")
    await b.wait_for_message(bot_id, room_b, timeout=20)
    assert not a.messages_from(bot_id, room_a)[1:], "A's verdict came before B's reply"
    verdict = await a.wait_for_message(bot_id, room_a, contains="accepted", timeout=60)
    assert "S-0001" in verdict.body
