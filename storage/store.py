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
from storage.chain import (
    GENESIS,
    AnchorError,
    ChainProblem,
    Head,
    HeadAnchor,
    anchor_path,
    compare_with_anchor,
    entry_hash,
    verify_chain,
)
from storage.crypto import CryptoError, KeyRing, new_key, open_sealed, seal
from storage.engine import make_engine, make_sessionmaker
from storage.models import AuditEntry, DataKey, ProcessedEvent, Setting
from storage.views import AuditRow

log = logging.getLogger(__name__)

Now = Callable[[], datetime]

AUDIT_FIELDS = ("seq", "ts", "actor_id", "actor_role", "action", "object_id", "outcome")

# ``settings`` rows kept by this module (no migration needed: the table exists since 0001)
KEY_CHECK_SETTING = "master_key_check"  # proves which master key this database belongs to
MATRIX_DEVICE_SETTING = "matrix_device"  # the Matrix device the bot last ran as (see bot/cli.py)
_KEY_CHECK_PURPOSE = b"clusterbot master key check"
_KEY_CHECK_LABEL = b"clusterbot: this database belongs to this master key (v1)"


class MasterKeyMismatch(Exception):
    """The master key file is not the one this database's data was sealed with."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(
            f"master key {path or '(in use)'} does not open this database (it belongs to another instance, "
            "or the database was restored with another key)"
        )


def key_check_value(keyring: KeyRing, kid: str | None = None) -> str:
    """``{"kid": ..., "mac": HMAC-SHA256(key derived from master key kid, fixed label)}``."""
    import json

    kid = kid or keyring.active
    mac = hmac.new(keyring.derive(kid, _KEY_CHECK_PURPOSE), _KEY_CHECK_LABEL, hashlib.sha256).hexdigest()
    return json.dumps({"kid": kid, "mac": mac}, sort_keys=True)


def key_check_matches(keyring: KeyRing, value: str) -> bool:
    import json

    try:
        data = json.loads(value)
        kid, mac = str(data["kid"]), str(data["mac"])
    except (ValueError, KeyError, TypeError):
        return False
    if kid not in keyring.keys:
        return False
    expected = json.loads(key_check_value(keyring, kid))["mac"]
    return hmac.compare_digest(expected, mac)


@dataclass(frozen=True)
class ChainReport:
    """What ``verify_chained`` found: a problem (or None), the entries checked, and a note
    for the operator (an anchor created now, entries not anchored yet)."""

    problem: ChainProblem | None
    count: int
    note: str | None = None


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
        anchor: HeadAnchor | None = None,
    ) -> None:
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
        self.keyring = keyring
        self.blobs = blobs
        self.now = now
        self._hmac_key: bytes | None = None
        self._audit_lock = asyncio.Lock()
        self.anchor = anchor  # the audit head anchor beside the master key (None: not kept)
        self._anchor_warned: set[str] = set()
        self.master_key_file: Path | None = None  # set by open(): named in key errors

    @classmethod
    async def open(
        cls,
        database_url: str,
        blob_dir: Path,
        master_key_file: Path,
        *,
        now: Now = _utcnow,
        check_key: bool = True,
    ) -> Storage:
        """Open an existing, migrated database (see ``storage.migrate``).

        Unless ``check_key`` is False, the master key is checked against the database's key
        check value (written now when the database has none): a key of another instance
        raises :class:`MasterKeyMismatch` before anything is read or written.
        """
        from storage.opening import check_blob_dir

        keyring = KeyRing.load(master_key_file)
        check_blob_dir(blob_dir)
        blobs = BlobStore(blob_dir)
        blobs.sweep()
        store = cls(make_engine(database_url), keyring, blobs, now=now, anchor=HeadAnchor(anchor_path(master_key_file)))
        store.master_key_file = master_key_file
        if check_key:
            try:
                await store.check_master_key()
            except BaseException:
                await store.close()
                raise
        return store

    # ------------------------------------------------------------------ settings and the key check

    async def get_setting(self, name: str) -> str | None:
        async with self.session() as session:
            row = await session.get(Setting, name)
            return None if row is None else row.value

    async def put_setting(self, name: str, value: str) -> None:
        async with self.session() as session, session.begin():
            row = await session.get(Setting, name)
            if row is None:
                session.add(Setting(name=name, value=value))
            else:
                row.value = value

    async def check_master_key(self) -> str:
        """Raise :class:`MasterKeyMismatch` unless the loaded master key is this database's.

        Returns "ok", or "written" when the database had no key check value yet: then the
        key is first confirmed on one existing wrapped data key (if there is any), and the
        value is stored. A database without the settings table (not migrated) is skipped.
        """
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            stored = await self.get_setting(KEY_CHECK_SETTING)
        except (OperationalError, ProgrammingError):
            return "skipped"
        if stored is not None:
            if not key_check_matches(self.keyring, stored):
                raise MasterKeyMismatch(self.master_key_file)
            return "ok"
        async with self.session() as session:
            row = (
                await session.execute(select(DataKey).where(DataKey.wrapped_key.is_not(None)).limit(1))
            ).scalar_one_or_none()
        if row is not None:
            assert row.wrapped_key is not None
            try:
                self.keyring.unwrap(row.kek_id, row.wrapped_key, row.id)
            except CryptoError:
                raise MasterKeyMismatch(self.master_key_file) from None
        try:
            async with self.session() as session, session.begin():
                session.add(Setting(name=KEY_CHECK_SETTING, value=key_check_value(self.keyring)))
        except IntegrityError:  # another process wrote it meanwhile: check against that one
            return await self.check_master_key()
        return "written"

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
        session.add(DataKey(id=dek_id, kek_id=kek_id, wrapped_key=wrapped, purpose=purpose, created_at=self.now()))
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
        new tail, so the chain never forks. After the commit the head anchor moves on.
        """
        async with self._audit_lock:
            seq, digest, prev = await self._append_locked(model, fields)
            await self._advance_anchor(model, Head(seq, digest), prev)
            return seq

    async def _append_locked(self, model: type[Any], fields: dict[str, Any]) -> tuple[int, str, str]:
        for attempt in range(20):
            try:
                async with self.session() as session, session.begin():
                    last = (
                        await session.execute(select(model).order_by(model.seq.desc()).limit(1))
                    ).scalar_one_or_none()
                    seq = 1 if last is None else last.seq + 1
                    prev = GENESIS if last is None else last.hash
                    row = {"seq": seq, **fields}
                    digest = entry_hash(prev, row)
                    session.add(model(prev_hash=prev, hash=digest, **row))
                return seq, digest, prev
            except IntegrityError:
                await asyncio.sleep(0.01 * (attempt + 1))
        raise RuntimeError(f"could not append to {model.__tablename__}")

    async def _hash_at(self, model: type[Any], seq: int) -> str | None:
        async with self.session() as session:
            return (await session.execute(select(model.hash).where(model.seq == seq))).scalar_one_or_none()

    def _anchor_trouble(self, table: str, message: str) -> None:
        """Logged once per table and process: the bot appends often."""
        if table not in self._anchor_warned:
            self._anchor_warned.add(table)
            log.error("audit anchor: %s; run 'clusterbot audit verify'", message)

    async def _advance_anchor(self, model: type[Any], head: Head, prev: str) -> None:
        """Move the anchored head of ``model``'s table to ``head`` (just committed).

        Only from a head still present in the table: if the anchored entry is gone or
        different (entries removed or rewritten), the anchor stays where it is, as
        evidence for ``audit verify``, however many entries are appended afterwards.
        """
        if self.anchor is None:
            return
        table = model.__tablename__
        checked: Head | None = None
        for _ in range(10):
            try:
                outcome, current = await asyncio.to_thread(
                    self.anchor.advance, self.keyring, table, head, prev, checked
                )
            except (AnchorError, OSError) as exc:
                self._anchor_trouble(table, f"not updated: {exc}")
                return
            if outcome in ("check", "ahead", "diverged"):
                assert current is not None
                if outcome == "diverged" or await self._hash_at(model, current.count) != current.hash:
                    self._anchor_trouble(
                        table,
                        f"{table} no longer holds its anchored head (entry {current.count}): entries were "
                        "removed or rewritten; the anchor is left as it is",
                    )
                    return
                if outcome == "check":
                    checked = current
                    continue
                return  # "ahead": another process has anchored a newer head
            if outcome == "created" and head.count > 1:
                await self._anchor_created(table, head.count)
            return

    async def _anchor_created(self, table: str, count: int) -> None:
        """An existing table got its first anchored head (a deployment from before anchors,
        or the anchor file was lost): say so in the log and in the chain itself."""
        assert self.anchor is not None
        log.warning(
            "audit anchor: %s had no anchored head; anchored now at entry %d in %s "
            "(entries removed before now cannot be detected)",
            table,
            count,
            self.anchor.path,
        )
        fields = {
            "ts": self.now(),
            "actor_id": "clusterbot",
            "actor_role": "system",
            "action": "audit.anchor_created",
            "object_id": table,
            "outcome": "done",
        }
        seq, digest, prev = await self._append_locked(AuditEntry, fields)
        await self._advance_anchor(AuditEntry, Head(seq, digest), prev)

    async def audit(self, actor_id: str, actor_role: str, action: str, object_id: str | None, outcome: str) -> int:
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

    async def audit_entries(self) -> list[AuditRow]:
        """The whole audit chain as frozen rows (operators' exports and tests)."""
        async with self.session() as session:
            rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars()
            return [AuditRow(**{f: getattr(r, f) for f in AuditRow.__dataclass_fields__}) for r in rows]

    async def verify_audit(self) -> ChainProblem | None:
        return (await self.verify_chained(AuditEntry, AUDIT_FIELDS)).problem

    async def verify_chained(self, model: type[Any], fields: tuple[str, ...]) -> ChainReport:
        """Check a chained table: the chain itself, then its head against the anchor.

        The anchor is read *before* the table: an append committing meanwhile then only
        makes the table longer than the anchor (allowed), never shorter. A missing
        anchor (or a table without a head in it) is created from the verified table.
        """
        table = model.__tablename__
        anchor_error: AnchorError | None = None
        head: Head | None = None
        if self.anchor is not None:
            try:
                head = ((await asyncio.to_thread(self.anchor.read, self.keyring)) or {}).get(table)
            except AnchorError as exc:
                anchor_error = exc
        async with self.session() as session:
            rows = list((await session.execute(select(model).order_by(model.seq))).scalars())
        count = len(rows)
        problem = verify_chain([(r.seq, r.prev_hash, r.hash, {f: getattr(r, f) for f in fields}) for r in rows])
        if problem is not None or self.anchor is None:
            return ChainReport(problem, count)
        if anchor_error is not None:
            return ChainReport(ChainProblem(0, str(anchor_error)), count)
        if head is None:
            if count == 0:
                return ChainReport(None, 0)
            try:
                outcome, _ = await asyncio.to_thread(
                    self.anchor.advance, self.keyring, table, Head(count, rows[-1].hash), rows[-1].prev_hash
                )
            except (AnchorError, OSError) as exc:
                return ChainReport(ChainProblem(0, f"no anchored head, and it cannot be created: {exc}"), count)
            if outcome != "created":
                return await self.verify_chained(model, fields)  # created meanwhile by an append
            note = (
                f"no head anchor existed for {table}: created {self.anchor.path} at entry {count}; "
                "entries removed before now cannot be detected"
            )
            if count > 1:
                async with self._audit_lock:
                    await self._anchor_created(table, count)
            return ChainReport(None, count, note)
        by_seq = {r.seq: r.hash for r in rows}
        problem = compare_with_anchor(count, by_seq.get, head, self.anchor.path)
        lag = f"{count - head.count} newest entries are not anchored yet (appended during the check?)"
        return ChainReport(problem, count, lag if problem is None and count > head.count else None)

    def chained_tables(self) -> dict[str, tuple[type[Any], tuple[str, ...]]]:
        """The hash-chained tables with their hashed fields."""
        from storage.models import CONSENT_FIELDS, ConsentDecision

        return {"audit_log": (AuditEntry, AUDIT_FIELDS), "consent_ledger": (ConsentDecision, CONSENT_FIELDS)}

    async def reanchor(self) -> list[tuple[str, int | None, int]]:
        """Anchor the current heads of all chained tables (after a deliberate restore of an
        older database); returns (table, previously anchored count, new count).

        Refused (ValueError) when a chain itself is broken: that is not fixed by
        re-anchoring. The change is recorded in the audit log.
        """
        if self.anchor is None:
            raise ValueError("no anchor file is kept for this storage")
        async with self._audit_lock:
            heads: dict[str, Head] = {}
            for table, (model, fields) in self.chained_tables().items():
                async with self.session() as session:
                    rows = list((await session.execute(select(model).order_by(model.seq))).scalars())
                problem = verify_chain([(r.seq, r.prev_hash, r.hash, {f: getattr(r, f) for f in fields}) for r in rows])
                if problem is not None:
                    raise ValueError(f"{table} is BROKEN at {problem}; re-anchoring does not repair a chain")
                if rows:
                    heads[table] = Head(len(rows), rows[-1].hash)
            old = (await asyncio.to_thread(self.anchor.reset, self.keyring, heads)) or {}
            changes: list[tuple[str, int | None, int]] = []
            for table in self.chained_tables():
                before = old[table].count if table in old else None
                changes.append((table, before, heads[table].count if table in heads else 0))
            self._anchor_warned.clear()
            for table, before, after in changes:
                fields_ = {
                    "ts": self.now(),
                    "actor_id": "operator",
                    "actor_role": "admin",
                    "action": "audit.reanchor",
                    "object_id": f"{table}:{'-' if before is None else before}>{after}",
                    "outcome": "done",
                }
                seq, digest, prev = await self._append_locked(AuditEntry, fields_)
                await self._advance_anchor(AuditEntry, Head(seq, digest), prev)
            return changes

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
            # the key check moves to the new key in the same transaction: the key file holds
            # old and new keys until the rows are committed, so it matches at every instant
            check = await session.get(Setting, KEY_CHECK_SETTING)
            if check is None:
                session.add(Setting(name=KEY_CHECK_SETTING, value=key_check_value(new_ring)))
            else:
                check.value = key_check_value(new_ring)
        # the audit head anchor is signed with a key derived from the master key: re-sign
        # it while the file still holds the old key (an anchor that does not verify stays
        # as it is, so rotation cannot launder it)
        anchor = HeadAnchor(anchor_path(master_key_file))
        if not await asyncio.to_thread(anchor.resign, new_ring) and anchor.path.exists():
            log.warning(
                "audit anchor %s does not verify and was not re-signed; run 'clusterbot audit verify'", anchor.path
            )
        final = new_ring.only_active()
        final.save(master_key_file)
        self.keyring = final
        return count


__all__ = [
    "KEY_CHECK_SETTING",
    "MATRIX_DEVICE_SETTING",
    "ChainReport",
    "CryptoError",
    "MasterKeyMismatch",
    "SealedKey",
    "Shredded",
    "Storage",
    "key_check_value",
]
