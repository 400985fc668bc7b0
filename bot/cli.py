"""The ``clusterbot`` command line.

Every failure an operator can cause (a bad config key, a missing key file, an
unknown user) is one plain line on stderr and exit status 2 (usage/config) or 1
(a check that failed); never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import fcntl
import io
import json
import os
import secrets
import signal
import sys
from collections.abc import Callable, Coroutine
from importlib import resources
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError, load_config

DEFAULT_CONFIG = os.environ.get("CLUSTERBOT_CONFIG", "clusterbot.toml")


class CliError(Exception):
    """A one-line operator-facing error (exit status 2)."""


def _config(args: argparse.Namespace) -> Config:
    return load_config(Path(args.config))


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", default=DEFAULT_CONFIG, help="config file (default: %(default)s)")


def _run(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


# ---------------------------------------------------------------------- the deployment lock
#
# Two lock files beside the master key, both taken with flock (released by the kernel
# when the process ends, kill -9 included; not inherited by the screening workers,
# which are spawned):
#
# * ``<master_key_file>.lock``: held exclusively by ``clusterbot run`` for its whole
#   life and by the maintenance commands below. So no second bot starts on the same
#   data, and nothing rotates keys, migrates the schema or re-anchors the audit log
#   under a running bot (its key ring would go stale: a rotation under it made ``!get``
#   fail and wrapped new data keys under a key the rotation then removed).
# * ``<master_key_file>.use-lock``: shared by every command that opens the storage
#   (``admin``, ``consent``, ``incidents``, ``audit verify``: they may run beside the
#   bot), exclusive for the maintenance commands: a rotation never runs under them.
#
# The holder of ``.lock`` writes "what (pid N)" into it, for the refusal message.
# A lock works on one machine: two hosts sharing a PostgreSQL database must not run
# the bot or a maintenance command at the same time (see README).

_held: dict[Path, int] = {}  # lock file -> open descriptor holding it (this process)


def _lock_files(cfg: Config) -> tuple[Path, Path]:
    key = cfg.storage.master_key_file
    return key.with_name(key.name + ".lock"), key.with_name(key.name + ".use-lock")


def _flock(path: Path, mode: int) -> bool:
    """Take ``path`` without waiting; True when taken or already held by this process."""
    if path in _held:
        return True
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _held[path] = fd
    return True


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0] if text else "another clusterbot process"


def hold_deployment(cfg: Config, what: str, kind: str) -> None:
    """Take the deployment lock for this process, or raise a one-line CliError.

    ``kind``: "run" (the bot), "exclusive" (maintenance: keys rotate, audit reanchor,
    db upgrade, matrix reset-device/reset-identity) or "shared" (anything else that
    opens the storage). Held until :func:`release_deployment` or the process ends.
    """
    main_lock, use_lock = _lock_files(cfg)
    if not main_lock.parent.is_dir():
        return  # no master key folder yet: nothing runs on this deployment
    try:
        if kind == "shared":
            if not _flock(use_lock, fcntl.LOCK_SH):
                raise CliError(f"{_holder(main_lock)} is working on this deployment; try again when it has finished")
            return
        if not _flock(main_lock, fcntl.LOCK_EX):
            holder = _holder(main_lock)
            running = holder.startswith("clusterbot run")
            if kind == "run":
                if running:
                    raise CliError(f"cannot start: clusterbot is already running on this deployment ({holder})")
                raise CliError(f"cannot start: {holder} is working on this deployment; start when it has finished")
            if running:
                raise CliError(f"{what}: the bot is running ({holder}): stop the bot first")
            raise CliError(f"{what}: {holder} is working on this deployment; try again when it has finished")
        fd = _held[main_lock]
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} (pid {os.getpid()})\n".encode(), 0)
        if kind == "exclusive" and not _flock(use_lock, fcntl.LOCK_EX):
            raise CliError(f"{what}: another clusterbot command is using the data; try again when it has finished")
    except OSError as exc:
        if kind == "shared":
            return  # e.g. a read-only key folder: ordinary commands still work
        raise CliError(f"{what}: cannot take the lock beside {cfg.storage.master_key_file} ({exc.strerror})") from None


def release_deployment() -> None:
    while _held:
        _, fd = _held.popitem()
        os.close(fd)


async def _open_storage(cfg: Config) -> Any:
    from storage import migrate
    from storage.store import Storage

    hold_deployment(cfg, "clusterbot", "shared")
    if await migrate.pending(cfg.storage.database_url):
        raise CliError("the database schema is out of date: run 'clusterbot db upgrade'")
    return await Storage.open(cfg.storage.database_url, cfg.storage.blob_dir, cfg.storage.master_key_file)


# ---------------------------------------------------------------------- init


def _example_config_text() -> str:
    here = Path(__file__).resolve().parent.parent / "config.example.toml"
    if here.exists():
        return here.read_text(encoding="utf-8")
    return resources.files("bot").joinpath("data/config.example.toml").read_text(encoding="utf-8")


def cmd_init(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.crypto import KeyRing

    target = Path(args.dir)
    config_path = target / "clusterbot.toml"
    paths = [config_path, target / "data", target / "secrets", target / "sensitive_areas.txt"]
    existing = [p for p in paths if p.exists()]
    if existing:
        raise CliError(f"{existing[0]} already exists; init never overwrites anything")
    target.mkdir(parents=True, exist_ok=True)
    (target / "data" / "blobs").mkdir(parents=True)
    os.chmod(target / "data", 0o700)
    (target / "secrets").mkdir(mode=0o700)
    KeyRing.generate().save(target / "data" / "master.key")
    fd = os.open(target / "secrets" / "pickle_key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(32) + "\n")
    (target / "sensitive_areas.txt").write_text(
        "# One sensitive area a line: a name in any script, or a MIMU P-code.\n", encoding="utf-8"
    )
    config_path.write_text(_example_config_text(), encoding="utf-8")
    cfg = load_config(config_path) if (target / "secrets" / "matrix_password").exists() else None
    url = cfg.storage.database_url if cfg else f"sqlite+aiosqlite:///{(target / 'data' / 'clusterbot.sqlite3').resolve()}"
    asyncio.run(migrate.upgrade(url))
    print(f"Created {config_path} with a new master key (data/master.key, mode 0600) and the database.")
    print("Next: edit the [matrix] section, put the bot's password in secrets/matrix_password (mode 0600),")
    print(f"add organisations and users with 'clusterbot admin ... --config {config_path}', then 'clusterbot run'.")
    return 0


# ---------------------------------------------------------------------- db / audit / keys


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from storage import migrate

    cfg = _config(args)
    hold_deployment(cfg, "db upgrade", "exclusive")
    asyncio.run(migrate.upgrade(cfg.storage.database_url))
    print(f"database at revision {migrate.head_revision()}")
    return 0


def _verify_chain(args: argparse.Namespace, what: str, check: Callable[[Any], Coroutine[Any, Any, Any]]) -> int:
    """Shared by ``audit verify`` and ``consent verify``: exit 1 naming the first bad entry,
    or the truncation the head anchor reveals."""

    async def go() -> int:
        store = await _open_storage(_config(args))
        try:
            report = await check(store)
        finally:
            await store.close()
        if report.problem is not None:
            print(f"{what} BROKEN at {report.problem}", file=sys.stderr)
            return 1
        print(f"{what} intact: {report.count} entries")
        if report.note:
            print(f"{what}: {report.note}")
        return 0

    return _run(go())


def cmd_audit_verify(args: argparse.Namespace) -> int:
    async def check(store: Any) -> Any:
        from storage.models import AuditEntry
        from storage.store import AUDIT_FIELDS

        return await store.verify_chained(AuditEntry, AUDIT_FIELDS)

    return _verify_chain(args, "audit log", check)


def cmd_audit_reanchor(args: argparse.Namespace) -> int:
    """After restoring an older database (which the anchor reports as truncation): anchor
    the current heads. Checked chains only; recorded in the audit log."""
    cfg = _config(args)
    hold_deployment(cfg, "audit reanchor", "exclusive")

    async def go() -> int:
        store = await _open_storage(cfg)
        try:
            changes = await store.reanchor()
        except ValueError as exc:
            raise CliError(str(exc)) from None
        finally:
            await store.close()
        parts = [f"{t} at entry {n} (was {'none' if b is None else b})" for t, b, n in changes]
        print(f"head anchor reset in {store.anchor.path}: " + ", ".join(parts))
        return 0

    return _run(go())


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    cfg = _config(args)
    hold_deployment(cfg, "keys rotate", "exclusive")

    async def go() -> int:
        store = await _open_storage(cfg)
        try:
            n = await store.rotate_master_key(cfg.storage.master_key_file)
            await store.audit("operator", "admin", "keys.rotate", store.keyring.active, "done")
        finally:
            await store.close()
        print(f"master key rotated: {n} data keys re-wrapped under {store.keyring.active}")
        return 0

    return _run(go())


# ---------------------------------------------------------------------- admin


def _directory_cmd(fn: Callable[[Any, argparse.Namespace], Coroutine[Any, Any, str]]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        async def go() -> int:
            from storage.directory import Directory, DirectoryError

            store = await _open_storage(_config(args))
            try:
                out = await fn(Directory(store), args)
            except DirectoryError as exc:
                raise CliError(str(exc)) from None
            finally:
                await store.close()
            if out:
                print(out)
            return 0

        return _run(go())

    return run


async def _org_add(d: Any, args: argparse.Namespace) -> str:
    org_id = await d.add_org(args.name, args.sector)
    await d.storage.audit("operator", "admin", "admin.org_add", f"org:{org_id}", "done")
    return f"organisation {args.name!r} added"


async def _org_list(d: Any, args: argparse.Namespace) -> str:
    return "\n".join(f"{o.name}\t{o.sector or '-'}\t{o.pseudonym}" for o in await d.list_orgs()) or "(no organisations)"


async def _user_add(d: Any, args: argparse.Namespace) -> str:
    transport = "telegram" if args.telegram else "matrix"
    uid = await d.add_user(args.user, role=args.role, org=args.org, transport=transport)
    await d.storage.audit("operator", "admin", "admin.user_add", f"user:{uid}", "done")
    return f"user {args.user} added as {args.role}"


async def _user_list(d: Any, args: argparse.Namespace) -> str:
    rows = await d.list_users()
    return "\n".join(
        f"{u.matrix_id or '-'}\t{u.telegram_id or '-'}\t{u.role}\t{u.org_name or '-'}" for u in rows
    ) or "(no users)"


async def _user_remove(d: Any, args: argparse.Namespace) -> str:
    await d.remove_user(args.user, "telegram" if args.telegram else "matrix")
    await d.storage.audit("operator", "admin", "admin.user_remove", None, "done")
    return f"user {args.user} removed"


async def _user_set_role(d: Any, args: argparse.Namespace) -> str:
    await d.set_role(args.user, args.role)
    await d.storage.audit("operator", "admin", "admin.user_set_role", None, "done")
    return f"user {args.user} is now {args.role}"


async def _user_link_telegram(d: Any, args: argparse.Namespace) -> str:
    await d.link_telegram(args.user, args.telegram_id)
    return f"user {args.user} linked to Telegram id {args.telegram_id}"


# ---------------------------------------------------------------------- consent


def cmd_consent_verify(args: argparse.Namespace) -> int:
    async def check(store: Any) -> Any:
        from storage.consent import FIELDS
        from storage.models import ConsentDecision

        return await store.verify_chained(ConsentDecision, FIELDS)

    return _verify_chain(args, "consent ledger", check)


def cmd_consent_export(args: argparse.Namespace) -> int:
    async def go() -> int:
        from storage.consent import ConsentLedger
        from storage.directory import Directory

        store = await _open_storage(_config(args))
        try:
            org_id = None
            orgs = {o.id: o.name for o in await Directory(store).list_orgs()}
            if args.org:
                matches = [i for i, n in orgs.items() if n == args.org]
                if not matches:
                    raise CliError(f"no organisation named {args.org!r}")
                org_id = matches[0]
            rows = [
                {
                    "seq": d.seq,
                    "submission": f"S-{d.submission_id:04d}",
                    "organisation": orgs.get(d.org_id, "?"),
                    "scope": d.scope,
                    "decision": "yes" if d.decision else "no",
                    "recorded_by": d.actor_id,
                    "recorded_at": d.ts.isoformat(),
                }
                for d in await ConsentLedger(store).history(org_id=org_id)
            ]
            await store.audit("operator", "admin", "consent.export", None, "done")
        finally:
            await store.close()
        if args.format == "json":
            for row in rows:
                print(json.dumps(row, ensure_ascii=False))
        else:
            buf = io.StringIO()
            writer = csv.DictWriter(
                buf, fieldnames=["seq", "submission", "organisation", "scope", "decision", "recorded_by", "recorded_at"]
            )
            writer.writeheader()
            writer.writerows(rows)
            sys.stdout.write(buf.getvalue())
        return 0

    return _run(go())


# ---------------------------------------------------------------------- run


def build_transports(cfg: Config, app_hooks: Any) -> list[Any]:
    transports: list[Any] = []
    if cfg.matrix.enabled:
        from bot.transports.matrix import MatrixTransport

        transports.append(
            MatrixTransport(
                cfg.matrix,
                is_known_user=lambda uid: app_hooks.is_known_user(uid, "matrix"),
                audit=app_hooks.audit_hook,
                notify_admins=app_hooks.notify_admins,
                is_admin=lambda uid: app_hooks.is_admin(uid),
            )
        )
    if cfg.telegram.enabled:
        from bot.transports.telegram import TelegramTransport

        transports.append(TelegramTransport(cfg.telegram))
    return transports


async def run_bot(cfg: Config, stop: asyncio.Event | None = None) -> int:
    from bot.app import Application
    from bot.logsetup import setup_logging

    setup_logging(cfg.logging.level, cfg.logging.json)
    if not (cfg.matrix.enabled or cfg.telegram.enabled):
        raise CliError("no transport is enabled: enable [matrix] or [telegram] in the config")
    app = await Application.create(cfg)
    app.transports = {t.name: t for t in build_transports(cfg, app)}
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    from bot.transport import TransportError

    try:
        # start while listening for signals: a homeserver that is down at start is waited
        # for, and SIGTERM must still stop the bot cleanly meanwhile
        starting = asyncio.create_task(app.start())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        else:
            try:
                starting.result()
            except TransportError as exc:  # StoreMismatchError and refused logins: one clear line
                raise CliError(f"cannot start: {exc}") from None
            except RuntimeError as exc:
                from bot.transports.matrix.state import StoreMismatchError

                if isinstance(exc, StoreMismatchError):  # lost store, foreign identity: one line
                    raise CliError(f"cannot start: {exc}") from None
                raise
            print("clusterbot running; Ctrl-C to stop", file=sys.stderr, flush=True)
            await stop.wait()
        stopping.cancel()
    finally:
        await app.stop()
    print("clusterbot stopped", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    cfg = _config(args)
    hold_deployment(cfg, "clusterbot run", "run")  # for the process's whole life
    try:
        return asyncio.run(run_bot(cfg))
    except RuntimeError as exc:
        if "schema" in str(exc):
            raise CliError(str(exc)) from None
        raise


# ---------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clusterbot", description="Secure messaging bot for humanitarian clusters.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create a starter config, master key and data folders")
    p.add_argument("dir")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("run", help="run the bot")
    _add_config(p)
    p.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="apply schema migrations")
    _add_config(p)
    p.set_defaults(func=cmd_db_upgrade)

    audit = sub.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True)
    p = audit.add_parser("verify", help="check the hash chain and its anchored head; exit 1 naming the first bad entry")
    _add_config(p)
    p.set_defaults(func=cmd_audit_verify)
    p = audit.add_parser("reanchor", help="anchor the current head after restoring an older database (bot stopped)")
    _add_config(p)
    p.set_defaults(func=cmd_audit_reanchor)

    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(dest="keys_command", required=True)
    p = keys.add_parser("rotate", help="re-wrap every data key under a new master key")
    _add_config(p)
    p.set_defaults(func=cmd_keys_rotate)

    consent = sub.add_parser("consent", help="the consent ledger").add_subparsers(dest="consent_command", required=True)
    p = consent.add_parser("verify", help="check the ledger's hash chain")
    _add_config(p)
    p.set_defaults(func=cmd_consent_verify)
    p = consent.add_parser("export", help="export decisions")
    _add_config(p)
    p.add_argument("--org")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.set_defaults(func=cmd_consent_export)

    admin = sub.add_parser("admin", help="organisations, users, devices").add_subparsers(dest="admin_command", required=True)
    org = admin.add_parser("org").add_subparsers(dest="org_command", required=True)
    p = org.add_parser("add")
    p.add_argument("name")
    p.add_argument("--sector")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_org_add))
    p = org.add_parser("list")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_org_list))

    user = admin.add_parser("user").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("add")
    p.add_argument("user", help="Matrix id (@name:server), or a Telegram user id with --telegram")
    p.add_argument("--org")
    p.add_argument("--role", required=True, choices=("partner", "imo", "coordinator", "admin"))
    p.add_argument("--telegram", action="store_true")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_add))
    p = user.add_parser("list")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_list))
    p = user.add_parser("remove")
    p.add_argument("user")
    p.add_argument("--telegram", action="store_true")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_remove))
    p = user.add_parser("set-role")
    p.add_argument("user")
    p.add_argument("role", choices=("partner", "imo", "coordinator", "admin"))
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_set_role))
    p = user.add_parser("link-telegram", help="let a Matrix user also reach the bot on Telegram")
    p.add_argument("user")
    p.add_argument("telegram_id")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_link_telegram))

    _register_optional(sub, admin)
    return parser


def _register_optional(sub: Any, admin: Any) -> None:
    """Subcommands that live with their feature (screening, Matrix, demo, incidents)."""
    for module, attr in (
        ("bot.screening.cli", "register"),
        ("bot.demo", "register"),
        ("bot.transports.matrix_cli", "register"),
        ("handlers.incidents_cli", "register"),
    ):
        try:
            mod = __import__(module, fromlist=[attr])
        except ImportError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        register = getattr(mod, attr)
        try:
            register(sub, admin)
        except TypeError:
            register(sub)


# Commands registered by other modules that must not run beside the bot either.
_EXCLUSIVE = {("matrix", "reset-device"), ("matrix", "reset-identity")}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        sub = (args.command, getattr(args, f"{args.command}_command", None))
        if sub in _EXCLUSIVE:
            hold_deployment(load_config(Path(args.config or DEFAULT_CONFIG)), " ".join(sub), "exclusive")
        code = args.func(args)
    except ConfigError as exc:
        print(f"clusterbot: config error: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"clusterbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: no tracebacks for operators
        from storage.crypto import MasterKeyError

        if isinstance(exc, MasterKeyError):
            print(f"clusterbot: {exc}", file=sys.stderr)
            return 2
        from bot.router import error_reference, log_exception_without_content

        ref = error_reference()
        log_exception_without_content(ref, exc)
        print(f"clusterbot: unexpected error ({type(exc).__name__}), reference {ref}", file=sys.stderr)
        return 1
    finally:
        release_deployment()
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())

