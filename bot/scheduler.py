"""APScheduler with its jobs persisted in the bot's own database.

Deadlines themselves live in the domain tables (``expires_at`` on submissions,
acknowledgement deadlines on incidents, ...). The scheduler's persisted jobs are
the periodic sweep that acts on whatever is due, plus one-off jobs for things
scheduled "at TIME" (broadcasts, guidance notes). Both survive restarts: the sweep
job is re-registered with a fixed id, one-off jobs are read back from the job table.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.engine import sync_url

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "clusterbot-sweeps"
_current: Application | None = None


def _app() -> Application:
    if _current is None:
        raise RuntimeError("scheduler job ran without a running application")
    return _current


async def run_sweeps_job() -> None:
    await _app().run_sweeps()


async def run_named_job(name: str, payload: dict[str, Any]) -> None:
    """One-off jobs: ``name`` selects a coroutine registered in ``app.services.jobs``."""
    app = _app()
    handler = app.services.jobs.get(name)
    if handler is None:
        log.error("scheduled job %s has no handler; skipped", name)
        return
    await handler(app, payload)


def make_scheduler(app: Application, *, sweep_seconds: int = 60) -> AsyncIOScheduler:
    store = SQLAlchemyJobStore(url=sync_url(app.config.storage.database_url), tablename="scheduler_jobs")
    sched = AsyncIOScheduler(jobstores={"default": store}, timezone=UTC)
    sched.add_job(
        run_sweeps_job,
        "interval",
        seconds=sweep_seconds,
        id=SWEEP_JOB_ID,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )
    return sched


def start_scheduler(app: Application, *, sweep_seconds: int = 60) -> AsyncIOScheduler:
    global _current
    _current = app
    sched = make_scheduler(app, sweep_seconds=sweep_seconds)
    sched.start()
    return sched


def schedule_once(app: Application, job_id: str, when: datetime, name: str, payload: dict[str, Any]) -> None:
    """Persist a one-off job; runs at ``when`` (or at start-up if the bot was down then)."""
    if app.scheduler is None:
        raise RuntimeError("the scheduler is not running")
    app.scheduler.add_job(
        run_named_job,
        "date",
        run_date=when,
        args=[name, payload],
        id=job_id,
        replace_existing=True,
        misfire_grace_time=7 * 24 * 3600,
    )
