"""APScheduler with its jobs persisted in the bot's own database.

Deadlines themselves live in the domain tables (``expires_at`` on submissions,
acknowledgement deadlines on incidents, ...). The scheduler's persisted jobs are
the periodic sweep that acts on whatever is due, plus one-off jobs for things
scheduled "at TIME" (broadcasts, guidance notes). Both survive restarts: the sweep
job is re-registered with a fixed id, one-off jobs are read back from the job table.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.engine import sync_url

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "clusterbot-sweeps"

RunSweeps = Callable[[], Awaitable[None]]
RunJob = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Runners:
    """What the persisted jobs call: given by whoever starts the scheduler."""

    run_sweeps: RunSweeps
    run_job: RunJob


# Persisted jobs are stored by the *name* of a module-level function ("bot.scheduler:run_sweeps_job"),
# so that they survive restarts; these functions find the callables of the running process here.
_runners: Runners | None = None


def _bound() -> Runners:
    if _runners is None:
        raise RuntimeError("scheduler job ran without a running application")
    return _runners


async def run_sweeps_job() -> None:
    await _bound().run_sweeps()


async def run_named_job(name: str, payload: dict[str, Any]) -> None:
    """One-off jobs: ``name`` selects a coroutine registered in ``app.services.jobs``."""
    await _bound().run_job(name, payload)


def make_scheduler(database_url: str, *, sweep_seconds: int = 60) -> AsyncIOScheduler:
    store = SQLAlchemyJobStore(url=sync_url(database_url), tablename="scheduler_jobs")
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


def start_scheduler(
    database_url: str, *, run_sweeps: RunSweeps, run_job: RunJob, sweep_seconds: int = 60
) -> AsyncIOScheduler:
    global _runners
    _runners = Runners(run_sweeps, run_job)
    sched = make_scheduler(database_url, sweep_seconds=sweep_seconds)
    sched.start()
    return sched


def schedule_once(
    scheduler: AsyncIOScheduler | None, job_id: str, when: datetime, name: str, payload: dict[str, Any]
) -> None:
    """Persist a one-off job; runs at ``when`` (or at start-up if the bot was down then)."""
    if scheduler is None:
        raise RuntimeError("the scheduler is not running")
    scheduler.add_job(
        run_named_job,
        "date",
        run_date=when,
        args=[name, payload],
        id=job_id,
        replace_existing=True,
        misfire_grace_time=7 * 24 * 3600,
    )
