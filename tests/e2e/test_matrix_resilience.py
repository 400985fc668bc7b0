"""Restarts of the bot and of the homeserver, lost stores and ``reset-device``."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from bot.transports.matrix import StoreMismatchError, reset_device
from bot.transports.matrix.state import load_credentials
from bot.transports.matrix.transport import make_client
from tests.e2e.conftest import BotHarness, bot_config, echo

pytestmark = pytest.mark.e2e


async def _setup(synapse, new_user, scripted, bots, tmp_path):
    bot_user, partner_user = new_user("bot"), new_user("partner")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known={partner_user.user_id})
    bots.append(harness)
    await harness.start(echo)
    partner = await scripted(partner_user)
    room = await partner.create_room([bot_user.user_id])
    await partner.wait_joined(room, bot_user.user_id)
    await partner.send_text(room, "before")
    await partner.wait_for_message(bot_user.user_id, room)
    return harness, bot_user, partner_user, partner, room


async def test_restart_keeps_decrypting_and_answers_missed_message_once(synapse, new_user, scripted, bots, tmp_path):
    harness, bot_user, partner_user, partner, room = await _setup(synapse, new_user, scripted, bots, tmp_path)
    device_before = harness.transport.device_id
    await harness.stop()

    await partner.send_text(room, "while down")  # new megolm session is shared with the stopped device

    again = BotHarness(harness.config, known=harness.known)
    bots.append(again)
    transport = await again.start(echo)
    assert transport.device_id == device_before  # restore_login, same device, no new login
    await partner.wait_for_message(bot_user.user_id, room, count=2)
    await partner.send_text(room, "after")
    await partner.wait_for_message(bot_user.user_id, room, count=3)
    await asyncio.sleep(1)
    assert [m.text for m in again.received] == ["while down", "after"]
    bodies = [e.body for e in partner.messages_from(bot_user.user_id, room)]
    assert bodies == ["echo: before encrypted=True", "echo: while down encrypted=True", "echo: after encrypted=True"]


async def test_bot_reconnects_after_homeserver_restart(synapse, new_user, scripted, bots, tmp_path):
    harness, bot_user, _partner_user, partner, room = await _setup(synapse, new_user, scripted, bots, tmp_path)
    synapse.stop()
    for _ in range(50):
        if not harness.transport.connected:
            break
        await asyncio.sleep(0.2)
    assert not harness.transport.connected
    synapse.start()
    await partner.send_text(room, "are you back?")
    reply = await partner.wait_for_message(bot_user.user_id, room, count=2, timeout=60)
    assert reply.body == "echo: are you back? encrypted=True"
    assert harness.transport.connected


async def test_lost_store_is_reported_and_reset_device_recovers(synapse, new_user, scripted, bots, tmp_path):
    harness, bot_user, partner_user, partner, room = await _setup(synapse, new_user, scripted, bots, tmp_path)
    await harness.stop()
    store = harness.config.store_dir
    old = load_credentials(store)
    for path in store.glob(f"{old.user_id}_{old.device_id}*"):
        path.unlink()

    broken = BotHarness(harness.config, known=harness.known)
    with pytest.raises(StoreMismatchError, match="reset-device"):
        await broken.start(echo)

    new_device = await reset_device(harness.config)
    assert new_device != old.device_id
    assert load_credentials(store).device_id == new_device

    fresh = BotHarness(harness.config, known=harness.known)
    bots.append(fresh)
    transport = await fresh.start(echo)
    assert transport.device_id == new_device
    devices = await transport.client.devices()
    assert old.device_id not in {d.id for d in devices.devices}
    await partner.send_text(room, "hello new device")
    reply = await partner.wait_for_message(bot_user.user_id, room, contains="hello new device", timeout=40)
    assert reply.decrypted


async def test_whole_store_folder_deleted_reset_device_deletes_the_device_the_database_remembers(
    synapse, new_user, scripted, bots, tmp_path
):
    """The store folder is gone (nothing on disk names the old device): `clusterbot run` refuses
    (tests/core/test_cli_faults.py) and reset-device deletes the device the database recorded."""
    harness, bot_user, partner_user, partner, room = await _setup(synapse, new_user, scripted, bots, tmp_path)
    await harness.stop()
    store = harness.config.store_dir
    old = load_credentials(store)
    shutil.rmtree(store)

    new_device = await reset_device(harness.config, previous_device=old.device_id)
    assert new_device != old.device_id
    client = make_client(harness.config)
    try:
        client.user_id, client.device_id = harness.config.user_id, new_device
        client.access_token = load_credentials(store).access_token
        devices = await client.devices()
    finally:
        await client.close()
    ids = {d.id for d in devices.devices}
    assert new_device in ids and old.device_id not in ids, "the old device is still on the homeserver"


async def test_store_from_another_device_is_refused(synapse, new_user, scripted, bots, tmp_path):
    harness, *_ = await _setup(synapse, new_user, scripted, bots, tmp_path)
    await harness.stop()
    store = harness.config.store_dir
    creds = load_credentials(store)
    # Simulate restoring an unrelated store: replace the crypto DB with a fresh account's.
    other = tmp_path / "other"
    other_cfg = bot_config(synapse, new_user("other"), other, pickle_key=harness.config.pickle_key)
    other_h = BotHarness(other_cfg, known=set())
    await other_h.start(echo)
    await other_h.stop()
    other_creds = load_credentials(other)
    db = next(other.glob(f"{other_creds.user_id}_{other_creds.device_id}.db"))
    target = store / f"{creds.user_id}_{creds.device_id}.db"
    shutil.copy(db, target)
    import sqlite3

    with sqlite3.connect(target) as conn:
        conn.execute("UPDATE accounts SET user_id=?, device_id=?", (creds.user_id, creds.device_id))
    with pytest.raises(StoreMismatchError, match="does not match"):
        await BotHarness(harness.config, known=set()).start(echo)


async def test_wrong_pickle_key_is_reported(synapse, new_user, scripted, bots, tmp_path):
    from dataclasses import replace

    from bot.config import Secret

    harness, *_ = await _setup(synapse, new_user, scripted, bots, tmp_path)
    await harness.stop()
    wrong = replace(harness.config, pickle_key=Secret("not-the-key"))
    with pytest.raises(StoreMismatchError, match="pickle_key"):
        await BotHarness(wrong, known=set()).start(echo)
