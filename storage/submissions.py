"""Submissions and their versions: every file sealed under its own data key.

A version row keeps only what the workflow needs in clear (level, verdict,
category names, size, state); the file, its name and the masked findings are
sealed. Shredding a version destroys its data key and deletes its blob.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from storage.blobs import new_blob_id
from storage.models import Organisation, Submission, SubmissionVersion
from storage.store import Shredded, Storage
from storage.timeutil import as_utc

from . import ids


class SubState(StrEnum):
    """Where a submission is.  Stored as its value; compares equal to the plain string."""

    HELD = "held"  # unlabelled sensitive data: waits for a label, a pseudonymised copy or withdrawal
    LOCKED = "locked"  # password protected: waits for !password
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"
    DELETED = "deleted"
    EXPIRED = "expired"


#: a submission a partner can still act on (label, withdraw, password)
OPEN_STATES = (SubState.HELD, SubState.LOCKED)
#: states whose content is gone (crypto-shredded)
GONE_STATES = (SubState.WITHDRAWN, SubState.DELETED, SubState.EXPIRED)


class VersionState(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # a pseudonymised copy offered, not yet chosen
    SUPERSEDED = "superseded"
    SHREDDED = "shredded"


@dataclass(frozen=True)
class ScreeningResult:
    """The parts of a screening verdict that are stored (findings sealed)."""

    verdict: str
    required_level: str | None
    label: str | None
    categories: tuple[str, ...]
    findings: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class VersionView:
    version: int
    kind: str
    state: str
    verdict: str
    label: str | None
    required_level: str | None
    categories: tuple[str, ...]
    size: int
    mimetype: str
    created_at: datetime


@dataclass(frozen=True)
class SubmissionView:
    id: int
    org_id: int
    org_name: str
    submitter_id: int | None
    state: str
    level: str | None
    current_version: int
    created_at: datetime
    expires_at: datetime | None
    versions: tuple[VersionView, ...]

    @property
    def public_id(self) -> str:
        return f"{ids.sub_id(self.id)}"

    @property
    def current(self) -> VersionView:
        return next(v for v in self.versions if v.version == self.current_version)

    def version(self, n: int) -> VersionView | None:
        return next((v for v in self.versions if v.version == n), None)


@dataclass(frozen=True)
class SubmissionBrief:
    """A submission's state and organisation, without its versions."""

    id: int
    org_id: int
    state: str


@dataclass(frozen=True)
class StoredVersion:
    """A submission version whose sealed file still exists (for content comparisons)."""

    submission_id: int
    version: int
    blob_id: str
    size: int


def parse_submission_id(text: str) -> int | None:
    return ids.parse_public_id(ids.SUBMISSION, text)


