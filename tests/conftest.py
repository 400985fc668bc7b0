"""Shared fixtures: a storage backend parametrised over SQLite and PostgreSQL, a fake
clock, and an Application wired to the in-memory transport."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.clock import FakeClock
from bot.config import Config, parse_config
from bot.transports.memory import MemoryTransport
from handlers import WORKFLOWS
from storage import migrate
from storage.crypto import KeyRing
from storage.store import Storage

PG_ENV = "CLUSTERBOT_TEST_DATABASE_URL"


@pytest.hookimpl(tryfirst=True)  # before -m deselects anything
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every PostgreSQL variant ``postgres``, so ``-m postgres`` selects them and
    ``-m "not postgres"`` leaves them out: tests parametrised with the value "postgresql"
    (``db_url`` here, ``database_url`` in the kill test ...) and tests skipped unless PostgreSQL
    answers (a skipif whose reason names PostgreSQL)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        if any(isinstance(v, str) and v == "postgresql" for v in params) or any(
            "postgresql" in str(m.kwargs.get("reason", "")).lower() for m in item.iter_markers("skipif")
        ):
            item.add_marker(pytest.mark.postgres)


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from storage.engine import make_engine

    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)")
    await _reset_postgres(url)
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"


def make_config(tmp_path: Path, db_url: str, **sections: dict[str, Any]) -> Config:
    key_file = tmp_path / "master.key"
    if not key_file.exists():
        KeyRing.generate().save(key_file)
    data: dict[str, Any] = {
        "matrix": {"enabled": False},
        "storage": {"database_url": db_url, "blob_dir": str(tmp_path / "blobs"), "master_key_file": str(key_file)},
        "screening": {"workers": 1},
        "bot": {"rate_limit_per_minute": 1000},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_config(data, tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def storage(tmp_path: Path, db_url: str, clock: FakeClock) -> AsyncIterator[Storage]:
    cfg = make_config(tmp_path, db_url)
    await migrate.upgrade(db_url)
    store = await Storage.open(db_url, cfg.storage.blob_dir, cfg.storage.master_key_file, now=clock.now)
    yield store
    await store.close()


class Harness:
    """An application on the memory transport with a small cluster directory."""

    PARTNER = "@pia:example.org"
    PARTNER2 = "@omar:example.org"
    OTHER_ORG_PARTNER = "@zaw:example.org"
    IMO = "@imo:example.org"
    COORDINATOR = "@coord:example.org"
    ADMIN = "@admin:example.org"
    IMO_ROOM = "!imo-room"
    COORD_ROOM = "!coord-room"
    ADMIN_ROOM = "!admin-room"

    def __init__(self, tmp_path: Path, db_url: str, clock: FakeClock, **sections: dict[str, Any]) -> None:
        self.tmp_path = tmp_path
        self.db_url = db_url
        self.clock = clock
        self.sections = sections
        self.transport = MemoryTransport()
        self.transport.encrypted_chats.update({self.IMO_ROOM, self.COORD_ROOM, self.ADMIN_ROOM})
        self.executor = ThreadPoolExecutor(max_workers=2)
        self.app: Application | None = None

    @property
    def config(self) -> Config:
        return make_config(self.tmp_path, self.db_url, **self.sections)

    async def start(self) -> Application:
        self.app = await Application.create(
            self.config,
            workflows=WORKFLOWS,
            transports=[self.transport],
            clock=self.clock,
            executor=self.executor,
            rooms={
                "imo": ("memory", self.IMO_ROOM),
                "coordinator": ("memory", self.COORD_ROOM),
                "admin": ("memory", self.ADMIN_ROOM),
            },
        )
        await self.app.start(scheduler=False)
        return self.app

    async def seed(self) -> None:
        assert self.app is not None
        d = self.app.directory
        await d.add_org("Relief Org", "protection")
        await d.add_org("Water Org", "wash")
        await d.add_user(self.PARTNER, role="partner", org="Relief Org")
        await d.add_user(self.PARTNER2, role="partner", org="Relief Org")
        await d.add_user(self.OTHER_ORG_PARTNER, role="partner", org="Water Org")
        await d.add_user(self.IMO, role="imo")
        await d.add_user(self.COORDINATOR, role="coordinator")
        await d.add_user(self.ADMIN, role="admin")

    async def restart(self) -> Application:
        """Simulate a process restart: new Application and transport state, same database and files."""
        assert self.app is not None
        await self.app.stop()
        old = self.transport
        self.transport = MemoryTransport()
        self.transport.encrypted_chats.update(old.encrypted_chats)
        self.transport._direct.update(old._direct)
        self.transport._ids = old._ids  # event ids keep counting, as a homeserver's would
        self.executor = ThreadPoolExecutor(max_workers=2)
        return await self.start()

    async def say(self, sender: str, text: str = "", **kw: Any) -> list[str]:
        """Send a message; returns the bot's text replies in the same chat."""
        chat = kw.get("chat_id") or await self.transport.direct_chat(sender)
        replies = await self.transport.receive(sender, text, **kw)
        return [r.text for r in replies if r.file is None and r.chat_id == chat]

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
        self.executor.shutdown(wait=False)


@pytest.fixture
async def harness_factory(tmp_path: Path, db_url: str, clock: FakeClock) -> AsyncIterator[Callable[..., Any]]:
    made: list[Harness] = []
    await migrate.upgrade(db_url)

    async def factory(**sections: dict[str, Any]) -> Harness:
        h = Harness(tmp_path, db_url, clock, **sections)
        await h.start()
        await h.seed()
        made.append(h)
        return h

    yield factory
    for h in made:
        await h.stop()


@pytest.fixture
async def harness(harness_factory: Callable[..., Any]) -> Harness:
    return await harness_factory()  # type: ignore[no-any-return]


def run(coro: Any) -> Any:
    return asyncio.get_event_loop().run_until_complete(coro)
