from __future__ import annotations

from sqlalchemy import delete, select, update

from storage.models import AuditEntry
from storage.store import Storage


async def _fill(storage: Storage, n: int = 5) -> None:
    for i in range(n):
        await storage.audit(f"user:{i}", "partner", "submission.get", f"S-{i:04d}", "allowed")


async def test_intact_chain_verifies(storage: Storage) -> None:
    await _fill(storage)
    assert await storage.verify_audit() is None
    rows = await storage.audit_entries()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]


async def test_edited_entry_detected(storage: Storage) -> None:
    await _fill(storage)
    async with storage.session() as s, s.begin():
        await s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(outcome="denied"))
    problem = await storage.verify_audit()
    assert problem is not None and problem.seq == 3 and "edited" in problem.reason


async def test_removed_entry_detected(storage: Storage) -> None:
    await _fill(storage)
    async with storage.session() as s, s.begin():
        await s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    problem = await storage.verify_audit()
    assert problem is not None and problem.seq == 3


async def test_inserted_entry_detected(storage: Storage) -> None:
    """A forger renumbers the tail and slips in a well-formed entry that links to its predecessor."""
    from storage.chain import entry_hash

    await _fill(storage, 3)
    async with storage.session() as s, s.begin():
        rows = {r.seq: r for r in (await s.execute(select(AuditEntry))).scalars()}
        await s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(seq=4))
    async with storage.session() as s, s.begin():
        fields = {
            "seq": 3,
            "ts": rows[2].ts,
            "actor_id": "user:9",
            "actor_role": "imo",
            "action": "submission.get",
            "object_id": "S-0001",
            "outcome": "allowed",
        }
        s.add(AuditEntry(prev_hash=rows[2].hash, hash=entry_hash(rows[2].hash, fields), **fields))
    problem = await storage.verify_audit()
    assert problem is not None
    assert problem.seq in (3, 4)


async def test_reordered_entries_detected(storage: Storage) -> None:
    await _fill(storage, 4)
    async with storage.session() as s, s.begin():
        rows = {r.seq: r for r in (await s.execute(select(AuditEntry))).scalars()}
        a, b = rows[2], rows[3]
        fields = ("ts", "actor_id", "actor_role", "action", "object_id", "outcome", "prev_hash", "hash")
        va = {f: getattr(a, f) for f in fields}
        vb = {f: getattr(b, f) for f in fields}
        for f in fields:
            setattr(a, f, vb[f])
            setattr(b, f, va[f])
    problem = await storage.verify_audit()
    assert problem is not None and problem.seq == 2


async def test_concurrent_appends_keep_one_chain(storage: Storage) -> None:
    import asyncio

    await asyncio.gather(*(storage.audit("user:1", "imo", "x", None, "allowed") for _ in range(20)))
    assert await storage.verify_audit() is None
    assert len(await storage.audit_entries()) == 20
