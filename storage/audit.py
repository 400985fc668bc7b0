"""Reading the audit log by object (``!mydata``): frozen records, never ORM rows.

Appending and verifying stay in :class:`storage.store.Storage` (``audit``,
``verify_audit``), which owns the hash chain and its anchor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.models import AuditEntry
from storage.store import Storage
from storage.timeutil import as_utc


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    ts: datetime
    actor_id: str
    actor_role: str
    action: str
    object_id: str | None
    outcome: str


class AuditTrail:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def for_objects(self, object_ids: Iterable[str]) -> list[AuditRecord]:
        """Every entry about one of ``object_ids`` (public ids like ``S-0042``), in order."""
        ids = sorted(set(object_ids))
        if not ids:
            return []
        async with self.storage.session() as s:
            rows = await s.execute(select(AuditEntry).where(AuditEntry.object_id.in_(ids)).order_by(AuditEntry.seq))
            return [
                AuditRecord(r.seq, as_utc(r.ts), r.actor_id, r.actor_role, r.action, r.object_id, r.outcome)
                for r in rows.scalars()
            ]


__all__ = ["AuditRecord", "AuditTrail"]
