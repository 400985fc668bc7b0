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

from bot.config import Config, ConfigError, check_files_for_run, load_config

DEFAULT_CONFIG = os.environ.get("CLUSTERBOT_CONFIG", "clusterbot.toml")


class CliError(Exception):
    """A one-line operator-facing error (exit status 2)."""


def _config(args: argparse.Namespace, *, transport_secrets: bool = False) -> Config:
    """The config for this command. Only ``run`` (and the ``matrix`` commands, which load
    their own) read the transport secrets: ``admin``, ``audit``, ``consent``, ``keys``,
    ``db``... work without the Matrix password file or the Telegram token."""
    return load_config(Path(getattr(args, "config", None) or DEFAULT_CONFIG), transport_secrets=transport_secrets)


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", default=DEFAULT_CONFIG,
                   help="config file (default: %(default)s, or $CLUSTERBOT_CONFIG)")


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


async def _check_database(cfg: Config) -> None:
    """The database exists (a SQLite file too: never a new empty one for a misspelt path),
    answers, and has the newest schema; else one line naming it."""
    from storage import migrate
    from storage.opening import StorageOpenError, check_database, explain

    url = cfg.storage.database_url
    await check_database(url)
    try:
        pending = await migrate.pending(url)
    except Exception as exc:  # noqa: BLE001 - e.g. the connection dropped meanwhile
        raise StorageOpenError(explain(url, exc)) from None
    if pending:
        raise CliError("the database schema is out of date: run 'clusterbot db upgrade'")


async def _open_storage(cfg: Config) -> Any:
    """Open the storage for a command: the database checked, the blob folder usable and
    the master key checked against the database (every failure one line, exit 2)."""
    from storage.store import Storage

    hold_deployment(cfg, "clusterbot", "shared")
    await _check_database(cfg)
    return await Storage.open(cfg.storage.database_url, cfg.storage.blob_dir, cfg.storage.master_key_file)


# ---------------------------------------------------------------------- init


def _example_config_text() -> str:
    here = Path(__file__).resolve().parent.parent / "config.example.toml"
    if here.exists():
        return here.read_text(encoding="utf-8")
    return resources.files("bot").joinpath("data/config.example.toml").read_text(encoding="utf-8")


def _config_with_database_url(text: str, url: str) -> str:
    """The example config with ``[storage] database_url`` set to ``url``."""
    import re

    line = f"database_url = {json.dumps(url)}"
    new, n = re.subn(r'(?m)^database_url\s*=.*$', lambda _m: line, text, count=1)
    if n == 0:
        new = text.replace("[storage]\n", f"[storage]\n{line}\n", 1)
    return new


def cmd_init(args: argparse.Namespace) -> int:
    from bot.config import parse_config
    from storage import migrate
    from storage.crypto import KeyRing
    from storage.opening import StorageOpenError, check_database, explain, shown_url, sqlite_path
    from storage.store import Storage

    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        raise CliError(f"{target} exists and is not a folder; init creates a new folder (or fills an empty one)")
    config_path = target / "clusterbot.toml"
    paths = [config_path, target / "data", target / "secrets", target / "sensitive_areas.txt"]
    existing = [p for p in paths if p.exists()]
    if existing:
        raise CliError(f"{existing[0]} already exists; init never overwrites anything")
    text = _example_config_text()
    if args.database_url:
        text = _config_with_database_url(text, args.database_url)
    # validate (and resolve a relative SQLite path) before anything is created
    storage_s = {"database_url": args.database_url} if args.database_url else {}
    url = parse_config({"matrix": {"enabled": False}, "storage": storage_s}, target.resolve()).storage.database_url

    async def check_empty() -> None:
        await check_database(url, must_exist=False)
        db_file = sqlite_path(url)
        if db_file is not None and not db_file.exists():
            return
        try:
            revision = await migrate.current_revision(url)
        except Exception as exc:  # noqa: BLE001
            raise StorageOpenError(explain(url, exc)) from None
        if revision is not None:
            raise CliError(
                f"database {shown_url(url)} already holds a clusterbot database (schema {revision}); init makes a "
                "new master key that cannot open it: give init an empty database, or copy that site's config "
                "and master key")

    asyncio.run(check_empty())
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
    config_path.write_text(text, encoding="utf-8")
    cfg = load_config(config_path, transport_secrets=False)

    async def create() -> None:
        try:
            await migrate.upgrade(cfg.storage.database_url)
        except Exception as exc:  # noqa: BLE001
            raise StorageOpenError(explain(cfg.storage.database_url, exc)) from None
        store = await Storage.open(cfg.storage.database_url, cfg.storage.blob_dir, cfg.storage.master_key_file)
        await store.close()  # opening wrote the database's key check value

    asyncio.run(create())
    print(f"Created {config_path} with a new master key (data/master.key, mode 0600) and the database "
          f"{shown_url(cfg.storage.database_url)}.")
    print("Next: edit the [matrix] section, put the bot's password in secrets/matrix_password (mode 0600),")
    print(f"add organisations and users with 'clusterbot admin ... --config {config_path}', then 'clusterbot run'.")
    return 0


