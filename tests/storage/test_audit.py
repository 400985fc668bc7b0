"""storage.audit.AuditTrail: the audit entries about given objects, as frozen records."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from bot.clock import FakeClock
from storage.audit import AuditTrail
from storage.store import Storage


async def test_entries_for_objects(storage: Storage, clock: FakeClock) -> None:
    trail = AuditTrail(storage)
    assert await trail.for_objects([]) == []
    await storage.audit("user:1", "partner", "submission.view", "S-0001", "allowed")
    clock.advance(minutes=1)
    await storage.audit("user:2", "imo", "submission.accept", "S-0002", "done")
    await storage.audit("user:3", "imo", "product.draft", "P-0001", "done")
    await storage.audit("user:2", "imo", "submission.view", "S-0001", "denied")
    got = await trail.for_objects({"S-0001", "S-0002"})
    assert [(r.seq, r.object_id, r.action, r.actor_role, r.outcome) for r in got] == [
        (1, "S-0001", "submission.view", "partner", "allowed"),
        (2, "S-0002", "submission.accept", "imo", "done"),
        (4, "S-0001", "submission.view", "imo", "denied"),
    ]
    assert got[1].ts == clock.now() and got[1].ts.tzinfo is not None and got[0].actor_id == "user:1"
    assert await trail.for_objects(["S-0404"]) == []
    with pytest.raises(FrozenInstanceError):
        got[0].outcome = "done"  # type: ignore[misc]
