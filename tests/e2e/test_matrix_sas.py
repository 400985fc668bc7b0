"""Emoji (SAS) verification in ``verified`` mode, compared by an admin in the admin room.

Both sides are real matrix-nio clients on a real Synapse: the partner's device starts the
verification, the bot posts the emoji to the encrypted admin room, a (scripted) admin
answers ``!devices sas TXN match|mismatch``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest
from nio import MegolmEvent
from nio.crypto.sas import SasState

from bot.transports.matrix import MatrixTransport, trust_device
from bot.transports.matrix.sas import format_emoji
from tests.e2e.conftest import BotHarness, bot_config, echo

pytestmark = pytest.mark.e2e


SasHarness = BotHarness  # the shared harness takes the admins who may answer SAS


async def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@dataclass
class Setup:
    harness: SasHarness
    transport: MatrixTransport
    admin: Any
    admin_room: str
    phone: Any
    bot_user: Any
    partner_user: Any


async def _setup(synapse, new_user, scripted, bots, tmp_path, *, partner_known: bool = True):
    """Bot in verified mode, an admin (trusted device) with the admin room, a partner with a DM."""
    bot_user, admin_user, partner_user = new_user("bot"), new_user("admin"), new_user("partner")
    admin = await scripted(admin_user, "admin-laptop")
    admin_room = await admin.create_room([bot_user.user_id], name="admins")
    cfg = bot_config(synapse, bot_user, tmp_path / "bot", device_trust="verified", admin_room=admin_room)
    known = {admin_user.user_id} | ({partner_user.user_id} if partner_known else set())
    harness = SasHarness(cfg, known=known, admins={admin_user.user_id})
    bots.append(harness)
    trust_device(cfg, admin_user.user_id, admin.client.device_id, admin.client.olm.account.identity_keys["ed25519"])
    transport = await harness.start(echo)
    await admin.wait_joined(admin_room, bot_user.user_id)
    phone = await scripted(partner_user, "phone")
    return Setup(harness, transport, admin, admin_room, phone, bot_user, partner_user)


async def _bot_device(user: Any, bot_user_id: str, bot_device_id: str) -> Any:
    """The bot's device as the user's client knows it (after a key query if needed)."""
    client = user.client

    def known() -> bool:
        return bot_user_id in client.device_store.users and bot_device_id in client.device_store[bot_user_id]

    if not known():
        client.olm.users_for_key_query.add(bot_user_id)
        await client.keys_query()
    await user.wait_until(known, 20)
    return client.device_store[bot_user_id][bot_device_id]


async def _start_sas(user: Any, bot_user_id: str, bot_device_id: str) -> str:
    """The user's device starts SAS with the bot's device; returns the transaction id."""
    client = user.client
    await client.start_key_verification(await _bot_device(user, bot_user_id, bot_device_id))
    return next(
        txn
        for txn, sas in client.key_verifications.items()
        if sas.other_olm_device.id == bot_device_id and not sas.canceled
    )


async def test_sas_match_trusts_device_across_restart(synapse, new_user, scripted, bots, tmp_path):
    t0 = time.monotonic()
    s = await _setup(synapse, new_user, scripted, bots, tmp_path)
    harness, transport, admin, admin_room, phone = s.harness, s.transport, s.admin, s.admin_room, s.phone
    bot_user, partner_user = s.bot_user, s.partner_user
    room = await phone.create_room([bot_user.user_id])
    await phone.wait_joined(room, bot_user.user_id)

    def undecryptable_from_bot() -> list[Any]:
        return [e for r, e in phone.events if r == room and isinstance(e, MegolmEvent) and e.sender == bot_user.user_id]

    # Before: the bot answers, but does not share its room key with the unverified phone.
    await phone.send_text(room, "hi")
    await phone.wait_until(lambda: bool(undecryptable_from_bot()), 30)
    assert phone.messages_from(bot_user.user_id, room) == []

    txn = await _start_sas(phone, bot_user.user_id, transport.device_id)
    sas = phone.client.key_verifications[txn]
    await phone.wait_until(lambda: sas.state == SasState.key_received, 30)
    emoji = sas.get_emoji()

    post = await admin.wait_for_message(bot_user.user_id, admin_room, contains=txn, timeout=30)
    assert format_emoji(emoji) in post.body
    assert partner_user.user_id in post.body and phone.client.device_id in post.body
    assert not transport.client.device_store[partner_user.user_id][phone.client.device_id].verified

    await admin.send_text(admin_room, f"!devices sas {txn} match")
    await admin.wait_for_message(bot_user.user_id, admin_room, contains=f"Confirmed {txn}", timeout=30)
    await phone.client.confirm_short_auth_string(txn)  # the user confirms on their device too

    await admin.wait_for_message(bot_user.user_id, admin_room, contains="is verified", timeout=30)
    told = await phone.wait_for_message(bot_user.user_id, contains="now verified", timeout=30)
    assert told.decrypted
    await phone.wait_until(lambda: sas.verified, 20)  # the bot's MAC checked out on the phone too
    assert (partner_user.user_id, "matrix.device_verified", phone.client.device_id, "done") in harness.audits

    # After: the bot's answers are readable on the phone.
    await phone.send_text(room, "hi again")
    reply = await phone.wait_for_message(bot_user.user_id, room, contains="hi again", timeout=30)
    assert reply.decrypted

    # The trust is persisted: a restarted bot still shares its keys with the phone.
    await harness.stop()
    restarted = await harness.start(echo)
    assert restarted.client.device_store[partner_user.user_id][phone.client.device_id].verified
    await phone.send_text(room, "after restart")
    reply = await phone.wait_for_message(bot_user.user_id, room, contains="after restart", timeout=30)
    assert reply.decrypted
    assert time.monotonic() - t0 < 60


async def test_sas_mismatch_and_non_admin_answer_keep_device_untrusted(synapse, new_user, scripted, bots, tmp_path):
    s = await _setup(synapse, new_user, scripted, bots, tmp_path)
    harness, transport, admin, admin_room, phone = s.harness, s.transport, s.admin, s.admin_room, s.phone
    bot_user, partner_user = s.bot_user, s.partner_user
    room = await phone.create_room([bot_user.user_id])
    await phone.wait_joined(room, bot_user.user_id)

    txn = await _start_sas(phone, bot_user.user_id, transport.device_id)
    sas = phone.client.key_verifications[txn]
    await admin.wait_for_message(bot_user.user_id, admin_room, contains=txn, timeout=30)

    # The partner is not an admin: their own "match" is refused and changes nothing.
    await phone.send_text(room, f"!devices sas {txn} match")
    await _wait(lambda: (partner_user.user_id, "matrix.device_sas", txn, "denied") in harness.audits, 30, "the refusal")
    assert not transport.client.key_verifications[txn].sas_accepted

    await admin.send_text(admin_room, f"!devices sas {txn} mismatch")
    await admin.wait_for_message(bot_user.user_id, admin_room, contains=f"Cancelled {txn}", timeout=30)
    await phone.wait_until(lambda: txn not in phone.client.key_verifications or sas.canceled, 30)
    device = transport.client.device_store[partner_user.user_id][phone.client.device_id]
    assert not device.verified and device.blacklisted
    assert not transport._trust.is_trusted(device)
    assert (partner_user.user_id, "matrix.device_verified", phone.client.device_id, "denied") in harness.audits


async def test_sas_timeout_cancels_and_tells_admin_room(synapse, new_user, scripted, bots, tmp_path):
    s = await _setup(synapse, new_user, scripted, bots, tmp_path)
    transport, admin, admin_room, phone = s.transport, s.admin, s.admin_room, s.phone
    bot_user, partner_user = s.bot_user, s.partner_user
    transport.sas.timeout_seconds = 4.0
    room = await phone.create_room([bot_user.user_id])
    await phone.wait_joined(room, bot_user.user_id)
    txn = await _start_sas(phone, bot_user.user_id, transport.device_id)
    sas = phone.client.key_verifications[txn]
    await admin.wait_for_message(bot_user.user_id, admin_room, contains=txn, timeout=30)
    await admin.wait_for_message(bot_user.user_id, admin_room, contains="timed out", timeout=30)
    await phone.wait_until(lambda: txn not in phone.client.key_verifications or sas.canceled, 30)
    device = transport.client.device_store[partner_user.user_id][phone.client.device_id]
    assert not device.verified


async def test_sas_from_user_not_in_directory_is_cancelled(synapse, new_user, scripted, bots, tmp_path):
    s = await _setup(synapse, new_user, scripted, bots, tmp_path, partner_known=False)
    harness, transport, phone, bot_user, partner_user = s.harness, s.transport, s.phone, s.bot_user, s.partner_user
    txn = await _start_sas(phone, bot_user.user_id, transport.device_id)
    await phone.wait_until(lambda: txn not in phone.client.key_verifications, 30)
    assert (partner_user.user_id, "matrix.device_verified", phone.client.device_id, "denied") in harness.audits
    assert not list(transport.client.device_store.active_user_devices(partner_user.user_id))  # keys not fetched


async def test_sas_after_verification_request_sends_ready_and_done(synapse, new_user, scripted, bots, tmp_path):
    """The request/ready/start/done flow current clients (Element) use, which nio 0.26 lacks."""
    from nio import UnknownToDeviceEvent
    from nio.crypto.sas import Sas
    from nio.event_builders import ToDeviceMessage

    s = await _setup(synapse, new_user, scripted, bots, tmp_path)
    transport, admin, phone, bot_user = s.transport, s.admin, s.phone, s.bot_user
    room = await phone.create_room([bot_user.user_id])
    await phone.wait_joined(room, bot_user.user_id)
    seen: list[UnknownToDeviceEvent] = []

    async def on_to_device(event: UnknownToDeviceEvent) -> None:
        seen.append(event)

    def got(kind: str, txn: str) -> bool:
        return any(e.type == kind and e.source["content"].get("transaction_id") == txn for e in seen)

    phone.client.add_to_device_callback(on_to_device, UnknownToDeviceEvent)
    bot_device = await _bot_device(phone, bot_user.user_id, transport.device_id)
    txn = "ReqTxn" + str(time.time_ns())  # mixed case: transaction ids are case-sensitive
    await phone.client.to_device(
        ToDeviceMessage(
            "m.key.verification.request",
            bot_user.user_id,
            transport.device_id,
            {
                "from_device": phone.client.device_id,
                "methods": ["m.sas.v1"],
                "timestamp": int(time.time() * 1000),
                "transaction_id": txn,
            },
        )
    )
    await _wait(lambda: got("m.key.verification.ready", txn), 30, "ready")

    olm = phone.client.olm
    sas = Sas(phone.user_id, phone.client.device_id, olm.account.identity_keys["ed25519"], bot_device, txn)
    olm.key_verifications[txn] = sas
    await phone.client.to_device(sas.start_verification())
    await phone.wait_until(lambda: sas.state == SasState.key_received, 30)
    post = await admin.wait_for_message(bot_user.user_id, s.admin_room, contains=txn, timeout=30)
    assert format_emoji(sas.get_emoji()) in post.body
    await admin.send_text(s.admin_room, f"!devices sas {txn} match")
    await phone.client.confirm_short_auth_string(txn)
    await _wait(lambda: got("m.key.verification.done", txn), 30, "done")
    assert transport.client.device_store[s.partner_user.user_id][phone.client.device_id].verified