# ---------------------------------------------------------------------- db / audit / keys


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create (SQLite) or migrate the database. The master key is checked first when the
    database already has a key check value, and the value is written afterwards."""
    from storage import migrate
    from storage.opening import StorageOpenError, check_database, explain
    from storage.store import Storage

    cfg = _config(args)
    hold_deployment(cfg, "db upgrade", "exclusive")
    st = cfg.storage

    async def go() -> None:
        await check_database(st.database_url, must_exist=False)
        store = await Storage.open(st.database_url, st.blob_dir, st.master_key_file)  # the key, before migrating
        await store.close()
        try:
            await migrate.upgrade(st.database_url)
        except Exception as exc:  # noqa: BLE001
            raise StorageOpenError(explain(st.database_url, exc)) from None
        store = await Storage.open(st.database_url, st.blob_dir, st.master_key_file)
        await store.close()

    asyncio.run(go())
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


def _telegram_id(value: str) -> str:
    """A Telegram user id: a positive whole number (not the @name)."""
    value = value.strip()
    if not (value.isascii() and value.isdigit() and not value.startswith("0") and len(value) <= 20):
        raise CliError(f"Telegram id {value!r} is not valid: a Telegram id is a number, the user's positive "
                       "numeric id (not the @name)")
    return value


async def _user_add(d: Any, args: argparse.Namespace) -> str:
    transport = "telegram" if args.telegram else "matrix"
    if args.telegram:
        args.user = _telegram_id(args.user)
    uid = await d.add_user(args.user, role=args.role, org=args.org, transport=transport)
    await d.storage.audit("operator", "admin", "admin.user_add", f"user:{uid}", "done")
    return f"user {args.user} added as {args.role}"


async def _user_list(d: Any, args: argparse.Namespace) -> str:
    rows = await d.list_users()
    return "\n".join(
        f"{u.matrix_id or '-'}\t{u.telegram_id or '-'}\t{u.role}\t{u.org_name or '-'}" for u in rows
    ) or "(no users)"


async def _user_remove(d: Any, args: argparse.Namespace) -> str:
    if args.telegram:
        args.user = _telegram_id(args.user)
    await d.remove_user(args.user, "telegram" if args.telegram else "matrix")
    await d.storage.audit("operator", "admin", "admin.user_remove", None, "done")
    return f"user {args.user} removed"


async def _user_set_role(d: Any, args: argparse.Namespace) -> str:
    await d.set_role(args.user, args.role)
    await d.storage.audit("operator", "admin", "admin.user_set_role", None, "done")
    return f"user {args.user} is now {args.role}"


async def _user_link_telegram(d: Any, args: argparse.Namespace) -> str:
    args.telegram_id = _telegram_id(args.telegram_id)
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
        if args.format == "json":  # one JSON array ([] when there is nothing)
            print(json.dumps(rows, ensure_ascii=False, indent=2))
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


async def _remember_matrix_device(app: Any) -> None:
    """Record in the database which Matrix device the bot runs as, so that a start with
    the Matrix store folder gone is refused (see :func:`_check_before_run`)."""
    from storage.store import MATRIX_DEVICE_SETTING

    matrix = app.transports.get("matrix")
    if matrix is None:
        return
    try:
        record = json.dumps({"user_id": str(matrix.user_id), "device_id": str(matrix.device_id)})
        await app.storage.put_setting(MATRIX_DEVICE_SETTING, record)
    except Exception:  # noqa: BLE001 - never stops the bot; the next start records it again
        import logging

        logging.getLogger(__name__).warning("could not record the Matrix device id in the database")


async def _check_before_run(cfg: Config) -> None:
    """Everything ``run`` can check before any transport starts, one line each: the
    database, the schema, the blob folder, the master key and the Matrix store."""
    from storage.store import MATRIX_DEVICE_SETTING, Storage

    await _check_database(cfg)
    st = cfg.storage
    store = await Storage.open(st.database_url, st.blob_dir, st.master_key_file)  # checks blob_dir and the key
    try:
        record = await store.get_setting(MATRIX_DEVICE_SETTING)
    finally:
        await store.close()
    if not cfg.matrix.enabled or record is None:
        return
    try:
        ran = json.loads(record)
        user_id, device_id = str(ran["user_id"]), str(ran["device_id"])
    except (ValueError, KeyError, TypeError):
        return
    from bot.transports.matrix.state import CREDENTIALS_FILE

    if user_id == cfg.matrix.user_id and not (cfg.matrix.store_dir / CREDENTIALS_FILE).exists():
        raise CliError(
            f"the Matrix store {cfg.matrix.store_dir} is missing or empty, but the bot ran before as {user_id} "
            f"device {device_id}: starting would log in as a new device and trust everyone again on first use; "
            "restore that folder from a backup, or run 'clusterbot matrix reset-device --yes'"
        )


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
            await _remember_matrix_device(app)
            print("clusterbot running; Ctrl-C to stop", file=sys.stderr, flush=True)
            await stop.wait()
        stopping.cancel()
    finally:
        await app.stop()
    print("clusterbot stopped", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    cfg = _config(args, transport_secrets=True)
    check_files_for_run(cfg)
    if not (cfg.matrix.enabled or cfg.telegram.enabled):
        raise CliError("no transport is enabled: enable [matrix] or [telegram] in the config")
    hold_deployment(cfg, "clusterbot run", "run")  # for the process's whole life

    async def go() -> int:
        await _check_before_run(cfg)
        return await run_bot(cfg)

    try:
        return asyncio.run(go())
    except RuntimeError as exc:
        if "schema" in str(exc):
            raise CliError(str(exc)) from None
        raise


# ---------------------------------------------------------------------- parser


ROLES = ("partner", "imo", "coordinator", "admin")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clusterbot", description="Secure messaging bot for humanitarian clusters.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a starter config, master key, data folders and the database")
    p.add_argument("dir", help="the new site's folder (created; an existing one must not hold a site)")
    p.add_argument("--database-url", help="use this database (postgresql+asyncpg://... or sqlite+aiosqlite:///...) "
                   "instead of SQLite in DIR/data; it must exist and be empty; written into the config")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("run", help="run the bot")
    _add_config(p)
    p.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True,
                                                                     metavar="COMMAND")
    p = db.add_parser("upgrade", help="apply schema migrations (creates a SQLite database that does not exist yet)")
    _add_config(p)
    p.set_defaults(func=cmd_db_upgrade)

    audit = sub.add_parser("audit", help="audit log").add_subparsers(dest="audit_command", required=True,
                                                                     metavar="COMMAND")
    p = audit.add_parser("verify", help="check the hash chain and its anchored head; exit 1 naming the first bad entry")
    _add_config(p)
    p.set_defaults(func=cmd_audit_verify)
    p = audit.add_parser("reanchor", help="anchor the current head after restoring an older database (bot stopped)")
    _add_config(p)
    p.set_defaults(func=cmd_audit_reanchor)

    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(dest="keys_command", required=True,
                                                                        metavar="COMMAND")
    p = keys.add_parser("rotate", help="re-wrap every data key under a new master key (bot stopped)")
    _add_config(p)
    p.set_defaults(func=cmd_keys_rotate)

    consent = sub.add_parser("consent", help="the consent ledger").add_subparsers(
        dest="consent_command", required=True, metavar="COMMAND")
    p = consent.add_parser("verify", help="check the ledger's hash chain; exit 1 naming the first bad entry")
    _add_config(p)
    p.set_defaults(func=cmd_consent_verify)
    p = consent.add_parser("export", help="export the recorded consent decisions")
    _add_config(p)
    p.add_argument("--org", help="only this organisation's decisions (its name, as in 'admin org list')")
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help="csv (with a header line) or json (one array); default %(default)s")
    p.set_defaults(func=cmd_consent_export)

    admin = sub.add_parser("admin", help="organisations, users, devices").add_subparsers(
        dest="admin_command", required=True, metavar="COMMAND")
    org = admin.add_parser("org", help="partner organisations").add_subparsers(
        dest="org_command", required=True, metavar="COMMAND")
    p = org.add_parser("add", help="add an organisation")
    p.add_argument("name", help="the organisation's name, e.g. \"Relief Org\"")
    p.add_argument("--sector", help="its sector, e.g. protection, wash")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_org_add))
    p = org.add_parser("list", help="list organisations (name, sector, pseudonym)")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_org_list))

    user = admin.add_parser("user", help="the people the bot knows, and their roles").add_subparsers(
        dest="user_command", required=True, metavar="COMMAND")
    p = user.add_parser("add", help="add a user with a role")
    p.add_argument("user", help="Matrix id (@name:server), or a Telegram user id with --telegram")
    p.add_argument("--org", help="the user's organisation (required for partners)")
    p.add_argument("--role", required=True, choices=ROLES, help="what the user may do: %(choices)s")
    p.add_argument("--telegram", action="store_true", help="USER is a numeric Telegram user id")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_add))
    p = user.add_parser("list", help="list users (Matrix id, Telegram id, role, organisation)")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_list))
    p = user.add_parser("remove", help="remove a user (the audit log keeps that it happened)")
    p.add_argument("user", help="Matrix id (@name:server), or a Telegram user id with --telegram")
    p.add_argument("--telegram", action="store_true", help="USER is a numeric Telegram user id")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_remove))
    p = user.add_parser("set-role", help="change a user's role")
    p.add_argument("user", help="Matrix id (@name:server)")
    p.add_argument("role", choices=ROLES, help="the new role: %(choices)s")
    _add_config(p)
    p.set_defaults(func=_directory_cmd(_user_set_role))
    p = user.add_parser("link-telegram", help="let a Matrix user also reach the bot on Telegram")
    p.add_argument("user", help="Matrix id (@name:server)")
    p.add_argument("telegram_id", help="the user's numeric Telegram id (a positive whole number, not the @name)")
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
            hold_deployment(_config(args), " ".join(sub), "exclusive")
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
        from storage.opening import StorageOpenError
        from storage.store import MasterKeyMismatch

        if isinstance(exc, (MasterKeyError, MasterKeyMismatch, StorageOpenError)):
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

