"""The bot's own cross-signing identity on a real Synapse: created once, kept, enforced."""

from __future__ import annotations

import aiohttp
import pytest

from bot.transports.matrix import StoreMismatchError, reset_device
from bot.transports.matrix.crosssign import CrossSigningKeys, device_signed_by, identity_from_query
from bot.transports.matrix.identity import IdentityMismatchError, held_master, sealed_path
from tests.e2e.conftest import BotHarness, bot_config, echo

pytestmark = pytest.mark.e2e


async def _query(synapse, token: str, user_id: str) -> dict:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            synapse.url + "/_matrix/client/v3/keys/query",
            json={"device_keys": {user_id: []}},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        return dict(await resp.json())


async def _login_token(synapse, user) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            synapse.url + "/_matrix/client/v3/login",
            json={
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user.user_id},
                "password": user.password,
            },
        ) as resp,
    ):
        return str((await resp.json())["access_token"])


async def _signed_device(synapse, token: str, user_id: str, device_id: str):
    query = await _query(synapse, token, user_id)
    identity = identity_from_query(query, user_id)
    device = query["device_keys"][user_id][device_id]
    return identity, identity is not None and device_signed_by(identity, device)


async def test_first_start_creates_identity_and_signs_device_restart_keeps_it(synapse, new_user, bots, tmp_path):
    bot_user, observer = new_user("bot"), new_user("obs")
    token = await _login_token(synapse, observer)
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known=set())
    bots.append(harness)
    transport = await harness.start(echo)
    identity, signed = await _signed_device(synapse, token, bot_user.user_id, transport.device_id)
    assert identity is not None and signed
    assert identity.master == held_master(tmp_path / "bot") == transport.identity.master_public
    sealed = sealed_path(tmp_path / "bot").read_text()
    assert (sealed_path(tmp_path / "bot").stat().st_mode & 0o777) == 0o600
    assert transport.identity._raw()["master"] not in sealed

    await harness.stop()
    again = BotHarness(harness.config, known=set())
    bots.append(again)
    transport = await again.start(echo)
    identity2, signed2 = await _signed_device(synapse, token, bot_user.user_id, transport.device_id)
    assert signed2 and identity2.master == identity.master  # no new identity on restart

    # reset-device: a new device, signed by the same identity on the next start
    await again.stop()
    new_device = await reset_device(harness.config)
    third = BotHarness(harness.config, known=set())
    bots.append(third)
    transport = await third.start(echo)
    assert transport.device_id == new_device
    identity3, signed3 = await _signed_device(synapse, token, bot_user.user_id, new_device)
    assert signed3 and identity3.master == identity.master


async def test_identity_the_bot_does_not_hold_stops_start(synapse, new_user, bots, tmp_path):
    bot_user = new_user("bot")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known=set())
    bots.append(harness)
    await harness.start(echo)
    await harness.stop()

    # Someone else (a stolen password) replaces the account's identity.
    token = await _login_token(synapse, bot_user)
    foreign = CrossSigningKeys.generate()
    body = foreign.upload_body(bot_user.user_id)
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {token}"}
        url = synapse.url + "/_matrix/client/v3/keys/device_signing/upload"
        async with session.post(url, json=body, headers=headers) as resp:
            session_id = (await resp.json()).get("session")
        body["auth"] = {
            "type": "m.login.password",
            "session": session_id,
            "identifier": {"type": "m.id.user", "user": bot_user.user_id},
            "password": bot_user.password,
        }
        async with session.post(url, json=body, headers=headers) as resp:
            assert resp.status == 200

    again = BotHarness(harness.config, known=set())
    with pytest.raises(IdentityMismatchError) as info:
        await again.start(echo)
    assert "reset-identity" in str(info.value)
    assert foreign.master_public[:4] in str(info.value)


async def test_lost_sealed_keys_stop_start_instead_of_replacing_identity(synapse, new_user, bots, tmp_path):
    bot_user = new_user("bot")
    harness = BotHarness(bot_config(synapse, bot_user, tmp_path / "bot"), known=set())
    bots.append(harness)
    await harness.start(echo)
    master = harness.transport.identity.master_public
    await harness.stop()
    sealed_path(tmp_path / "bot").unlink()
    again = BotHarness(harness.config, known=set())
    with pytest.raises(StoreMismatchError):
        await again.start(echo)
    token = await _login_token(synapse, bot_user)
    identity = identity_from_query(await _query(synapse, token, bot_user.user_id), bot_user.user_id)
    assert identity is not None and identity.master == master  # untouched on the server
