"""What every command needs: its config, the deployment lock, and the storage opened
with every failure one line (see :mod:`bot.cli.errors`)."""

from __future__ import annotations

import argparse
import fcntl
import os
from pathlib import Path
from typing import Any

from bot.cli.errors import CliError
from bot.config import Config, load_config


def config_file(args: argparse.Namespace) -> Path:
    """``--config``, else ``$CLUSTERBOT_CONFIG``, else ``clusterbot.toml`` in the current folder."""
    return Path(getattr(args, "config", None) or os.environ.get("CLUSTERBOT_CONFIG", "clusterbot.toml"))


def load(args: argparse.Namespace, *, transport_secrets: bool = False) -> Config:
    """The config for this command. Only ``run`` and the ``matrix`` commands read the
    transport secrets: ``admin``, ``audit``, ``consent``, ``keys``, ``db``... work without
    the Matrix password file or the Telegram token."""
    return load_config(config_file(args), transport_secrets=transport_secrets)


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


async def check_database(cfg: Config) -> None:
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


async def open_storage(cfg: Config) -> Any:
    """Open the storage for a command: the database checked, the blob folder usable and
    the master key checked against the database (every failure one line, exit 2)."""
    from storage.store import Storage

    hold_deployment(cfg, "clusterbot", "shared")
    await check_database(cfg)
    return await Storage.open(cfg.storage.database_url, cfg.storage.blob_dir, cfg.storage.master_key_file)
