"""Incident reports: sealed bodies and events, receipts stored only as slow hashes.

A receipt is ``K<case>-XXXX-XXXX-XXXX-XXXX-XXXX``: the case number (not secret)
followed by 100 random bits in Crockford base32 (no I, L, O, U; easy to read out
and type). Only an scrypt hash of the secret part is stored, so someone with the
database cannot follow up on a report, and a guess costs a slow hash per try.

Times that could be set next to a reporter's identity-bearing records (the audit log,
logs) are stored only to the hour: the creation time of an anonymous report and of its
data key, and of everything added through ``!status`` (which anyone holding the receipt
may send). The data keys of those rows are made here with that coarse time, so the
precise time is never written, not even briefly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import new_key
from storage.models import AuditEntry, DataKey, Incident, IncidentEvent
from storage.store import SealedKey, Shredded, Storage
from storage.timeutil import as_utc

from . import ids

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def to_the_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def new_receipt_secret() -> str:
    """100 random bits as 20 Crockford base32 characters."""
    n = secrets.randbits(100)
    return "".join(CROCKFORD[(n >> (5 * i)) & 31] for i in range(20))


def format_receipt(case_id: int, secret: str) -> str:
    return f"K{case_id}-" + "-".join(secret[i : i + 4] for i in range(0, 20, 4))


def parse_receipt(text: str) -> tuple[int, str] | None:
    """Lenient parsing: case-insensitive, spaces/dashes anywhere, O/I/L read as 0/1/1."""
    t = text.strip().upper().replace(" ", "")
    if not t.startswith("K"):
        return None
    head, _, rest = t[1:].partition("-")
    if not head.isdigit():
        return None
    secret = rest.replace("-", "").translate(_TRANSLATE)
    if len(secret) != 20 or any(c not in CROCKFORD for c in secret):
        return None
    return int(head), secret


def hash_receipt(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return (
        f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )


def check_receipt(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


@dataclass(frozen=True)
class EventView:
    kind: str
    actor_role: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class IncidentView:
    id: int
    anonymous: bool
    reporter_id: int | None
    state: str
    severity: str | None
    created_at: datetime
    acked_at: datetime | None
    closed_at: datetime | None
    body: dict[str, Any]
    events: tuple[EventView, ...]

    @property
    def public_id(self) -> str:
        return f"{ids.incident_id(self.id)}"


class IncidentRepo:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def _data_key(self, s: AsyncSession, purpose: str, *, coarse: bool) -> tuple[SealedKey, datetime]:
        """A new data key and the time to store with its row: to the hour when ``coarse``.

        Same as ``Storage.new_data_key``, except that the key's row gets the given time from
        the start (updating it afterwards would leave the precise time in the database's
        old row versions).
        """
        now = self.storage.now()
        if not coarse:
            return await self.storage.new_data_key(s, purpose), now
        when = to_the_hour(now)
        dek_id, dek = secrets.token_hex(16), new_key()
        kek_id, wrapped = self.storage.keyring.wrap(dek, dek_id)
        s.add(DataKey(id=dek_id, kek_id=kek_id, wrapped_key=wrapped, purpose=purpose, created_at=when))
        await s.flush()
        return SealedKey(dek_id, dek), when

    async def create(
        self, body: dict[str, Any], *, anonymous: bool, reporter_id: int | None, severity: str, receipt_hash: str
    ) -> int:
        """Store a report; an anonymous one with its times kept to the hour."""
        async with self.storage.session() as s, s.begin():
            dk, when = await self._data_key(s, "incident", coarse=anonymous)
            inc = Incident(
                receipt_hash=receipt_hash,
                anonymous=anonymous,
                reporter_id=None if anonymous else reporter_id,
                state="new",
                severity=severity,
                data_key_id=dk.id,
                body_enc=b"",
                created_at=when,
            )
            s.add(inc)
            await s.flush()
            inc.body_enc = self.storage.seal_text(dk, f"incident:{inc.id}:body", json.dumps(body))
            return inc.id

    async def update(self, inc_id: int, **fields: Any) -> None:
        if not await self.storage.update_row(Incident, inc_id, **fields):
            raise KeyError(inc_id)

    async def add_event(self, inc_id: int, kind: str, actor_role: str, text: str, *, coarse: bool = False) -> None:
        """Add to a case; ``coarse`` keeps its times to the hour (what the reporter adds)."""
        async with self.storage.session() as s, s.begin():
            dk, when = await self._data_key(s, "incident_event", coarse=coarse)
            ev = IncidentEvent(
                incident_id=inc_id,
                kind=kind,
                actor_role=actor_role,
                data_key_id=dk.id,
                text_enc=b"",
                created_at=when,
            )
            s.add(ev)
            await s.flush()
            ev.text_enc = self.storage.seal_text(dk, f"incident_event:{ev.id}", text)

    async def receipt_hash(self, inc_id: int) -> str | None:
        async with self.storage.session() as s:
            inc = await s.get(Incident, inc_id)
            return None if inc is None or inc.state == "shredded" else inc.receipt_hash

    async def anonymous_reports(self) -> list[tuple[int, datetime]]:
        """(id, hour received) of every anonymous report, shredded ones included."""
        async with self.storage.session() as s:
            rows = await s.execute(select(Incident.id, Incident.created_at).where(Incident.anonymous.is_(True)))
            return [(i, as_utc(t)) for i, t in rows.all()]

    async def additions(self) -> dict[int, list[datetime]]:
        """The hours of what was added with ``!status ... add``, per case, oldest first."""
        async with self.storage.session() as s:
            rows = await s.execute(
                select(IncidentEvent.incident_id, IncidentEvent.created_at)
                .where(IncidentEvent.kind == "info")
                .order_by(IncidentEvent.id)
            )
            out: dict[int, list[datetime]] = {}
            for inc_id, when in rows.all():
                out.setdefault(inc_id, []).append(as_utc(when))
            return out

    async def audited(self, action: str) -> dict[str, int]:
        """How many audit entries of ``action`` each object has."""
        async with self.storage.session() as s:
            rows = await s.execute(
                select(AuditEntry.object_id, func.count())
                .where(AuditEntry.action == action, AuditEntry.object_id.is_not(None))
                .group_by(AuditEntry.object_id)
            )
            return {str(obj): int(n) for obj, n in rows.all()}

    async def get(self, inc_id: int) -> IncidentView | None:
        async with self.storage.session() as s:
            inc = await s.get(Incident, inc_id)
            if inc is None or inc.state == "shredded":
                return None
            try:
                dk = await self.storage.data_key(s, inc.data_key_id)
            except Shredded:
                return None
            body = json.loads(self.storage.open_text(dk, f"incident:{inc.id}:body", inc.body_enc or b""))
            events = []
            for ev in (
                await s.execute(
                    select(IncidentEvent).where(IncidentEvent.incident_id == inc_id).order_by(IncidentEvent.id)
                )
            ).scalars():
                try:
                    edk = await self.storage.data_key(s, ev.data_key_id)
                except Shredded:
                    continue
                events.append(
                    EventView(
                        ev.kind,
                        ev.actor_role,
                        self.storage.open_text(edk, f"incident_event:{ev.id}", ev.text_enc or b""),
                        as_utc(ev.created_at),
                    )
                )
            return IncidentView(
                id=inc.id,
                anonymous=inc.anonymous,
                reporter_id=inc.reporter_id,
                state=inc.state,
                severity=inc.severity,
                created_at=as_utc(inc.created_at),
                acked_at=as_utc(inc.acked_at) if inc.acked_at else None,
                closed_at=as_utc(inc.closed_at) if inc.closed_at else None,
                body=body,
                events=tuple(events),
            )

    async def list(self, *, states: tuple[str, ...] | None = None, since: datetime | None = None) -> list[Incident]:
        async with self.storage.session() as s:
            q = select(Incident).where(Incident.state != "shredded").order_by(Incident.id)
            if states is not None:
                q = q.where(Incident.state.in_(states))
            if since is not None:
                q = q.where(Incident.created_at >= since)
            return list((await s.execute(q)).scalars())

    async def shred(self, inc_id: int) -> None:
        async with self.storage.session() as s, s.begin():
            inc = await s.get(Incident, inc_id)
            if inc is None:
                return
            await self.storage.shred(s, inc.data_key_id)
            for ev in (await s.execute(select(IncidentEvent).where(IncidentEvent.incident_id == inc_id))).scalars():
                await self.storage.shred(s, ev.data_key_id)
                ev.text_enc = None
            inc.body_enc = None
            inc.receipt_hash = "shredded"
            inc.state = "shredded"
            inc.shredded_at = self.storage.now()
