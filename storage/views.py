"""Frozen views of rows that several parts of storage hand out (no ORM objects leave storage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditRow:
    """One audit-chain entry, read back (a frozen view, not the ORM row)."""

    seq: int
    ts: datetime
    actor_id: str
    actor_role: str
    action: str
    object_id: str | None
    outcome: str
    prev_hash: str
    hash: str
