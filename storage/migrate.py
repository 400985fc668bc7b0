"""Schema migrations (Alembic), run programmatically on the bot's own async engine.

``clusterbot db upgrade`` and ``clusterbot init`` call :func:`upgrade`; ``clusterbot
run`` calls :func:`pending` and refuses to start on an out-of-date schema, so a
deployment never runs new code against an old database by accident.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.engine import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(database_url: str, revision: str = "head") -> None:
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:

            def _run(sync_conn: Any) -> None:
                cfg = _alembic_config()
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, revision)

            await conn.run_sync(_run)
    finally:
        await engine.dispose()


async def current_revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    finally:
        await engine.dispose()


async def pending(database_url: str) -> bool:
    """True when the database is not at the newest schema revision."""
    return await current_revision(database_url) != head_revision()
