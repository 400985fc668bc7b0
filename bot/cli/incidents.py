"""``clusterbot incidents export --since DATE``: a summary for coordinators' records.

No reporter identities and no report text: case number, dates, state, severity,
whether it was anonymous, and the lessons learned recorded at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot.cli.deployment import load, open_storage
from bot.cli.errors import CliError

FIELDS = ["case", "received", "state", "severity", "anonymous", "acknowledged", "closed", "lessons"]


def cmd_export(args: argparse.Namespace) -> int:
    try:
        since = datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise CliError("--since must be a date like 2026-01-31") from None
    rows = asyncio.run(_rows(args, since))
    if args.format == "json":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return 0


async def _rows(args: argparse.Namespace, since: datetime) -> list[dict[str, Any]]:
    from storage.incidents import IncidentRepo

    store = await open_storage(load(args))
    try:
        repo = IncidentRepo(store)
        out = []
        for inc in await repo.list(since=since):
            view = await repo.get(inc.id)
            lessons = "; ".join(e.text for e in view.events if e.kind == "learning") if view else ""
            out.append(
                {
                    "case": f"I-{inc.id:04d}",
                    "received": inc.created_at.strftime("%Y-%m-%d"),
                    "state": inc.state,
                    "severity": inc.severity or "",
                    "anonymous": "yes" if inc.anonymous else "no",
                    "acknowledged": inc.acked_at.strftime("%Y-%m-%d %H:%M") if inc.acked_at else "",
                    "closed": inc.closed_at.strftime("%Y-%m-%d") if inc.closed_at else "",
                    "lessons": lessons,
                }
            )
        await store.audit("operator", "coordinator", "incident.export", None, "done")
        return out
    finally:
        await store.close()