class SubmissionRepo:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def create(
        self,
        *,
        org_id: int,
        submitter_id: int | None,
        data: bytes,
        filename: str,
        mimetype: str,
        result: ScreeningResult,
        state: str,
        level: str | None,
        expires_at: datetime | None,
        source_key: str | None = None,
    ) -> int:
        """Store a new submission; with ``source_key`` (its incoming event), at most once:
        handling the same event again returns the submission stored the first time."""
        now = self.storage.now()
        async with self.storage.session() as s, s.begin():
            if source_key is not None:
                existing = (
                    await s.execute(select(Submission.id).where(Submission.source_key == source_key))
                ).scalar_one_or_none()
                if existing is not None:
                    return int(existing)
            sub = Submission(
                org_id=org_id,
                submitter_id=submitter_id,
                state=state,
                level=level,
                current_version=1,
                created_at=now,
                updated_at=now,
                expires_at=expires_at,
                source_key=source_key,
            )
            s.add(sub)
            await s.flush()
            await self._add_version(s, sub.id, 1, "original", data, filename, mimetype, result, "active")
            return sub.id

    async def add_version(
        self,
        sub_id: int,
        *,
        kind: str,
        data: bytes,
        filename: str,
        mimetype: str,
        result: ScreeningResult,
        state: str,
    ) -> int:
        async with self.storage.session() as s, s.begin():
            rows = (
                await s.execute(select(SubmissionVersion.version).where(SubmissionVersion.submission_id == sub_id))
            ).scalars()
            n = max(rows, default=0) + 1
            await self._add_version(s, sub_id, n, kind, data, filename, mimetype, result, state)
            return n

    async def _add_version(
        self,
        s: Any,
        sub_id: int,
        n: int,
        kind: str,
        data: bytes,
        filename: str,
        mimetype: str,
        result: ScreeningResult,
        state: str,
    ) -> None:
        dk = await self.storage.new_data_key(s, "submission")
        blob_id = new_blob_id()
        # the blob is written (fsync + rename) before the row commits: a crash in
        # between leaves an orphan ciphertext nobody can read, never a row without its file
        await self.storage.put_blob(dk, blob_id, data)
        aad = f"submission:{sub_id}:v{n}"
        s.add(
            SubmissionVersion(
                submission_id=sub_id,
                version=n,
                kind=kind,
                data_key_id=dk.id,
                blob_id=blob_id,
                filename_enc=self.storage.seal_text(dk, aad + ":filename", filename),
                findings_enc=self.storage.seal_text(dk, aad + ":findings", json.dumps(list(result.findings))),
                mimetype=mimetype[:100],
                size=len(data),
                label=result.label,
                required_level=result.required_level,
                verdict=result.verdict,
                categories=",".join(result.categories),
                state=state,
                created_at=self.storage.now(),
            )
        )

    async def get(self, sub_id: int) -> SubmissionView | None:
        async with self.storage.session() as s:
            row = (
                await s.execute(
                    select(Submission, Organisation.name)
                    .join(Organisation, Submission.org_id == Organisation.id)
                    .where(Submission.id == sub_id)
                )
            ).first()
            if row is None:
                return None
            sub, org_name = row
            versions = (
                await s.execute(
                    select(SubmissionVersion)
                    .where(SubmissionVersion.submission_id == sub_id)
                    .order_by(SubmissionVersion.version)
                )
            ).scalars()
            return SubmissionView(
                id=sub.id,
                org_id=sub.org_id,
                org_name=org_name,
                submitter_id=sub.submitter_id,
                state=sub.state,
                level=sub.level,
                current_version=sub.current_version,
                created_at=as_utc(sub.created_at),
                expires_at=as_utc(sub.expires_at) if sub.expires_at else None,
                versions=tuple(
                    VersionView(
                        version=v.version,
                        kind=v.kind,
                        state=v.state,
                        verdict=v.verdict,
                        label=v.label,
                        required_level=v.required_level,
                        categories=tuple(c for c in v.categories.split(",") if c),
                        size=v.size,
                        mimetype=v.mimetype,
                        created_at=as_utc(v.created_at),
                    )
                    for v in versions
                ),
            )

    async def _version_row(self, s: Any, sub_id: int, n: int) -> SubmissionVersion | None:
        return (
            await s.execute(
                select(SubmissionVersion).where(
                    SubmissionVersion.submission_id == sub_id, SubmissionVersion.version == n
                )
            )
        ).scalar_one_or_none()

    async def read(self, sub_id: int, n: int) -> tuple[str, str, bytes]:
        """(file name, mimetype, content) of one version; raises Shredded when destroyed."""
        async with self.storage.session() as s:
            v = await self._version_row(s, sub_id, n)
            if v is None or v.blob_id is None or v.filename_enc is None:
                raise Shredded(f"S-{sub_id}:v{n}")
            dk = await self.storage.data_key(s, v.data_key_id)
            aad = f"submission:{sub_id}:v{n}"
            filename = self.storage.open_text(dk, aad + ":filename", v.filename_enc)
            mimetype, blob_id = v.mimetype, v.blob_id
        return filename, mimetype, await self.storage.get_blob(dk, blob_id)

    async def findings(self, sub_id: int, n: int) -> list[dict[str, Any]]:
        async with self.storage.session() as s:
            v = await self._version_row(s, sub_id, n)
            if v is None or v.findings_enc is None:
                return []
            dk = await self.storage.data_key(s, v.data_key_id)
            return list(json.loads(self.storage.open_text(dk, f"submission:{sub_id}:v{n}:findings", v.findings_enc)))

    async def update(self, sub_id: int, **fields: Any) -> None:
        if not await self.storage.update_row(Submission, sub_id, updated_at=self.storage.now(), **fields):
            raise KeyError(sub_id)

    async def set_version_state(self, sub_id: int, n: int, state: str, *, label: str | None = None) -> None:
        async with self.storage.session() as s, s.begin():
            v = await self._version_row(s, sub_id, n)
            if v is None:
                raise KeyError(n)
            v.state = state
            if label is not None:
                v.label = label

    async def set_result(self, sub_id: int, n: int, result: ScreeningResult) -> None:
        async with self.storage.session() as s, s.begin():
            v = await self._version_row(s, sub_id, n)
            if v is None:
                raise KeyError(n)
            dk = await self.storage.data_key(s, v.data_key_id)
            v.findings_enc = self.storage.seal_text(
                dk, f"submission:{sub_id}:v{n}:findings", json.dumps(list(result.findings))
            )
            v.label, v.required_level, v.verdict = result.label, result.required_level, result.verdict
            v.categories = ",".join(result.categories)

    async def shred_version(self, sub_id: int, n: int) -> None:
        async with self.storage.session() as s, s.begin():
            v = await self._version_row(s, sub_id, n)
            if v is None or v.state == VersionState.SHREDDED:
                return
            await self.storage.shred(s, v.data_key_id)
            blob_id = v.blob_id
            v.blob_id = None
            v.filename_enc = None
            v.findings_enc = None
            v.state = VersionState.SHREDDED
            v.shredded_at = self.storage.now()
        if blob_id:
            self.storage.blobs.delete(blob_id)

    async def shred_all(self, sub_id: int, final_state: str) -> None:
        view = await self.get(sub_id)
        if view is None:
            return
        for v in view.versions:
            await self.shred_version(sub_id, v.version)
        await self.update(sub_id, state=final_state, expires_at=None)

    async def ids_for(self, *, org_id: int | None = None, states: tuple[str, ...] | None = None) -> list[int]:
        async with self.storage.session() as s:
            q = select(Submission.id).order_by(Submission.id)
            if org_id is not None:
                q = q.where(Submission.org_id == org_id)
            if states is not None:
                q = q.where(Submission.state.in_(states))
            return list((await s.execute(q)).scalars())

    async def briefs(self, ids: list[int] | tuple[int, ...]) -> dict[int, SubmissionBrief]:
        """State and organisation of the given submissions (absent ids are left out)."""
        if not ids:
            return {}
        async with self.storage.session() as s:
            rows = await s.execute(
                select(Submission.id, Submission.org_id, Submission.state).where(Submission.id.in_(list(ids)))
            )
            return {int(i): SubmissionBrief(int(i), int(o), str(st)) for i, o, st in rows.all()}

    async def readable_versions(self, states: tuple[str, ...]) -> list[StoredVersion]:
        """Every not-shredded version of the submissions in ``states`` (no content read)."""
        async with self.storage.session() as s:
            rows = await s.execute(
                select(
                    SubmissionVersion.submission_id,
                    SubmissionVersion.version,
                    SubmissionVersion.blob_id,
                    SubmissionVersion.size,
                )
                .join(Submission, Submission.id == SubmissionVersion.submission_id)
                .where(
                    Submission.state.in_(states),
                    SubmissionVersion.blob_id.is_not(None),
                    SubmissionVersion.state != VersionState.SHREDDED,
                )
                .order_by(SubmissionVersion.submission_id, SubmissionVersion.version)
            )
            return [StoredVersion(int(a), int(b), str(c), int(d)) for a, b, c, d in rows.all()]

    async def due(self, before: datetime, states: tuple[str, ...], *, unwarned: bool = False) -> list[int]:
        async with self.storage.session() as s:
            q = select(Submission.id).where(
                Submission.state.in_(states), Submission.expires_at.is_not(None), Submission.expires_at <= before
            )
            if unwarned:
                q = q.where(Submission.warned_at.is_(None))
            return list((await s.execute(q.order_by(Submission.id))).scalars())
