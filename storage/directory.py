"""The directory: organisations and users with their roles (the admin CLI's backend).

Linking a Telegram account to a (Matrix) user takes proof of possession of both: the user
asks for a one-time code in their end-to-end encrypted chat with the bot and sends it to
the bot from Telegram. Codes live in the ``settings`` table, one row each, named by a keyed
hash of the code (HMAC under the storage's sealed key; the code itself is never stored) and
holding only the user's internal id and the expiry. Redeeming deletes the row in the same
transaction that sets ``telegram_id``, so a code works once. Attempts are counted per
Telegram id (keyed hash too) in the same table, so a restart does not reset the limit.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from storage.models import Organisation, Setting, User
from storage.store import Storage

from . import ids

ROLES = ("partner", "imo", "coordinator", "admin")

# One-time link codes: 8 characters without look-alikes (no 0/O, 1/I/L), about 40 bits; a guess
# has to hit one of the few live codes within 10 minutes at 5 tries an hour per Telegram account.
LINK_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LINK_CODE_LENGTH = 8
LINK_CODE_TTL = timedelta(minutes=10)
LINK_TRIES = 5
LINK_TRIES_WINDOW = timedelta(hours=1)
_CODE_ROW = "link-code:"  # + 48 hex characters of a keyed hash of the code
_TRIES_ROW = "link-tries:"  # + 48 hex characters of a keyed hash of the Telegram id

# Join requests (``!join ORG`` from someone not in the directory; handlers/directory_chat.py).
# One settings row each, ``join-req:J-0007``, holding the request sealed under its own data
# key (who asked, from which chat, which organisation) plus a keyed hash of the sender (to
# find their pending request) and the id of the notice posted in the IMO room. Deciding or
# expiring a request shreds its key and deletes the row. Attempts are counted per sender and
# overall (keyed hashes / timestamps only), so a restart does not reset the limits.
JOIN_TTL = timedelta(days=7)
JOIN_TRIES = 3  # per sender and window
JOIN_TRIES_ALL = 30  # from everyone together, per window
JOIN_TRIES_WINDOW = timedelta(hours=1)
JOIN_PENDING_MAX = 20  # undecided requests at once
_JOIN_ROW = "join-req:"
_JOIN_SEQ = "join-req-seq"
_JOIN_TRIES_ROW = "join-tries:"  # + 48 hex characters of a keyed hash of transport:handle
_JOIN_TRIES_ALL = "join-tries-all"


class DirectoryError(Exception):
    """A directory change that cannot be made, phrased for the operator."""


class RoleRefused(DirectoryError):
    """The target (or the new role) is outside the roles the caller may manage."""

    def __init__(self, role: str) -> None:
        super().__init__(f"that user is {role}: not a role you may manage")
        self.role = role


class LinkError(DirectoryError):
    """A link code that cannot be used (wrong, expired, used) or a Telegram id already linked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid" | "already_linked"


def format_link_code(code: str) -> str:
    """``ABCDEFGH`` -> ``ABCD-EFGH`` (easier to read and type; the dash is optional)."""
    return f"{code[:4]}-{code[4:]}"


