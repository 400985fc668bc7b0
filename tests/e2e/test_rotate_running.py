"""`clusterbot keys rotate` (and the other maintenance commands) refuse while `clusterbot run`
holds the deployment lock; after the bot stops, rotation works and everything the bot
accepted stays readable, by a new bot process included.

Before the lock, a rotation under a running bot made its `!get` fail (its key ring lost
the old key) and a submission accepted meanwhile was wrapped under the removed key:
unreadable after restart.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from storage.crypto import KeyRing
from tests.e2e.test_cli_run import start_bot, stop_bot, write_site

pytestmark = pytest.mark.e2e

EXE = str(Path(sys.executable).parent / "clusterbot")
AGGREGATE = (
    b"State,Township,Township Pcode,Households reached\nRakhine,Sittwe,MMR012001,%d\nKachin,Myitkyina,MMR001001,800\n"
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL
    )


def _one_line(err: str) -> str:
    err = err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


async def _files_from(client, sender: str, count: int, timeout: float = 60) -> list[bytes]:
    """Files from ``sender`` in any room: the bot sends files only to its private chat."""
    from nio import RoomEncryptedFile
    from nio.crypto.attachments import decrypt_attachment

    def files() -> list[RoomEncryptedFile]:
        return [ev for ev in client.messages_from(sender) if isinstance(ev, RoomEncryptedFile)]

    try:
        await client.wait_until(lambda: len(files()) >= count, timeout)
    except TimeoutError:
        said = [f"{type(ev).__name__}: {getattr(ev, 'body', '')}" for ev in client.messages_from(sender)]
        raise AssertionError(f"{count} file(s) expected; the bot sent: {said}") from None
    out = []
    for ev in files():
        blob = await client.client.download(mxc=ev.url)
        out.append(decrypt_attachment(blob.body, ev.key["k"], ev.hashes["sha256"], ev.iv))
    return out


async def test_rotate_refused_while_the_bot_runs_then_works(synapse, new_user, scripted, tmp_path):
    bot_user = new_user("bot")
    partner_user = new_user("partner")
    bot = bot_user.user_id
    base = tmp_path / "site"
    cfg = write_site(base, synapse.url, bot_user.user_id, bot_user.password)
    conf = ["--config", str(cfg)]
    assert await asyncio.to_thread(cli_main, ["db", "upgrade", *conf]) == 0
    assert await asyncio.to_thread(cli_main, ["admin", "org", "add", "Relief Org", *conf]) == 0
    assert (
        await asyncio.to_thread(
            cli_main, ["admin", "user", "add", partner_user.user_id, "--org", "Relief Org", "--role", "partner", *conf]
        )
        == 0
    )
    key_file = base / "master.key"
    log = tmp_path / "bot.log"
    first, second = AGGREGATE % 1200, AGGREGATE % 1300

    proc = await asyncio.to_thread(start_bot, cfg, log)
    try:
        partner = await scripted(partner_user)
        room = await partner.create_room([bot])
        await partner.wait_joined(room, bot, timeout=60)
        await partner.send_file(room, first, "totals.csv", "text/csv")
        await partner.wait_for_message(bot, room, contains="S-0001 accepted", timeout=120)

        before = key_file.read_bytes()
        out = await asyncio.to_thread(_cli, "keys", "rotate", *conf)
        assert out.returncode == 2, out.stdout + out.stderr
        err = _one_line(out.stderr)
        assert "stop the bot first" in err
        assert key_file.read_bytes() == before  # nothing rotated

        out = await asyncio.to_thread(_cli, "run", *conf)  # a second bot on the same data
        assert out.returncode == 2 and "already running" in _one_line(out.stderr)

        # the running bot is unharmed: it accepts a new submission and serves both
        await partner.send_file(room, second, "totals-2.csv", "text/csv")
        await partner.wait_for_message(bot, room, contains="S-0002 accepted", timeout=120)
        await partner.send_text(room, "!get S-0001")
        assert (await _files_from(partner, bot, 1))[0] == first
    finally:
        assert await asyncio.to_thread(stop_bot, proc) == 0

    old = KeyRing.load(key_file).active
    out = await asyncio.to_thread(_cli, "keys", "rotate", *conf)
    assert out.returncode == 0, out.stderr
    assert "re-wrapped" in out.stdout
    assert KeyRing.load(key_file).active != old

    proc = await asyncio.to_thread(start_bot, cfg, log)
    try:
        await partner.send_text(room, "!get S-0002")
        await partner.send_text(room, "!get S-0001")
        got = await _files_from(partner, bot, 3, timeout=90)
        assert sorted(got[1:]) == sorted([first, second])
    finally:
        assert await asyncio.to_thread(stop_bot, proc) == 0
    out = await asyncio.to_thread(_cli, "audit", "verify", *conf)
    assert out.returncode == 0 and "intact" in out.stdout, out.stderr


def test_maintenance_commands_wait_for_a_stopped_bot(tmp_path: Path) -> None:
    """Without a homeserver: the bot waits for it at start, holding the lock all along.
    Maintenance commands refuse in one line; ordinary admin commands still work."""
    base = tmp_path / "site"
    cfg = write_site(base, "http://127.0.0.1:9", "@bot:localhost", "pw")  # nothing listens on port 9
    conf = ["--config", str(cfg)]
    assert cli_main(["db", "upgrade", *conf]) == 0
    log = tmp_path / "bot.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen([EXE, "run", *conf], stdout=fh, stderr=fh, stdin=subprocess.DEVNULL)
    try:
        import time

        deadline = time.monotonic() + 60
        while "homeserver unreachable at start" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        for command in (
            ["keys", "rotate"],
            ["db", "upgrade"],
            ["audit", "reanchor"],
            ["matrix", "reset-device", "--yes"],
            ["matrix", "reset-identity", "--yes"],
        ):
            out = _cli(*command, *conf)
            assert out.returncode == 2, (command, out.stdout, out.stderr)
            err = _one_line(out.stderr)
            assert "stop the bot first" in err and f"pid {proc.pid}" in err, err
        out = _cli("admin", "org", "add", "Relief Org", *conf)
        assert out.returncode == 0, out.stderr
        out = _cli("audit", "verify", *conf)
        assert out.returncode == 0, out.stderr
    finally:
        assert stop_bot(proc) == 0
    out = _cli("keys", "rotate", *conf)
    assert out.returncode == 0, out.stderr
