"""Nothing lost, nothing twice, with the real process: ``clusterbot run`` killed with SIGKILL.

Several partners send bursts of file uploads and ``!help`` over a real Synapse while the
bot process is killed (kill -9) at random moments, at least 20 times, restarted after each
kill; the homeserver is restarted once in the middle (and PostgreSQL too when the test runs
on it). At the end every message must have exactly one answer (a reply pointing at it),
every upload exactly one stored submission, and each sender its submission id once.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from tests.conftest import PG_ENV, _reset_postgres
from tests.e2e.test_cli_run import write_site

pytestmark = pytest.mark.e2e

KILLS = int(os.environ.get("CLUSTERBOT_KILLS", "20"))
PARTNERS = 3
AGGREGATE = b"State,Township,Households reached\nRakhine,Sittwe,%d\nKachin,Myitkyina,800\n"


def _spawn(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).parent / "clusterbot")
    with log.open("ab") as fh:
        return subprocess.Popen([exe, "run", "--config", str(cfg)], stdout=fh, stderr=fh, stdin=subprocess.DEVNULL)


def _wait_running(proc: subprocess.Popen[bytes], log: Path, since: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "clusterbot running" in log.read_text(errors="replace")[since:]:
            return
        if proc.poll() is not None:
            raise AssertionError(f"bot exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("bot did not start in time")


def _replies(partner, bot_id: str) -> dict[str, list[str]]:
    """incoming event id -> bodies of the bot's replies to it."""
    found: dict[str, list[str]] = {}
    for ev in partner.messages_from(bot_id):
        target = (ev.source.get("content", {}).get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
        if target:
            found.setdefault(target, []).append(ev.body)
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield "sqlite+aiosqlite:///bot.sqlite3"
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL kill test needs {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)")
    await _reset_postgres(url)
    yield url


def _restart_postgres() -> bool:
    """Restart the machine's PostgreSQL cluster if this test may (root, pg_ctlcluster)."""
    tool = shutil.which("pg_ctlcluster")
    if tool is None or os.geteuid() != 0:
        return False
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        return False
    done = subprocess.run(
        [tool, "--skip-systemctl-redirect", versions[-1], "main", "restart"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done.returncode == 0


async def test_kill_9_loses_nothing_and_answers_once(synapse, new_user, scripted, tmp_path, database_url):
    rng = random.Random(int(os.environ.get("CLUSTERBOT_KILL_SEED", "7")))
    bot_user = new_user("bot")
    base = tmp_path / "site"
    cfg = write_site(base, synapse.url, bot_user.user_id, bot_user.password)
    text = cfg.read_text().replace(
        'database_url = "sqlite+aiosqlite:///bot.sqlite3"', f'database_url = "{database_url}"'
    )
    cfg.write_text(text)
    assert await asyncio.to_thread(cli_main, ["db", "upgrade", "--config", str(cfg)]) == 0
    assert await asyncio.to_thread(cli_main, ["admin", "org", "add", "Relief Org", "--config", str(cfg)]) == 0
    users = [new_user("partner") for _ in range(PARTNERS)]
    for u in users:
        assert (
            await asyncio.to_thread(
                cli_main,
                ["admin", "user", "add", u.user_id, "--org", "Relief Org", "--role", "partner", "--config", str(cfg)],
            )
            == 0
        )
    log = tmp_path / "bot.log"
    log.touch()
    proc = _spawn(cfg, log)
    await asyncio.to_thread(_wait_running, proc, log, 0)
    partners = [await scripted(u) for u in users]
    rooms = []
    for p in partners:
        room = await p.create_room([bot_user.user_id])
        await p.wait_joined(room, bot_user.user_id, timeout=60)
        rooms.append(room)

    sent_help: list[tuple[int, str]] = []
    sent_files: list[tuple[int, str]] = []
    counter = 0

    async def burst() -> None:
        nonlocal counter
        for i, (p, room) in enumerate(zip(partners, rooms, strict=True)):
            counter += 1
            event = await p.send_file(room, AGGREGATE % counter, f"totals-{counter}.csv", "text/csv")
            sent_files.append((i, event))
            sent_help.append((i, await p.send_text(room, "!help")))

    kills = 0
    try:
        while kills < KILLS:
            send = asyncio.create_task(burst())
            await asyncio.sleep(rng.uniform(0.05, 2.5))  # kill at a random instant of the handling
            proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(proc.wait, 10)
            kills += 1
            await send
            if kills == KILLS // 2:
                synapse.stop()  # the homeserver goes away and comes back while the bot is down
                synapse.start()
                if database_url.startswith("postgresql"):
                    assert await asyncio.to_thread(_restart_postgres), "could not restart PostgreSQL"
            since = len(log.read_text(errors="replace"))
            proc = _spawn(cfg, log)
            await asyncio.to_thread(_wait_running, proc, log, since)

        # let the last process finish everything, then check
        def all_answered() -> bool:
            return all(event in _replies(partners[i], bot_user.user_id) for i, event in sent_help + sent_files)

        deadline = time.monotonic() + 180
        while not all_answered() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # any late duplicate would arrive now
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()

    lost, duplicated, ids = [], [], []
    for i, event in sent_help + sent_files:
        answers = _replies(partners[i], bot_user.user_id).get(event, [])
        if not answers:
            lost.append(event)
        elif len(answers) > 1:
            duplicated.append((event, answers))
        if (i, event) in sent_files and answers:
            found = re.findall(r"S-\d{4}", answers[0])
            ids.extend(found[:1])
    assert kills >= KILLS
    assert lost == [], f"{len(lost)} of {len(sent_help) + len(sent_files)} messages never answered"
    assert duplicated == [], f"{len(duplicated)} messages answered more than once"
    assert len(ids) == len(sent_files) and len(set(ids)) == len(ids), "an upload without its own submission id"
    if database_url.startswith("sqlite"):
        db = sqlite3.connect(base / "bot.sqlite3")
        stored = [f"S-{r[0]:04d}" for r in db.execute("SELECT id FROM submissions")]
        db.close()
    else:
        from sqlalchemy import text as sql

        from storage.engine import make_engine

        engine = make_engine(database_url)
        async with engine.connect() as conn:
            stored = [f"S-{r[0]:04d}" for r in await conn.execute(sql("SELECT id FROM submissions"))]
        await engine.dispose()
    assert sorted(stored) == sorted(ids), "stored submissions differ from the ones announced (lost or twice)"
    print(
        f"kill test: {kills} kills, {len(sent_help) + len(sent_files)} messages, "
        f"{len(sent_files)} uploads, 0 lost, 0 duplicated"
    )
