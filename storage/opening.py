"""Checks before the storage is opened, each failing with one line that names the thing.

Why a separate step: the drivers' own errors (``InvalidCatalogNameError``, a refused
connection, SQLite quietly creating a new empty file for a misspelt path) neither name
the database nor say what to do. The CLI runs these checks before any command that
uses the storage, ``run`` included, so an operator's mistake is one line, exit 2.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.blobs import BlobStore
from storage.engine import make_engine

CONNECT_TIMEOUT_SECONDS = 15.0


class StorageOpenError(Exception):
    """The database or the blob folder cannot be used; one line naming it."""


def shown_url(url: str) -> str:
    """The database as an operator recognises it, never with its password: a SQLite
    file's path, or ``postgresql://user@host:port/name``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database or ":memory:")
    user = f"{parsed.username}@" if parsed.username else ""
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.get_backend_name()}://{user}{host}{port}/{parsed.database or ''}"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__


def explain(url: str, exc: BaseException) -> str:
    """One line for a failure to connect to or read the database ``url``."""
    where = f"database {shown_url(url)}"
    parsed = make_url(url)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - only with the postgres extra
        asyncpg = None
    password = parsed.password
    for cause in _causes(exc):
        if asyncpg is not None:
            if isinstance(cause, asyncpg.InvalidCatalogNameError):
                return f"{where}: does not exist (create it, or fix [storage] database_url)"
            if isinstance(cause, asyncpg.InvalidPasswordError):
                return (
                    f"{where}: the server refused the password of user {parsed.username} (fix [storage] database_url)"
                )
            if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
                reason = _first_line(cause)
                if password:
                    reason = reason.replace(str(password), "***")
                return f"{where}: the server refused user {parsed.username} ({reason}; fix [storage] database_url)"
            if isinstance(cause, asyncpg.PostgresError):
                reason = _first_line(cause)
                if password:
                    reason = reason.replace(str(password), "***")
                return f"{where}: {reason}"
        if isinstance(cause, sqlite3.DatabaseError):
            return f"{where}: cannot be opened as a SQLite database ({_first_line(cause)})"
        if isinstance(cause, TimeoutError):
            return f"{where}: cannot connect (timed out; is PostgreSQL running there?)"
        if isinstance(cause, ConnectionRefusedError):
            return f"{where}: cannot connect (connection refused; is PostgreSQL running there, on that port?)"
        if isinstance(cause, OSError):
            return f"{where}: cannot connect ({cause.strerror or type(cause).__name__})"
    return f"{where}: cannot be opened ({type(exc).__name__})"


async def check_database(url: str, *, must_exist: bool = True) -> None:
    """Connect once. A SQLite file must already exist unless ``must_exist`` is False
    (``init``, ``db upgrade``): a misspelt path would otherwise be a new, empty database."""
    path = sqlite_path(url)
    if path is not None:
        if path.is_dir():
            raise StorageOpenError(f"database {path} is a folder, not a SQLite file (fix [storage] database_url)")
        if not path.exists():
            if must_exist:
                raise StorageOpenError(
                    f"database {path} does not exist (fix [storage] database_url, or create it with "
                    "'clusterbot db upgrade', or a whole new site with 'clusterbot init')"
                )
            if not path.parent.is_dir():
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageOpenError(f"database {path}: cannot create its folder ({exc.strerror})") from None
            return
    engine = make_engine(url)
    try:

        async def probe() -> None:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        await asyncio.wait_for(probe(), CONNECT_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - every driver error becomes one line
        raise StorageOpenError(explain(url, exc)) from None
    finally:
        await engine.dispose()


def check_blob_dir(path: Path) -> None:
    """The blob folder exists (or can be made), is a folder, and this process may write in it."""
    if path.exists() and not path.is_dir():
        raise StorageOpenError(f"blob_dir {path} is not a folder (fix [storage] blob_dir)")
    try:
        BlobStore(path).ensure()
    except OSError as exc:
        raise StorageOpenError(
            f"blob_dir {path}: cannot create it or make it private ({exc.strerror or type(exc).__name__})"
        ) from None
    probe = path / f".write-check.{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise StorageOpenError(f"blob_dir {path} is not writable ({exc.strerror or type(exc).__name__})") from None
