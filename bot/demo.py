"""``clusterbot demo``: the whole bot against a throwaway homeserver, in one command.

For someone who has never run a homeserver: it starts Synapse on loopback, registers the
bot, a partner, an IMO and a coordinator, starts the real bot (Application + Matrix
transport, SQLite, encrypted blob store) and plays a scripted, end-to-end encrypted
conversation, printing the transcript. Everything lives in one tmp directory (it holds the
bot's master key, its Matrix password and both databases) that is removed at the end,
whatever stops the demo: a normal end, Ctrl-C (SIGINT), SIGTERM or SIGHUP. ``--keep`` keeps
the homeserver and the bot running after the script, until one of those signals; then the
same clean-up runs (Synapse, the screening worker and the folder are all gone). Only SIGKILL
cannot be cleaned up after.

The scripted conversation is a Myanmar response one: a partner's beneficiary list (Burmese
honorific names, +95 9 mobile numbers, dates of birth, villages of Sittwe township) is held
as unlabelled sensitive data, then labelled and accepted.

:class:`BotStack` is also used by the end-to-end tests and the benchmark, so the demo
exercises exactly what is tested.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.devserver import RegisteredUser, ScriptedUser, SynapseServer, SynapseUnavailable

#: made-up people; real places of the Myanmar response (Sittwe township, Rakhine State)
BENEFICIARY_CSV = (
    b"full_name,phone,date_of_birth,township,village\n"
    b"Daw Khin Mya Win,+95 9 250 123 456,1984-02-11,Sittwe,Ohn Taw Gyi\n"
    b"U Aung Naing Soe,+95 9 420 012 345,1990-07-30,Sittwe,Thet Kel Pyin\n"
    b"Ma Thandar Htwe,+95 9 785 551 023,1978-12-05,Sittwe,Baw Du Pha\n"
)


class BotStack:
    """A running clusterbot (Application + MatrixTransport) on a given homeserver.

    ``base_dir`` holds the config's secret files, the database, the blob store and the
    Matrix store; reusing it with a new ``BotStack`` is a bot restart.
    """

    def __init__(self, hs: SynapseServer, base_dir: Path, bot_user: RegisteredUser, **matrix: Any) -> None:
        self.hs = hs
        self.base_dir = base_dir
        self.bot_user = bot_user
        self.matrix_overrides = matrix
        self.app: Any = None

    def config(self) -> Any:
        from bot.config import parse_config
        from storage.crypto import KeyRing

        base = self.base_dir
        base.mkdir(parents=True, exist_ok=True)
        secrets_dir = base / "secrets"
        secrets_dir.mkdir(mode=0o700, exist_ok=True)
        (secrets_dir / "password").write_text(self.bot_user.password)
        pickle = secrets_dir / "pickle_key"
        if not pickle.exists():
            pickle.write_text(secrets.token_urlsafe(32))
        for secret in ((secrets_dir / "password"), pickle):
            secret.chmod(0o600)  # secret files must be private (else refused)
        key_file = base / "master.key"
        if not key_file.exists():
            KeyRing.generate().save(key_file)
        matrix = {
            "enabled": True,
            "homeserver": self.hs.url,
            "user_id": self.bot_user.user_id,
            "password_file": str(secrets_dir / "password"),
            "pickle_key_file": str(pickle),
            "store_dir": str(base / "matrix-store"),
            "device_trust": "tofu",
        }
        matrix.update(self.matrix_overrides)
        data = {
            "bot": {"rate_limit_per_minute": 1000},
            "matrix": matrix,
            "storage": {
                "database_url": f"sqlite+aiosqlite:///{base / 'bot.sqlite3'}",
                "blob_dir": str(base / "blobs"),
                "master_key_file": str(key_file),
            },
            "screening": {"workers": 1},
        }
        return parse_config(data, base)

    async def start(self) -> Any:
        from bot.app import Application
        from bot.cli import build_transports
        from handlers import WORKFLOWS
        from storage import migrate

        cfg = self.config()
        await migrate.upgrade(cfg.storage.database_url)
        app = await Application.create(cfg, workflows=WORKFLOWS)
        app.transports = {t.name: t for t in build_transports(cfg, app)}
        await app.start(scheduler=False)
        self.app = app
        return app

    @property
    def transport(self) -> Any:
        return self.app.transports["matrix"]

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def add_users(self, users: list[tuple[str, str, str | None]]) -> None:
        """(matrix id, role, organisation) into the directory; organisations are created as needed."""
        from storage.directory import DirectoryError

        d = self.app.directory
        for _uid, _role, org in users:
            if org:
                try:
                    await d.add_org(org, "protection")
                except DirectoryError:
                    pass
        for uid, role, org in users:
            await d.add_user(uid, role=role, org=org)


# ---------------------------------------------------------------------------- the demo


class _Transcript:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def say(self, who: str, text: str) -> None:
        name = self.names.get(who, who)
        lines = text.splitlines() or [""]
        print(f"{name:>12} | {lines[0]}")
        for line in lines[1:]:
            print(f"{'':>12} | {line}")
        sys.stdout.flush()


async def _exchange(
    t: _Transcript,
    user: ScriptedUser,
    bot_id: str,
    room: str,
    text: str = "",
    *,
    file: tuple[bytes, str, str] | None = None,
    expect: int = 1,
) -> list[str]:
    before = len(user.messages_from(bot_id, room))
    if file:
        data, name, mime = file
        t.say(user.user_id, f"[sends file {name}, {len(data)} bytes, encrypted]")
        await user.send_file(room, data, name, mime)
    else:
        t.say(user.user_id, text)
        await user.send_text(room, text)
    await user.wait_for_message(bot_id, room, count=before + expect, timeout=90)
    await asyncio.sleep(0.5)  # collect a possible follow-up message
    replies = [str(getattr(e, "body", "")) for e in user.messages_from(bot_id, room)[before:]]
    for body in replies:
        t.say(bot_id, body)
    return replies


class _Stopper:
    """Turns SIGINT, SIGTERM and SIGHUP into one orderly stop of the demo.

    The first signal cancels the demo's task, so its ``finally`` stops the bot (and with it the
    screening worker) and Synapse, and removes the folder; signals during that clean-up are
    ignored, so a second Ctrl-C cannot cut it short. Before the task exists a signal unwinds
    with KeyboardInterrupt (nothing is running yet; ``cmd_demo`` removes the folder)."""

    SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s)

    def __init__(self) -> None:
        self.task: asyncio.Task[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.received: int | None = None
        self.cleaning = False
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)
        self._previous.clear()

    def __call__(self, signum: int, _frame: object) -> None:
        if self.received is not None:
            return  # already stopping: let the clean-up finish
        self.received = signum
        with contextlib.suppress(OSError):  # os.write: print() is not safe inside a signal handler
            os.write(
                2, f"\n{signal.Signals(signum).name} received: stopping the demo and deleting its folder ...\n".encode()
            )
        if self.cleaning:
            return
        if self.task is not None and self.loop is not None and not self.task.done():
            self.loop.call_soon_threadsafe(self.task.cancel)
            return
        raise KeyboardInterrupt


async def _scripted_conversation(
    partner: ScriptedUser, room: str, bot_u: RegisteredUser, partner_u: RegisteredUser
) -> bool:
    """The transcript: a list sent, held, labelled and accepted, then !help; True if as scripted."""
    t = _Transcript({bot_u.user_id: "clusterbot", partner_u.user_id: "partner"})
    print("\n--- transcript (encrypted direct chat) ---", flush=True)
    replies = await _exchange(
        t, partner, bot_u.user_id, room, file=(BENEFICIARY_CSV, "sittwe_beneficiaries.csv", "text/csv")
    )
    sid, level = _submission_id(replies), _required_level(replies)
    labelled: list[str] = []
    if sid and level:
        labelled = await _exchange(t, partner, bot_u.user_id, room, f"!label {sid} {level}")
    await _exchange(t, partner, bot_u.user_id, room, "!help")
    print("--- end of transcript ---\n", flush=True)
    ok = any("held" in r for r in replies) and any("accepted as" in r for r in labelled)
    print(
        "Demo finished: the list was held, labelled and accepted."
        if ok
        else "Demo did not go as scripted; see the transcript above.",
        flush=True,
    )
    return ok


async def run_demo(keep: bool = False, base_dir: Path | None = None, stopper: _Stopper | None = None) -> int:
    base = Path(base_dir or tempfile.mkdtemp(prefix="clusterbot-demo-"))
    if stopper is not None:
        stopper.loop, stopper.task = asyncio.get_running_loop(), asyncio.current_task()
    print(f"Starting a throwaway Synapse homeserver in {base} ...", flush=True)
    hs: SynapseServer | None = None
    clients: list[ScriptedUser] = []
    stack: BotStack | None = None
    try:
        hs = SynapseServer(base / "synapse")
        hs.start()
        bot_u = hs.register_user("clusterbot")
        partner_u, imo_u, coord_u = (hs.register_user(n) for n in ("partner", "imo", "coordinator"))
        stack = BotStack(hs, base / "bot", bot_u)
        print("Starting clusterbot (end-to-end encrypted Matrix transport) ...", flush=True)
        await stack.start()
        await stack.add_users(
            [
                (partner_u.user_id, "partner", "Sittwe Relief Network"),
                (imo_u.user_id, "imo", None),
                (coord_u.user_id, "coordinator", None),
            ]
        )
        partner = ScriptedUser(hs.url, partner_u, base / "clients" / "partner")
        clients.append(partner)
        await partner.login("partner-phone")
        room = await partner.create_room([bot_u.user_id])
        await partner.wait_joined(room, bot_u.user_id, timeout=60)
        ok = await _scripted_conversation(partner, room, bot_u, partner_u)
        if keep:
            _print_login_help(hs, base, partner_u, imo_u, coord_u)
            try:
                await asyncio.Event().wait()  # until a signal cancels this task
            except asyncio.CancelledError:
                pass  # the documented way to end --keep: clean up below and report the script's result
        return 0 if ok else 1
    except SynapseUnavailable as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    finally:
        if stopper is not None:
            stopper.cleaning = True  # a further signal must not cut the clean-up short
        await _cleanup(clients, stack, hs)
        if base_dir is None:
            shutil.rmtree(base, ignore_errors=True)


async def _cleanup(clients: list[ScriptedUser], stack: BotStack | None, hs: SynapseServer | None) -> None:
    """Stop everything the demo started; each step runs even when an earlier one fails."""
    try:
        for c in clients:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(c.close(), 10)
        if stack is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(stack.stop(), 30)  # the bot, its transport and the screening worker
    finally:
        if hs is not None:
            hs.stop()  # SIGTERM to Synapse's process group, SIGKILL after a bounded wait


def _submission_id(replies: list[str]) -> str | None:
    import re

    for body in replies:
        found = re.search(r"\bS-\d{4}\b", body)
        if found:
            return found.group(0)
    return None


def _required_level(replies: list[str]) -> str | None:
    import re

    for body in replies:
        found = re.search(r"needs the level (\w+)", body)
        if found:
            return found.group(1)
    return None


def _print_login_help(hs: SynapseServer, base: Path, *users: RegisteredUser) -> None:
    print("The homeserver stays up. Log in from any Matrix client (e.g. Element desktop):")
    print(f"  homeserver: {hs.url}")
    for u in users:
        print(f"  {u.user_id:<32} password: {u.password}")
    print(
        f"Everything lives in {base}: it holds secrets (the bot's master key and password, both "
        "databases), so it is private to you and deleted when the demo stops."
    )
    print(
        "Start a direct chat with the bot and send !help. Ctrl-C (or SIGTERM) stops the homeserver "
        "and the bot and deletes everything.",
        flush=True,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    """Exit 0 when the script went as planned (with --keep: when it did and was then stopped by a
    signal), 1 when it did not, 2 when Synapse is not available, 128+N when signal N stopped the
    script before its end. The folder is removed in every case."""
    import logging

    logging.basicConfig(level=logging.ERROR)  # the transcript is the output; nio's warnings are noise here
    stopper = _Stopper()
    stopper.install()
    base: Path | None = None
    try:
        base = Path(tempfile.mkdtemp(prefix="clusterbot-demo-"))  # created 0700 by mkdtemp
        return asyncio.run(run_demo(keep=args.keep, base_dir=base, stopper=stopper))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 128 + int(stopper.received or signal.SIGINT)
    finally:
        stopper.cleaning = True
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
        stopper.restore()
