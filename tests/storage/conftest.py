"""Repository tests: one suite, run over every backend (as mautrix's store tests do).

The ``storage`` fixture here is parametrised over SQLite and PostgreSQL through the
``db_url`` fixture of ``tests/conftest.py`` (which creates a fresh SQLite file, or resets
the PostgreSQL schema; PostgreSQL is skipped, with the reason, unless
``CLUSTERBOT_TEST_DATABASE_URL`` is set). Each test gets a migrated, empty database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from storage import migrate
from storage.directory import Directory
from storage.models import Base
from storage.store import Storage
from storage.submissions import ScreeningResult, SubmissionRepo
from tests.conftest import make_config


@pytest.fixture
async def storage(tmp_path: Path, db_url: str, clock: FakeClock) -> AsyncIterator[Storage]:
    cfg = make_config(tmp_path, db_url)
    await migrate.upgrade(db_url)
    store = await Storage.open(db_url, cfg.storage.blob_dir, cfg.storage.master_key_file, now=clock.now)
    yield store
    await store.close()


async def raw_dump(storage: Storage) -> bytes:
    """Every value of every table, read without the ORM, plus every blob file as stored:
    what someone holding the database and the blob folder (but not the master key) sees."""
    out: list[bytes] = []
    async with storage.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                for value in row:
                    out.append(value if isinstance(value, bytes) else str(value).encode())
    for path in sorted(storage.blobs.root.rglob("*")):
        if path.is_file():
            out.append(path.read_bytes())
    return b"\x00".join(out)


@dataclass(frozen=True)
class Cluster:
    """Two organisations with a partner each, a coordinator, and one accepted submission each."""

    relief: int
    water: int
    pia: int
    zaw: int
    coordinator: int
    sub_relief: int
    sub_water: int


@pytest.fixture
async def cluster(storage: Storage) -> Cluster:
    d = Directory(storage)
    relief = await d.add_org("Relief Org", "protection")
    water = await d.add_org("Water Org", "wash")
    pia = await d.add_user("@pia:example.org", role="partner", org="Relief Org")
    zaw = await d.add_user("@zaw:example.org", role="partner", org="Water Org")
    coord = await d.add_user("@coord:example.org", role="coordinator")
    repo = SubmissionRepo(storage)
    clean = ScreeningResult("clean", None, None, (), ())
    subs = [
        await repo.create(
            org_id=org,
            submitter_id=user,
            data=b"a,b\n1,2\n",
            filename="x.csv",
            mimetype="text/csv",
            result=clean,
            state="accepted",
            level="public",
            expires_at=None,
        )
        for org, user in ((relief, pia), (water, zaw))
    ]
    return Cluster(relief, water, pia, zaw, coord, subs[0], subs[1])
