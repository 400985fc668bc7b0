"""The site: ``init``, ``db upgrade``, ``audit verify|reanchor``, ``keys rotate``.

``db upgrade``, ``audit reanchor`` and ``keys rotate`` are declared ``exclusive`` in the
command table: ``main`` holds the deployment lock for them before they run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Coroutine
from importlib import resources
from pathlib import Path
from typing import Any

from bot.cli.deployment import load, open_storage
from bot.cli.errors import CliError
from bot.config import load_config

# ---------------------------------------------------------------------- init


def _example_config_text() -> str:
    here = Path(__file__).resolve().parents[2] / "config.example.toml"
    if here.exists():
        return here.read_text(encoding="utf-8")
    return resources.files("bot").joinpath("data/config.example.toml").read_text(encoding="utf-8")


def _config_with_database_url(text: str, url: str) -> str:
    """The example config with ``[storage] database_url`` set to ``url``."""
    line = f"database_url = {json.dumps(url)}"
    new, n = re.subn(r"(?m)^database_url\s*=.*$", lambda _m: line, text, count=1)
    if n == 0:
        new = text.replace("[storage]\n", f"[storage]\n{line}\n", 1)
    return new


def _refuse_existing(target: Path) -> Path:
    """The new config's path; a CliError when ``target`` holds anything init would write."""
    if target.exists() and not target.is_dir():
        raise CliError(f"{target} exists and is not a folder; init creates a new folder (or fills an empty one)")
    config_path = target / "clusterbot.toml"
    paths = [config_path, target / "data", target / "secrets", target / "sensitive_areas.txt"]
    existing = [p for p in paths if p.exists()]
    if existing:
        raise CliError(f"{existing[0]} already exists; init never overwrites anything")
    return config_path


async def _refuse_used_database(url: str) -> None:
    """The database answers and holds no clusterbot schema (a SQLite file may not exist yet)."""
    from storage import migrate
    from storage.opening import StorageOpenError, check_database, explain, shown_url, sqlite_path

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
            "and master key"
        )


def _write_site(target: Path, config_path: Path, config_text: str) -> None:
    """The folders, a new master key, the pickle key, the sensitive-areas file and the config."""
    from storage.crypto import KeyRing

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
    config_path.write_text(config_text, encoding="utf-8")


async def _create_schema(database_url: str, blob_dir: Path, master_key_file: Path) -> None:
    from storage import migrate
    from storage.opening import StorageOpenError, explain
    from storage.store import Storage

    try:
        await migrate.upgrade(database_url)
    except Exception as exc:  # noqa: BLE001
        raise StorageOpenError(explain(database_url, exc)) from None
    store = await Storage.open(database_url, blob_dir, master_key_file)
    await store.close()  # opening wrote the database's key check value


def cmd_init(args: argparse.Namespace) -> int:
    from bot.config import parse_config
    from storage.opening import shown_url

    target = Path(args.dir)
    config_path = _refuse_existing(target)
    text = _example_config_text()
    if args.database_url:
        text = _config_with_database_url(text, args.database_url)
    # validate (and resolve a relative SQLite path) before anything is created
    storage_s = {"database_url": args.database_url} if args.database_url else {}
    url = parse_config({"matrix": {"enabled": False}, "storage": storage_s}, target.resolve()).storage.database_url
    asyncio.run(_refuse_used_database(url))
    _write_site(target, config_path, text)
    st = load_config(config_path, transport_secrets=False).storage
    asyncio.run(_create_schema(st.database_url, st.blob_dir, st.master_key_file))
    print(
        f"Created {config_path} with a new master key (data/master.key, mode 0600) and the database "
        f"{shown_url(st.database_url)}."
    )
    print("Next: edit the [matrix] section, put the bot's password in secrets/matrix_password (mode 0600),")
    print(f"add organisations and users with 'clusterbot admin ... --config {config_path}', then 'clusterbot run'.")
    return 0


# ---------------------------------------------------------------------- db


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create (SQLite) or migrate the database. The master key is checked first when the
    database already has a key check value, and the value is written afterwards."""
    from storage import migrate
    from storage.opening import StorageOpenError, check_database, explain
    from storage.store import Storage

    st = load(args).storage

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


# ---------------------------------------------------------------------- audit


def verify_chain(args: argparse.Namespace, what: str, check: Callable[[Any], Coroutine[Any, Any, Any]]) -> int:
    """Shared by ``audit verify`` and ``consent verify``: exit 1 naming the first bad entry,
    or the truncation the head anchor reveals."""

    async def go() -> int:
        store = await open_storage(load(args))
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

    return asyncio.run(go())


def cmd_audit_verify(args: argparse.Namespace) -> int:
    async def check(store: Any) -> Any:
        from storage.models import AuditEntry
        from storage.store import AUDIT_FIELDS

        return await store.verify_chained(AuditEntry, AUDIT_FIELDS)

    return verify_chain(args, "audit log", check)


def cmd_audit_reanchor(args: argparse.Namespace) -> int:
    """After restoring an older database (which the anchor reports as truncation): anchor
    the current heads. Checked chains only; recorded in the audit log."""

    async def go() -> int:
        store = await open_storage(load(args))
        try:
            changes = await store.reanchor()
        except ValueError as exc:
            raise CliError(str(exc)) from None
        finally:
            await store.close()
        parts = [f"{t} at entry {n} (was {'none' if b is None else b})" for t, b, n in changes]
        print(f"head anchor reset in {store.anchor.path}: " + ", ".join(parts))
        return 0

    return asyncio.run(go())


# ---------------------------------------------------------------------- keys


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    cfg = load(args)

    async def go() -> int:
        store = await open_storage(cfg)
        try:
            n = await store.rotate_master_key(cfg.storage.master_key_file)
            await store.audit("operator", "admin", "keys.rotate", store.keyring.active, "done")
        finally:
            await store.close()
        print(f"master key rotated: {n} data keys re-wrapped under {store.keyring.active}")
        return 0

    return asyncio.run(go())
