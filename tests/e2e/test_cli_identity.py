"""Operator commands for the bot's identity, as real processes where it matters:
`matrix identity`, a foreign identity refusing `run` in one line, `matrix reset-identity`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main as cli_main
from bot.transports.matrix.crosssign import CrossSigningKeys, fingerprint, identity_from_query
from bot.transports.matrix.identity import held_master
from tests.e2e.test_cli_run import start_bot, stop_bot, write_site

pytestmark = pytest.mark.e2e
EXE = str(Path(sys.executable).parent / "clusterbot")


async def _server_master(synapse, user) -> str | None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            synapse.url + "/_matrix/client/v3/login",
            json={
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user.user_id},
                "password": user.password,
            },
        ) as resp:
            token = (await resp.json())["access_token"]
        async with session.post(
            synapse.url + "/_matrix/client/v3/keys/query",
            json={"device_keys": {user.user_id: []}},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            identity = identity_from_query(await resp.json(), user.user_id)
    return identity.master if identity else None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL
    )


async def test_identity_commands(synapse, new_user, tmp_path):
    bot_user = new_user("bot")
    base = tmp_path / "site"
    cfg = write_site(base, synapse.url, bot_user.user_id, bot_user.password)
    assert await asyncio.to_thread(cli_main, ["db", "upgrade", "--config", str(cfg)]) == 0
    out = await asyncio.to_thread(_cli, "matrix", "identity", "--config", str(cfg))
    assert out.returncode == 2 and "no cross-signing identity yet" in out.stderr

    proc = await asyncio.to_thread(start_bot, cfg, tmp_path / "bot.log")
    assert await asyncio.to_thread(stop_bot, proc) == 0
    store = base / "matrix-store"
    master = held_master(store)
    assert master is not None and await _server_master(synapse, bot_user) == master
    out = await asyncio.to_thread(_cli, "matrix", "identity", "--config", str(cfg))
    assert out.returncode == 0 and fingerprint(master) in out.stdout

    # Without --yes and without a terminal: explained, nothing changed.
    out = await asyncio.to_thread(_cli, "matrix", "reset-identity", "--config", str(cfg))
    assert out.returncode == 2 and "identity CHANGED" in out.stderr
    assert held_master(store) == master

    # Somebody replaces the identity on the server: `run` refuses in one line, exit 2.
    foreign = CrossSigningKeys.generate()
    async with aiohttp.ClientSession() as session:
        async with session.post(
            synapse.url + "/_matrix/client/v3/login",
            json={
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": bot_user.user_id},
                "password": bot_user.password,
            },
        ) as resp:
            token = (await resp.json())["access_token"]
        body = foreign.upload_body(bot_user.user_id)
        body["auth"] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": bot_user.user_id},
            "password": bot_user.password,
        }
        async with session.post(
            synapse.url + "/_matrix/client/v3/keys/device_signing/upload",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            assert resp.status == 200, await resp.text()
    out = await asyncio.to_thread(_cli, "run", "--config", str(cfg))
    assert out.returncode == 2, out.stderr[-2000:]
    assert "reset-identity" in out.stderr and "Traceback" not in out.stderr
    assert [line for line in out.stderr.splitlines() if line.startswith("clusterbot:")][-1].count("\n") == 0

    # The operator resets on purpose: a new identity the bot holds, audited; `run` works again.
    out = await asyncio.to_thread(_cli, "matrix", "reset-identity", "--yes", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    new_master = held_master(store)
    assert new_master not in (master, foreign.master_public)
    assert await _server_master(synapse, bot_user) == new_master
    assert (store / "identity_reset_notice.json").exists()
    out = await asyncio.to_thread(_cli, "audit", "verify", "--config", str(cfg))
    assert out.returncode == 0
    import sqlite3

    db = sqlite3.connect(base / "bot.sqlite3")
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log")]
    db.close()
    assert "matrix.identity.reset" in actions
    proc = await asyncio.to_thread(start_bot, cfg, tmp_path / "bot2.log")
    assert await asyncio.to_thread(stop_bot, proc) == 0
