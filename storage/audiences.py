"""Named audiences: lists of organisations that guidance notes and products may go to.

Nothing here is sealed: an audience is a name and a set of organisation ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from storage.models import Audience, AudienceMember, Organisation
from storage.store import Storage
from storage.timeutil import as_utc


@dataclass(frozen=True)
class OrgView:
    id: int
    name: str
    sector: str | None


@dataclass(frozen=True)
class AudienceView:
    id: int
    name: str
    created_at: datetime
    org_ids: frozenset[int]


class AudienceRepo:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def organisations(self) -> list[OrgView]:
        """Every organisation (id order), the material audiences are made of."""
        async with self.storage.session() as s:
            rows = await s.execute(select(Organisation).order_by(Organisation.id))
            return [OrgView(o.id, o.name, o.sector) for o in rows.scalars()]

    async def names(self) -> list[str]:
        async with self.storage.session() as s:
            return sorted(str(n) for n in (await s.execute(select(Audience.name))).scalars())

    async def get(self, name: str) -> AudienceView | None:
        """The named audience (exact name) with its member organisations."""
        async with self.storage.session() as s:
            aud = (await s.execute(select(Audience).where(Audience.name == name))).scalar_one_or_none()
            if aud is None:
                return None
            ids = (await s.execute(select(AudienceMember.org_id).where(AudienceMember.audience_id == aud.id))).scalars()
            return AudienceView(aud.id, aud.name, as_utc(aud.created_at), frozenset(int(i) for i in ids))

    async def create(self, name: str, now: datetime) -> int:
        async with self.storage.session() as s, s.begin():
            aud = Audience(name=name, created_at=now)
            s.add(aud)
            await s.flush()
            return aud.id

    async def delete(self, name: str) -> bool:
        """Delete the audience and its memberships; False when there is none of that name."""
        async with self.storage.session() as s, s.begin():
            aud = (await s.execute(select(Audience).where(Audience.name == name))).scalar_one_or_none()
            if aud is None:
                return False
            await s.execute(delete(AudienceMember).where(AudienceMember.audience_id == aud.id))
            await s.delete(aud)
            return True

    async def add_member(self, audience_id: int, org_id: int) -> bool:
        """Add an organisation; False when it was already a member."""
        async with self.storage.session() as s, s.begin():
            if await s.get(AudienceMember, (audience_id, org_id)) is not None:
                return False
            s.add(AudienceMember(audience_id=audience_id, org_id=org_id))
            return True

    async def remove_member(self, audience_id: int, org_id: int) -> None:
        async with self.storage.session() as s, s.begin():
            await s.execute(
                delete(AudienceMember).where(AudienceMember.audience_id == audience_id, AudienceMember.org_id == org_id)
            )


__all__ = ["AudienceRepo", "AudienceView", "OrgView"]