def normalise_link_code(text: str) -> str | None:
    """What the user typed -> the code, or None if it cannot be one (case, dashes, spaces ignored)."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) != LINK_CODE_LENGTH or any(c not in LINK_CODE_ALPHABET for c in code):
        return None
    return code


@dataclass(frozen=True)
class OrgInfo:
    """An organisation as the workflows see it (a frozen view, not the ORM row)."""

    id: int
    name: str
    sector: str | None
    pseudonym: str

    @classmethod
    def of(cls, org: Organisation) -> OrgInfo:
        return cls(org.id, org.name, org.sector, org.pseudonym)


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


@dataclass(frozen=True)
class JoinRequest:
    """An undecided ``!join`` request, opened."""

    public_id: str  # J-0007
    transport: str
    handle: str
    chat_id: str
    org: str
    created: datetime
    notice_id: str | None


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

    async def list_orgs(self) -> list[OrgInfo]:
        async with self.storage.session() as s:
            return [
                OrgInfo.of(o) for o in (await s.execute(select(Organisation).order_by(Organisation.name))).scalars()
            ]

    async def org(self, org_id: int) -> OrgInfo | None:
        async with self.storage.session() as s:
            org = await s.get(Organisation, org_id)
        return OrgInfo.of(org) if org is not None else None

    async def org_by_name(self, name: str) -> OrgInfo | None:
        async with self.storage.session() as s:
            org = (await s.execute(select(Organisation).where(Organisation.name == name))).scalar_one_or_none()
        return OrgInfo.of(org) if org is not None else None

    async def org_matching(self, name: str) -> OrgInfo | None:
        """The organisation with exactly this name, else the one whose name differs only in case."""
        exact = await self.org_by_name(name)
        if exact is not None:
            return exact
        async with self.storage.session() as s:
            rows = list(
                (
                    await s.execute(select(Organisation).where(func.lower(Organisation.name) == name.strip().lower()))
                ).scalars()
            )
        return OrgInfo.of(rows[0]) if len(rows) == 1 else None

    async def add_user(self, handle: str, *, role: str, org: str | None = None, transport: str = "matrix") -> int:
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
        """The operator's way (``admin user link-telegram``); users link themselves with a code."""
        telegram_id = telegram_id.strip()
        if not telegram_id.isdigit():
            raise DirectoryError("a Telegram id is a number (the user's numeric id, not the @name)")
        taken = f"Telegram id {telegram_id} is already linked to another user (remove that link first)"
        try:
            async with self.storage.session() as s, s.begin():
                user = (await s.execute(select(User).where(User.matrix_id == matrix_id))).scalar_one_or_none()
                if user is None or not user.active:
                    raise DirectoryError(f"no user {matrix_id}")
                other = (await s.execute(select(User).where(User.telegram_id == telegram_id))).scalar_one_or_none()
                if other is not None and other.id != user.id:
                    raise DirectoryError(taken)
                user.telegram_id = telegram_id
        except IntegrityError:  # linked by someone else between our check and the commit
            raise DirectoryError(taken) from None

    # ------------------------------------------------------------------ self-service linking

    async def _row_name(self, prefix: str, purpose: str, value: str) -> str:
        return prefix + (await self.storage.pseudokey(purpose, value))[:48]

    async def issue_link_code(self, user_id: int, now: datetime) -> str:
        """A new one-time code for ``user_id``; any older code of theirs stops working."""
        code = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
        name = await self._row_name(_CODE_ROW, "link-code", code)
        async with self.storage.session() as s, s.begin():
            rows = (await s.execute(select(Setting).where(Setting.name.startswith(_CODE_ROW)))).scalars()
            for row in rows:
                data = json.loads(row.value)
                if data["user"] == user_id or datetime.fromisoformat(data["expires"]) <= now:
                    await s.delete(row)
            s.add(Setting(name=name, value=json.dumps({"user": user_id, "expires": (now + LINK_CODE_TTL).isoformat()})))
        return code

    async def link_attempt_allowed(self, telegram_id: str, now: datetime) -> bool:
        """Count one attempt by ``telegram_id``; False once it made LINK_TRIES in the last hour."""
        name = await self._row_name(_TRIES_ROW, "link-tries", telegram_id)
        since = (now - LINK_TRIES_WINDOW).timestamp()
        try:
            async with self.storage.session() as s, s.begin():
                row = await s.get(Setting, name)
                stamps = [t for t in (json.loads(row.value) if row else []) if t > since]
                if len(stamps) >= LINK_TRIES:
                    return False
                stamps.append(now.timestamp())
                if row is None:
                    s.add(Setting(name=name, value=json.dumps(stamps)))
                else:
                    row.value = json.dumps(stamps)
        except IntegrityError:  # a concurrent first attempt by the same id: count this one as refused
            return False
        return True

    async def redeem_link_code(self, text: str, telegram_id: str, now: datetime) -> tuple[UserInfo, str | None]:
        """Link ``telegram_id`` to the user the code was issued to; returns (user, previous Telegram id).

        Raises ``LinkError("invalid")`` for a wrong, expired or used code (one answer for all,
        so the reply is no oracle) and ``LinkError("already_linked")`` when the Telegram id
        belongs to another user. A failed attempt leaves the code as it was.
        """
        code = normalise_link_code(text)
        if code is None:
            raise LinkError("invalid")
        name = await self._row_name(_CODE_ROW, "link-code", code)
        try:
            async with self.storage.session() as s, s.begin():
                row = await s.get(Setting, name)
                if row is None:
                    raise LinkError("invalid")
                data = json.loads(row.value)
                if datetime.fromisoformat(data["expires"]) <= now:
                    raise LinkError("invalid")
                # single use: of two concurrent redemptions only one deletes the row
                gone = await s.execute(delete(Setting).where(Setting.name == name))
                if getattr(gone, "rowcount", 0) != 1:
                    raise LinkError("invalid")
                user = await s.get(User, int(data["user"]))
                if user is None or not user.active or user.matrix_id is None:
                    raise LinkError("invalid")
                other = (await s.execute(select(User).where(User.telegram_id == telegram_id))).scalar_one_or_none()
                if other is not None and other.id != user.id:
                    raise LinkError("already_linked")
                previous, user.telegram_id = user.telegram_id, telegram_id
                user_id = user.id
        except IntegrityError:  # the Telegram id was linked elsewhere meanwhile
            raise LinkError("already_linked") from None
        info = await self.by_id(user_id)
        assert info is not None
        return info, previous

    async def forget_link_codes(self, now: datetime) -> int:
        """Delete expired codes and attempt counters older than the window; returns how many rows."""
        since = (now - LINK_TRIES_WINDOW).timestamp()
        removed = 0
        async with self.storage.session() as s, s.begin():
            rows = (
                await s.execute(
                    select(Setting).where(Setting.name.startswith(_CODE_ROW) | Setting.name.startswith(_TRIES_ROW))
                )
            ).scalars()
            for row in rows:
                data = json.loads(row.value)
                if row.name.startswith(_CODE_ROW):
                    stale = datetime.fromisoformat(data["expires"]) <= now
                else:
                    stale = not any(t > since for t in data)
                if stale:
                    await s.delete(row)
                    removed += 1
        return removed

    async def remove_user(
        self, handle: str, transport: str = "matrix", *, only_roles: tuple[str, ...] | None = None
    ) -> int:
        """Deactivate a user; returns their internal id. ``only_roles``: refuse anyone else (checked
        in the same transaction as the change, e.g. an IMO removing only partners)."""
        async with self.storage.session() as s, s.begin():
            user = (
                await s.execute(select(User).where(getattr(User, _id_column(transport)) == handle))
            ).scalar_one_or_none()
            if user is None or not user.active:
                raise DirectoryError(f"no user {handle}")
            if only_roles is not None and user.role not in only_roles:
                raise RoleRefused(user.role)
            # keep the row (audit and lineage refer to it) but cut every access
            user.active = False
            user.matrix_id = None
            user.telegram_id = None
            return user.id

    async def set_role(
        self, handle: str, role: str, transport: str = "matrix", *, only_roles: tuple[str, ...] | None = None
    ) -> int:
        """Change a user's role; returns their internal id. ``only_roles``: both the current and the
        new role must be among them (checked in the same transaction as the change)."""
        if role not in ROLES:
            raise DirectoryError(f"role must be one of {', '.join(ROLES)}")
        async with self.storage.session() as s, s.begin():
            user = (
                await s.execute(select(User).where(getattr(User, _id_column(transport)) == handle))
            ).scalar_one_or_none()
            if user is None or not user.active:
                raise DirectoryError(f"no user {handle}")
            if only_roles is not None and (user.role not in only_roles or role not in only_roles):
                raise RoleRefused(user.role if user.role not in only_roles else role)
            if role == "partner" and user.org_id is None:
                raise DirectoryError("a partner needs an organisation")
            user.role = role
            return user.id

    async def list_users(self, org: str | None = None) -> list[UserInfo]:
        """Active users (of the organisation named ``org`` only, when given)."""
        async with self.storage.session() as s:
            query = (
                select(User, Organisation.name)
                .outerjoin(Organisation, User.org_id == Organisation.id)
                .where(User.active.is_(True))
                .order_by(User.id)
            )
            if org is not None:
                query = query.where(Organisation.name == org)
            rows = await s.execute(query)
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

    # ------------------------------------------------------------------ join requests

    async def join_attempt_allowed(self, transport: str, handle: str, now: datetime) -> str | None:
        """Count one ``!join`` attempt; None when allowed, else ``"sender"`` or ``"overall"``."""
        name = await self._row_name(_JOIN_TRIES_ROW, "join-tries", f"{transport}:{handle}")
        since = (now - JOIN_TRIES_WINDOW).timestamp()
        try:
            async with self.storage.session() as s, s.begin():
                mine = await s.get(Setting, name)
                everyone = await s.get(Setting, _JOIN_TRIES_ALL)
                my_stamps = [t for t in (json.loads(mine.value) if mine else []) if t > since]
                all_stamps = [t for t in (json.loads(everyone.value) if everyone else []) if t > since]
                if len(my_stamps) >= JOIN_TRIES:
                    return "sender"
                if len(all_stamps) >= JOIN_TRIES_ALL:
                    return "overall"
                for row, stamps, row_name in ((mine, my_stamps, name), (everyone, all_stamps, _JOIN_TRIES_ALL)):
                    stamps.append(now.timestamp())
                    if row is None:
                        s.add(Setting(name=row_name, value=json.dumps(stamps)))
                    else:
                        row.value = json.dumps(stamps)
        except IntegrityError:  # a concurrent first attempt: count this one as refused
            return "sender"
        return None

    async def create_join_request(
        self, transport: str, handle: str, chat_id: str, org: str, now: datetime
    ) -> tuple[str | None, bool]:
        """Store a request; returns (J-id, created). The sender's pending request is returned
        instead of a new one (created False); (None, False) when too many are pending."""
        who = (await self.storage.pseudokey("join-who", f"{transport}:{handle}"))[:48]
        for _attempt in range(5):
            try:
                async with self.storage.session() as s, s.begin():
                    rows = list((await s.execute(select(Setting).where(Setting.name.startswith(_JOIN_ROW)))).scalars())
                    for row in rows:
                        if json.loads(row.value)["who"] == who:
                            return row.name.removeprefix(_JOIN_ROW), False
                    if len(rows) >= JOIN_PENDING_MAX:
                        return None, False
                    seq_row = await s.get(Setting, _JOIN_SEQ)
                    seq = int(seq_row.value) + 1 if seq_row else 1
                    if seq_row is None:
                        s.add(Setting(name=_JOIN_SEQ, value=str(seq)))
                    else:
                        seq_row.value = str(seq)
                    public_id = f"{ids.join_id(seq)}"
                    key = await self.storage.new_data_key(s, "join-request")
                    body = json.dumps({"transport": transport, "handle": handle, "chat": chat_id, "org": org})
                    sealed = self.storage.seal_text(key, _JOIN_ROW + public_id, body)
                    s.add(
                        Setting(
                            name=_JOIN_ROW + public_id,
                            value=json.dumps(
                                {
                                    "dek": key.id,
                                    "sealed": base64.b64encode(sealed).decode(),
                                    "who": who,
                                    "created": now.isoformat(),
                                    "notice": None,
                                }
                            ),
                        )
                    )
                return public_id, True
            except IntegrityError:  # another request took the same number: take the next one
                continue
        raise DirectoryError("could not store the join request")

    async def join_request(self, public_id: str) -> JoinRequest | None:
        public_id = public_id.strip().upper()
        async with self.storage.session() as s:
            row = await s.get(Setting, _JOIN_ROW + public_id)
            if row is None:
                return None
            data = json.loads(row.value)
            key = await self.storage.data_key(s, data["dek"])
        body = json.loads(self.storage.open_text(key, _JOIN_ROW + public_id, base64.b64decode(data["sealed"])))
        return JoinRequest(
            public_id,
            body["transport"],
            body["handle"],
            body["chat"],
            body["org"],
            datetime.fromisoformat(data["created"]),
            data.get("notice"),
        )

    async def set_join_notice(self, public_id: str, notice_id: str) -> None:
        async with self.storage.session() as s, s.begin():
            row = await s.get(Setting, _JOIN_ROW + public_id)
            if row is not None:
                data = json.loads(row.value)
                data["notice"] = notice_id
                row.value = json.dumps(data)

    async def join_request_for_notice(self, notice_id: str) -> str | None:
        async with self.storage.session() as s:
            rows = (await s.execute(select(Setting).where(Setting.name.startswith(_JOIN_ROW)))).scalars()
            for row in rows:
                if json.loads(row.value).get("notice") == notice_id:
                    return row.name.removeprefix(_JOIN_ROW)
        return None

    async def close_join_request(self, public_id: str) -> bool:
        """Shred and delete a request; False when it was already decided (or expired)."""
        name = _JOIN_ROW + public_id.strip().upper()
        async with self.storage.session() as s, s.begin():
            row = await s.get(Setting, name)
            if row is None:
                return False
            dek = json.loads(row.value)["dek"]
            gone = await s.execute(delete(Setting).where(Setting.name == name))
            if getattr(gone, "rowcount", 0) != 1:  # decided concurrently by someone else
                return False
            await self.storage.shred(s, dek)
        return True

    async def expire_join_requests(self, now: datetime) -> list[str]:
        """Close requests older than JOIN_TTL and forget old attempt counters; returns the closed J-ids."""
        expired: list[str] = []
        since = (now - JOIN_TRIES_WINDOW).timestamp()
        async with self.storage.session() as s, s.begin():
            rows = (
                await s.execute(
                    select(Setting).where(
                        Setting.name.startswith(_JOIN_ROW)
                        | Setting.name.startswith(_JOIN_TRIES_ROW)
                        | (Setting.name == _JOIN_TRIES_ALL)
                    )
                )
            ).scalars()
            for row in rows:
                data = json.loads(row.value)
                if row.name.startswith(_JOIN_ROW):
                    if datetime.fromisoformat(data["created"]) + JOIN_TTL <= now:
                        await self.storage.shred(s, data["dek"])
                        await s.delete(row)
                        expired.append(row.name.removeprefix(_JOIN_ROW))
                elif not any(t > since for t in data):
                    await s.delete(row)
        return expired
