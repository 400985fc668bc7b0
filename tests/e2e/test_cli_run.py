"""`clusterbot run` as a real process: starts Matrix and the persisted scheduler, answers,
stops cleanly on SIGTERM, and a *new process* with the same store answers a message sent
while it was down exactly once."""

from __future__ import annotations

import asyncio
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from storage.crypto import KeyRing

pytestmark = pytest.mark.e2e


def write_site(base: Path, hs_url: str, user_id: str, password: str) -> Path:
    (base / "secrets").mkdir(parents=True, mode=0o700)
    (base / "secrets" / "matrix_password").write_text(password)
    (base / "secrets" / "pickle_key").write_text(secrets.token_urlsafe(24))
    for secret in (base / "secrets").iterdir():
        secret.chmod(0o600)  # secret files must be private (else refused)
    KeyRing.generate().save(base / "master.key")
    cfg = base / "clusterbot.toml"
    cfg.write_text(
        f"""
[matrix]
homeserver = "{hs_url}"
user_id = "{user_id}"
password_file = "secrets/matrix_password"
pickle_key_file = "secrets/pickle_key"
store_dir = "matrix-store"

[storage]
database_url = "sqlite+aiosqlite:///bot.sqlite3"
blob_dir = "blobs"
master_key_file = "master.key"

[screening]
workers = 1

[logging]
json = true
"""
    )
    return cfg


def start_bot(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).parent / "clusterbot")
    fh = log.open("ab")
    proc = subprocess.Popen([exe, "run", "--config", str(cfg)], stdout=fh, stderr=fh, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if "clusterbot running" in log.read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            raise AssertionError(f"bot exited early:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("bot did not start in 90 s")


def stop_bot(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise


async def test_run_process_restart_exactly_once(synapse, new_user, scripted, tmp_path):
    bot_user = new_user("bot")
    partner_user = new_user("partner")
    base = tmp_path / "site"
    cfg = write_site(base, synapse.url, bot_user.user_id, bot_user.password)
    assert await asyncio.to_thread(cli_main, ["db", "upgrade", "--config", str(cfg)]) == 0
    assert await asyncio.to_thread(cli_main, ["admin", "org", "add", "Relief Org", "--config", str(cfg)]) == 0
    assert (
        await asyncio.to_thread(
            cli_main,
            [
                "admin",
                "user",
                "add",
                partner_user.user_id,
                "--org",
                "Relief Org",
                "--role",
                "partner",
                "--config",
                str(cfg),
            ],
        )
        == 0
    )
    log = tmp_path / "bot.log"
    proc = await asyncio.to_thread(start_bot, cfg, log)
    try:
        partner = await scripted(partner_user)
        room = await partner.create_room([bot_user.user_id])
        await partner.wait_joined(room, bot_user.user_id, timeout=60)
        await partner.send_text(room, "!help")
        first = await partner.wait_for_message(bot_user.user_id, room, timeout=60)
        assert first.decrypted and "!label" in first.body
        db = sqlite3.connect(base / "bot.sqlite3")
        jobs = [r[0] for r in db.execute("SELECT id FROM scheduler_jobs")]
        db.close()
        assert "clusterbot-sweeps" in jobs  # the scheduler's job store is the bot's database
    finally:
        code = await asyncio.to_thread(stop_bot, proc)
    assert code == 0
    assert "clusterbot stopped" in log.read_text()

    await partner.send_text(room, "!help")  # while no bot process runs
    proc = await asyncio.to_thread(start_bot, cfg, log)
    try:
        await partner.wait_for_message(bot_user.user_id, room, count=2, timeout=90)
        await asyncio.sleep(3)
        assert len(partner.messages_from(bot_user.user_id, room)) == 2
    finally:
        assert await asyncio.to_thread(stop_bot, proc) == 0
    text = log.read_text()
    assert "!help" not in text and "Commands you can use" not in text  # no message content in logs
    assert partner_user.password not in text and bot_user.password not in text


def test_unreachable_homeserver_is_waited_for_and_sigterm_still_stops(tmp_path: Path) -> None:
    base = tmp_path / "site"
    cfg = write_site(base, "http://127.0.0.1:9", "@bot:localhost", "pw")  # nothing listens on port 9
    assert cli_main(["db", "upgrade", "--config", str(cfg)]) == 0
    exe = str(Path(sys.executable).parent / "clusterbot")
    log = tmp_path / "bot.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([exe, "run", "--config", str(cfg)], stdout=fh, stderr=fh, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while "homeserver unreachable at start" not in log.read_text(errors="replace"):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    assert stop_bot(proc) == 0
    text = log.read_text()
    assert "Traceback" not in text and "clusterbot stopped" in text and "Unclosed client session" not in text


async def test_lost_store_is_one_clear_line(synapse, new_user, tmp_path):
    bot_user = new_user("bot")
    base = tmp_path / "site"
    cfg = write_site(base, synapse.url, bot_user.user_id, bot_user.password)
    assert await asyncio.to_thread(cli_main, ["db", "upgrade", "--config", str(cfg)]) == 0
    log = tmp_path / "bot.log"
    proc = await asyncio.to_thread(start_bot, cfg, log)
    assert await asyncio.to_thread(stop_bot, proc) == 0
    for db in (base / "matrix-store").glob("*.db"):
        db.unlink()  # the crypto store is lost; credentials remain
    exe = str(Path(sys.executable).parent / "clusterbot")
    out = await asyncio.to_thread(
        subprocess.run, [exe, "run", "--config", str(cfg)], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 2
    assert "cannot start: matrix: the encryption store" in out.stderr and "reset-device" in out.stderr
    assert "Traceback" not in out.stderr
