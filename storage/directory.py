"""The directory: organisations and users with their roles (the admin CLI's backend)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from storage.models import Organisation, User
from storage.store import Storage

ROLES = ("partner", "imo", "coordinator", "admin")


class DirectoryError(Exception):
    """A directory change that cannot be made, phrased for the operator."""


@dataclass(frozen=True)
class UserInfo:
    """What the core knows about a sender; frozen so handlers cannot edit it."""

    id: int
    matrix_id: str | None
    telegram_id: str | None
    role: str
    org_id: int | None
    org_name: str | None

    @property
    def audit_id(self) -> str:
        """The id written to the audit log: internal, not the chat handle."""
        return f"user:{self.id}"


def _id_column(transport: str) -> str:
    return "telegram_id" if transport == "telegram" else "matrix_id"


class Directory:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def add_org(self, name: str, sector: str | None = None) -> int:
        name = name.strip()
        if not name:
            raise DirectoryError("organisation name must not be empty")
        async with self.storage.session() as s, s.begin():
            if (await s.execute(select(Organisation).where(Organisation.name == name))).scalar_one_or_none():
                raise DirectoryError(f"organisation {name!r} already exists")
            org = Organisation(
                name=name, sector=sector, pseudonym="ORG-" + secrets.token_hex(3).upper(), created_at=self.storage.now()
            )
            s.add(org)
            await s.flush()
            return org.id

    async def list_orgs(self) -> list[Organisation]:
        async with self.storage.session() as s:
            return list((await s.execute(select(Organisation).order_by(Organisation.name))).scalars())

    async def org_by_name(self, name: str) -> Organisation | None:
        async with self.storage.session() as s:
            return (await s.execute(select(Organisation).where(Organisation.name == name))).scalar_one_or_none()

    async def add_user(
        self, handle: str, *, role: str, org: str | None = None, transport: str = "matrix"
    ) -> int:
        if role not in ROLES:
            raise DirectoryError(f"role must be one of {', '.join(ROLES)}")
        if transport == "matrix" and not (handle.startswith("@") and ":" in handle):
            raise DirectoryError("a Matrix id looks like @name:server")
        if role == "partner" and not org:
            raise DirectoryError("a partner needs --org")
        async with self.storage.session() as s, s.begin():
            org_id = None
            if org:
                org_row = (await s.execute(select(Organisation).where(Organisation.name == org))).scalar_one_or_none()
                if org_row is None:
                    raise DirectoryError(f"no organisation named {org!r} (add it with 'admin org add')")
                org_id = org_row.id
            col = getattr(User, _id_column(transport))
            if (await s.execute(select(User).where(col == handle))).scalar_one_or_none():
                raise DirectoryError(f"user {handle} already exists")
            user = User(role=role, org_id=org_id, active=True, created_at=self.storage.now())
            setattr(user, _id_column(transport), handle)
            s.add(user)
            await s.flush()
            return user.id

    async def link_telegram(self, matrix_id: str, telegram_id: str) -> None:
        async with self.storage.session() as s, s.begin():
            user = (await s.execute(select(User).where(User.matrix_id == matrix_id))).scalar_one_or_none()
            if user is None:
                raise DirectoryError(f"no user {matrix_id}")
            user.telegram_id = telegram_id

    async def remove_user(self, handle: str, transport: str = "matrix") -> None:
        async with self.storage.session() as s, s.begin():
            user = (
                await s.execute(select(User).where(getattr(User, _id_column(transport)) == handle))
            ).scalar_one_or_none()
            if user is None or not user.active:
                raise DirectoryError(f"no user {handle}")
            # keep the row (audit and lineage refer to it) but cut every access
            user.active = False
            user.matrix_id = None
            user.telegram_id = None

    async def set_role(self, handle: str, role: str, transport: str = "matrix") -> None:
        if role not in ROLES:
            raise DirectoryError(f"role must be one of {', '.join(ROLES)}")
        async with self.storage.session() as s, s.begin():
            user = (
                await s.execute(select(User).where(getattr(User, _id_column(transport)) == handle))
            ).scalar_one_or_none()
            if user is None:
                raise DirectoryError(f"no user {handle}")
            if role == "partner" and user.org_id is None:
                raise DirectoryError("a partner needs an organisation")
            user.role = role

    async def list_users(self) -> list[UserInfo]:
        async with self.storage.session() as s:
            rows = await s.execute(
                select(User, Organisation.name)
                .outerjoin(Organisation, User.org_id == Organisation.id)
                .where(User.active.is_(True))
                .order_by(User.id)
            )
            return [
                UserInfo(u.id, u.matrix_id, u.telegram_id, u.role, u.org_id, org_name) for u, org_name in rows.all()
            ]

    async def lookup(self, transport: str, handle: str) -> UserInfo | None:
        async with self.storage.session() as s:
            row = (
                await s.execute(
                    select(User, Organisation.name)
                    .outerjoin(Organisation, User.org_id == Organisation.id)
                    .where(getattr(User, _id_column(transport)) == handle, User.active.is_(True))
                )
            ).first()
        if row is None:
            return None
        u, org_name = row
        return UserInfo(u.id, u.matrix_id, u.telegram_id, u.role, u.org_id, org_name)

    async def by_id(self, user_id: int) -> UserInfo | None:
        async with self.storage.session() as s:
            row = (
                await s.execute(
                    select(User, Organisation.name)
                    .outerjoin(Organisation, User.org_id == Organisation.id)
                    .where(User.id == user_id, User.active.is_(True))
                )
            ).first()
        if row is None:
            return None
        u, org_name = row
        return UserInfo(u.id, u.matrix_id, u.telegram_id, u.role, u.org_id, org_name)

    async def users_with_role(self, role: str) -> list[UserInfo]:
        return [u for u in await self.list_users() if u.role == role]

    async def is_known(self, transport: str, handle: str) -> bool:
        return await self.lookup(transport, handle) is not None
