"""The consent ledger: append-only, hash-chained, one row per decision.

A changed answer is a new row (a revocation is ``decision=False`` after ``True``);
nothing is ever updated in place, and ``clusterbot consent verify`` walks the chain
the same way ``audit verify`` does. Anything that shares data asks
:meth:`ConsentLedger.allows`, which reads only the latest decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.chain import ChainProblem, verify_chain
from storage.models import CONSENT_FIELDS, ConsentDecision
from storage.store import Storage
from storage.timeutil import as_utc

SCOPES = ("cluster", "agencies", "products")
FIELDS = CONSENT_FIELDS


@dataclass(frozen=True)
class Decision:
    seq: int
    submission_id: int
    org_id: int
    scope: str
    decision: bool
    actor_id: str
    ts: datetime


class ConsentLedger:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def record(self, submission_id: int, org_id: int, scope: str, decision: bool, actor_id: str) -> int:
        if scope not in SCOPES:
            raise ValueError(f"unknown consent scope {scope!r}")
        return await self.storage.append_chained(
            ConsentDecision,
            {
                "submission_id": submission_id,
                "org_id": org_id,
                "scope": scope,
                "decision": decision,
                "actor_id": actor_id,
                "ts": self.storage.now(),
            },
        )

    async def history(self, *, org_id: int | None = None, submission_id: int | None = None) -> list[Decision]:
        async with self.storage.session() as s:
            q = select(ConsentDecision).order_by(ConsentDecision.seq)
            if org_id is not None:
                q = q.where(ConsentDecision.org_id == org_id)
            if submission_id is not None:
                q = q.where(ConsentDecision.submission_id == submission_id)
            rows = (await s.execute(q)).scalars()
            return [
                Decision(r.seq, r.submission_id, r.org_id, r.scope, r.decision, r.actor_id, as_utc(r.ts)) for r in rows
            ]

    async def current(self, submission_id: int) -> dict[str, bool]:
        """Latest decision per scope; a scope never answered is absent (= no consent)."""
        latest: dict[str, bool] = {}
        for d in await self.history(submission_id=submission_id):
            latest[d.scope] = d.decision
        return latest

    async def allows(self, submission_id: int, scope: str) -> bool:
        return (await self.current(submission_id)).get(scope, False)

    async def verify(self) -> ChainProblem | None:
        async with self.storage.session() as s:
            rows = (await s.execute(select(ConsentDecision).order_by(ConsentDecision.seq))).scalars()
            return verify_chain([(r.seq, r.prev_hash, r.hash, {f: getattr(r, f) for f in FIELDS}) for r in rows])
