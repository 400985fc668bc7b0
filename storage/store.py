"""The storage facade: sessions, envelope encryption, blobs, audit log, idempotency.

Handlers and the router reach the database only through this object (and the
repositories built on it), so the rules "everything sensitive is sealed" and
"every access is audited" live in one place.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.blobs import BlobStore
from storage.chain import GENESIS, ChainProblem, entry_hash, verify_chain
from storage.crypto import CryptoError, KeyRing, new_key, open_sealed, seal
from storage.engine import make_engine, make_sessionmaker
from storage.models import AuditEntry, DataKey, ProcessedEvent, Setting

log = logging.getLogger(__name__)

Now = Callable[[], datetime]

AUDIT_FIELDS = ("seq", "ts", "actor_id", "actor_role", "action", "object_id", "outcome")


class Shredded(Exception):
    """The object's data key was destroyed: its content is gone for good."""


@dataclass(frozen=True)
class SealedKey:
    """A usable data key together with its id (needed for associated data)."""

    id: str
    key: bytes

    def __repr__(self) -> str:
        return f"SealedKey(id={self.id!r})"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Storage:
    def __init__(
        self,
        engine: AsyncEngine,
        keyring: KeyRing,
        blobs: BlobStore,
        *,
        now: Now = _utcnow,
    ) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
        self.keyring = keyring
        self.blobs = blobs
        self.now = now
        self._hmac_key: bytes | None = None
        self._audit_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, database_url: str, blob_dir: Path, master_key_file: Path, *, now: Now = _utcnow
    ) -> Storage:
        """Open an existing, migrated database (see ``storage.migrate``)."""
        keyring = KeyRing.load(master_key_file)
        blobs = BlobStore(blob_dir)
        blobs.ensure()
        blobs.sweep()
        store = cls(make_engine(database_url), keyring, blobs, now=now)
        return store

    async def close(self) -> None:
        await self.engine.dispose()

    def session(self) -> AsyncSession:
        return self.sessions()

    async def update_row(self, model: type[Any], pk: Any, **fields: Any) -> bool:
        """Set columns on one row in its own transaction; False when the row does not exist."""
        async with self.session() as session, session.begin():
            row = await session.get(model, pk)
            if row is None:
                return False
            for name, value in fields.items():
                setattr(row, name, value)
        return True

    # ------------------------------------------------------------------ data keys

    async def new_data_key(self, session: AsyncSession, purpose: str) -> SealedKey:
        dek_id = secrets.token_hex(16)
        dek = new_key()
        kek_id, wrapped = self.keyring.wrap(dek, dek_id)
        session.add(
            DataKey(id=dek_id, kek_id=kek_id, wrapped_key=wrapped, purpose=purpose, created_at=self.now())
        )
        await session.flush()  # rows referencing it (no ORM relationship) must be inserted after it
        return SealedKey(dek_id, dek)

    async def data_key(self, session: AsyncSession, dek_id: str) -> SealedKey:
        row = await session.get(DataKey, dek_id)
        if row is None or row.wrapped_key is None:
            raise Shredded(dek_id)
        return SealedKey(dek_id, self.keyring.unwrap(row.kek_id, row.wrapped_key, dek_id))

    async def shred(self, session: AsyncSession, dek_id: str) -> None:
        """Destroy a data key; everything sealed under it becomes unreadable."""
        row = await session.get(DataKey, dek_id)
        if row is not None and row.wrapped_key is not None:
            row.wrapped_key = None
            row.shredded_at = self.now()

    @staticmethod
    def seal_text(key: SealedKey, aad: str, text: str) -> bytes:
        return seal(key.key, text.encode("utf-8"), f"{key.id}|{aad}".encode())

    @staticmethod
    def open_text(key: SealedKey, aad: str, sealed: bytes) -> str:
        return open_sealed(key.key, sealed, f"{key.id}|{aad}".encode()).decode("utf-8")

    # ------------------------------------------------------------------ blobs

    async def put_blob(self, key: SealedKey, blob_id: str, data: bytes) -> None:
        sealed = await asyncio.to_thread(seal, key.key, data, f"{key.id}|blob:{blob_id}".encode())
        await asyncio.to_thread(self.blobs.put, blob_id, sealed)

    async def get_blob(self, key: SealedKey, blob_id: str) -> bytes:
        sealed = await asyncio.to_thread(self.blobs.get, blob_id)
        return await asyncio.to_thread(open_sealed, key.key, sealed, f"{key.id}|blob:{blob_id}".encode())

    async def remove_orphan_blobs(self, min_age_seconds: float = 3600.0) -> int:
        """Delete blob files no row refers to (left by a crash between blob write and commit).

        Only files older than ``min_age_seconds`` are touched, so a blob whose row is being
        committed right now is never removed. They are unreadable anyway: their data key was
        never committed.
        """
        import time

        from storage.models import InboxItem, Product, SubmissionVersion

        async with self.session() as session:
            used = set((await session.execute(select(SubmissionVersion.blob_id))).scalars())
            used |= set((await session.execute(select(Product.blob_id))).scalars())
            for names in (await session.execute(select(InboxItem.blob_ids))).scalars():
                used |= set(names.split())  # attachments of events still being handled
        cutoff = time.time() - min_age_seconds
        removed = 0
        for blob_id, mtime in await asyncio.to_thread(self.blobs.ids):
            if blob_id not in used and mtime < cutoff:
                self.blobs.delete(blob_id)
                removed += 1
        return removed

    # ------------------------------------------------------------------ keyed hashes

    async def hmac_key(self) -> bytes:
        """A stable secret for keyed hashes of identifiers, itself sealed at rest."""
        if self._hmac_key is not None:
            return self._hmac_key
        async with self.session() as session, session.begin():
            row = await session.get(Setting, "hmac_data_key")
            if row is None:
                key = await self.new_data_key(session, "hmac")
                session.add(Setting(name="hmac_data_key", value=key.id))
                self._hmac_key = key.key
            else:
                self._hmac_key = (await self.data_key(session, row.value)).key
        return self._hmac_key

    async def pseudokey(self, *parts: str) -> str:
        mac = hmac.new(await self.hmac_key(), "\x1f".join(parts).encode("utf-8"), hashlib.sha256)
        return mac.hexdigest()

    # ------------------------------------------------------------------ idempotency (see storage/inbox.py)

    async def forget_events_before(self, cutoff: datetime) -> int:
        async with self.session() as session, session.begin():
            result = await session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    # ------------------------------------------------------------------ audit log

    async def append_chained(self, model: type[Any], fields: dict[str, Any]) -> int:
        """Append a row to a hash-chained table (audit log, consent ledger); returns its seq.

        ``seq`` is ``last + 1`` under the primary key: a concurrent writer (the CLI
        while the bot runs) loses the race with an integrity error and retries on the
        new tail, so the chain never forks.
        """
        async with self._audit_lock:
            for attempt in range(20):
                try:
                    async with self.session() as session, session.begin():
                        last = (
                            await session.execute(select(model).order_by(model.seq.desc()).limit(1))
                        ).scalar_one_or_none()
                        seq = 1 if last is None else last.seq + 1
                        prev = GENESIS if last is None else last.hash
                        row = {"seq": seq, **fields}
                        session.add(model(prev_hash=prev, hash=entry_hash(prev, row), **row))
                    return seq
                except IntegrityError:
                    await asyncio.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"could not append to {model.__tablename__}")

    async def audit(
        self, actor_id: str, actor_role: str, action: str, object_id: str | None, outcome: str
    ) -> int:
        """Append one audit entry; returns its sequence number. Never pass content here."""
        if outcome not in ("allowed", "denied", "done", "failed"):
            raise ValueError(f"bad audit outcome {outcome!r}")
        return await self.append_chained(
            AuditEntry,
            {
                "ts": self.now(),
                "actor_id": actor_id,
                "actor_role": actor_role,
                "action": action,
                "object_id": object_id,
                "outcome": outcome,
            },
        )

    async def audit_entries(self) -> list[AuditEntry]:
        async with self.session() as session:
            return list((await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars())

    async def verify_audit(self) -> ChainProblem | None:
        rows = await self.audit_entries()
        return verify_chain(
            [(r.seq, r.prev_hash, r.hash, {f: getattr(r, f) for f in AUDIT_FIELDS}) for r in rows]
        )

    # ------------------------------------------------------------------ key rotation

    async def rotate_master_key(self, master_key_file: Path) -> int:
        """Re-wrap every live data key under a new master key; returns how many.

        Crash-safe order: (1) write the key file with old and new keys, new active;
        (2) re-wrap all rows in one transaction; (3) drop the old keys from the file.
        A crash after (1) or (2) leaves a key file that still opens every row.
        """
        new_ring = self.keyring.with_new_active()
        new_ring.save(master_key_file)
        count = 0
        async with self.session() as session, session.begin():
            rows = (await session.execute(select(DataKey).where(DataKey.wrapped_key.is_not(None)))).scalars()
            for row in rows:
                assert row.wrapped_key is not None
                dek = new_ring.unwrap(row.kek_id, row.wrapped_key, row.id)
                row.kek_id, row.wrapped_key = new_ring.wrap(dek, row.id)
                count += 1
        final = new_ring.only_active()
        final.save(master_key_file)
        self.keyring = final
        return count


__all__ = ["CryptoError", "SealedKey", "Shredded", "Storage"]
