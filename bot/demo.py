"""``clusterbot demo``: the whole bot against a throwaway homeserver, in one command.

For someone who has never run a homeserver: it starts Synapse on loopback, registers the
bot, a partner, an IMO and a coordinator, starts the real bot (Application + Matrix
transport, SQLite, encrypted blob store) and plays a scripted, end-to-end encrypted
conversation, printing the transcript. Everything lives in one tmp directory that is
removed at the end, unless ``--keep``.

:class:`BotStack` is also used by the end-to-end tests and the benchmark, so the demo
exercises exactly what is tested.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.devserver import RegisteredUser, ScriptedUser, SynapseServer, SynapseUnavailable

BENEFICIARY_CSV = (
    "full_name,phone,date_of_birth,village\n"
    "Amina Yusuf,+234 803 555 0101,1984-02-11,Gwoza\n"
    "Bello Musa,+234 803 555 0102,1990-07-30,Bama\n"
    "Hauwa Ali,+234 803 555 0103,1978-12-05,Dikwa\n"
).encode()


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
            "enabled": True, "homeserver": self.hs.url, "user_id": self.bot_user.user_id,
            "password_file": str(secrets_dir / "password"), "pickle_key_file": str(pickle),
            "store_dir": str(base / "matrix-store"), "device_trust": "tofu",
        }
        matrix.update(self.matrix_overrides)
        data = {
            "bot": {"rate_limit_per_minute": 1000},
            "matrix": matrix,
            "storage": {"database_url": f"sqlite+aiosqlite:///{base / 'bot.sqlite3'}",
                        "blob_dir": str(base / "blobs"), "master_key_file": str(key_file)},
            "screening": {"workers": 1},
        }
        return parse_config(data, base)

    async def start(self) -> Any:
        from bot.app import Application
        from bot.cli import build_transports
        from storage import migrate

        cfg = self.config()
        await migrate.upgrade(cfg.storage.database_url)
        app = await Application.create(cfg)
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


async def _exchange(t: _Transcript, user: ScriptedUser, bot_id: str, room: str, text: str = "",
                    *, file: tuple[bytes, str, str] | None = None, expect: int = 1) -> list[str]:
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


async def run_demo(keep: bool = False, base_dir: Path | None = None) -> int:
    base = Path(base_dir or tempfile.mkdtemp(prefix="clusterbot-demo-"))
    print(f"Starting a throwaway Synapse homeserver in {base} ...", flush=True)
    hs = SynapseServer(base / "synapse")
    clients: list[ScriptedUser] = []
    stack: BotStack | None = None
    try:
        hs.start()
        bot_u = hs.register_user("clusterbot")
        partner_u, imo_u, coord_u = (hs.register_user(n) for n in ("partner", "imo", "coordinator"))
        stack = BotStack(hs, base / "bot", bot_u)
        print("Starting clusterbot (end-to-end encrypted Matrix transport) ...", flush=True)
        await stack.start()
        await stack.add_users([(partner_u.user_id, "partner", "Relief Org"), (imo_u.user_id, "imo", None),
                               (coord_u.user_id, "coordinator", None)])
        partner = ScriptedUser(hs.url, partner_u, base / "clients" / "partner")
        clients.append(partner)
        await partner.login("partner-phone")
        room = await partner.create_room([bot_u.user_id])
        await partner.wait_joined(room, bot_u.user_id, timeout=60)
        t = _Transcript({bot_u.user_id: "clusterbot", partner_u.user_id: "partner"})
        print("\n--- transcript (encrypted direct chat) ---", flush=True)
        replies = await _exchange(t, partner, bot_u.user_id, room,
                                  file=(BENEFICIARY_CSV, "beneficiaries.csv", "text/csv"))
        sid, level = _submission_id(replies), _required_level(replies)
        labelled: list[str] = []
        if sid and level:
            labelled = await _exchange(t, partner, bot_u.user_id, room, f"!label {sid} {level}")
        await _exchange(t, partner, bot_u.user_id, room, "!help")
        print("--- end of transcript ---\n", flush=True)
        ok = any("held" in r for r in replies) and any("accepted as" in r for r in labelled)
        print("Demo finished: the list was held, labelled and accepted." if ok
              else "Demo did not go as scripted; see the transcript above.", flush=True)
        if keep:
            _print_login_help(hs, partner_u, imo_u, coord_u)
            await _wait_forever()
        return 0 if ok else 1
    except SynapseUnavailable as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    finally:
        for c in clients:
            await c.close()
        if stack is not None:
            await stack.stop()
        hs.stop()
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


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


def _print_login_help(hs: SynapseServer, *users: RegisteredUser) -> None:
    print("The homeserver stays up. Log in from any Matrix client (e.g. Element desktop):")
    print(f"  homeserver: {hs.url}")
    for u in users:
        print(f"  {u.user_id:<32} password: {u.password}")
    print("Start a direct chat with the bot and send !help. Ctrl-C stops and deletes everything.",
          flush=True)


async def _wait_forever() -> None:
    stop = asyncio.Event()
    try:
        await stop.wait()
    except asyncio.CancelledError:
        pass


def cmd_demo(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.ERROR)  # the transcript is the output; nio's warnings are noise here
    try:
        return asyncio.run(run_demo(keep=args.keep))
    except KeyboardInterrupt:
        return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run a scripted encrypted conversation on a throwaway homeserver")
    p.add_argument("--keep", action="store_true", help="keep the homeserver and bot running and print logins")
    p.set_defaults(func=cmd_demo)
