"""Products and their deliveries: the coordinators' files, sealed, and who got them.

A product's file is a blob sealed under the product's own data key; its name is sealed
in ``filename_enc`` under the same key. Everything else on the row (level, audience,
state, schedule) is what the broadcast workflow needs in clear. A delivery row per
recipient carries the attempts, the next retry and the (fixed, content-free) last error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage.blobs import new_blob_id
from storage.models import Delivery, Product, ProductSource, Submission
from storage.store import Storage
from storage.timeutil import as_utc, as_utc_or_none

from . import ids

DRAFT_STATES = ("draft", "awaiting_confirm")


@dataclass(frozen=True)
class ProductView:
    id: int
    created_by: int | None
    mimetype: str
    level: str
    audience: str
    state: str
    scheduled_at: datetime | None
    created_at: datetime
    sources: tuple[int, ...]  # declared source submissions, ascending

    @property
    def public_id(self) -> str:
        return f"{ids.product_id(self.id)}"


@dataclass(frozen=True)
class ProductFile:
    name: str
    mimetype: str
    data: bytes


@dataclass(frozen=True)
class DeliveryView:
    id: int
    product_id: int
    user_id: int
    state: str  # pending | delivered | failed | refused
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class ProductShare:
    """A product built from one of an organisation's submissions, and how far it went."""

    product_id: int
    submission_id: int
    delivered: int


def _filename_aad(product_id: int) -> str:
    return f"product:{product_id}:filename"


def _delivery(row: Delivery) -> DeliveryView:
    return DeliveryView(
        row.id,
        row.product_id,
        row.user_id,
        row.state,
        row.attempts,
        row.last_error,
        as_utc_or_none(row.delivered_at),
        as_utc_or_none(row.next_attempt_at),
    )


class ProductRepo:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # ------------------------------------------------------------------ products

    async def create_draft(self, created_by: int | None, filename: str, mimetype: str, data: bytes) -> int:
        """Seal the file (blob) and its name under a new data key; returns the product id."""
        st = self.storage
        async with st.session() as s, s.begin():
            dk = await st.new_data_key(s, "product")
            blob_id = new_blob_id()
            await st.put_blob(dk, blob_id, data)
            p = Product(
                created_by=created_by,
                data_key_id=dk.id,
                blob_id=blob_id,
                filename_enc=b"",
                mimetype=mimetype[:100],
                level="public",
                audience="",
                state="draft",
                created_at=st.now(),
            )
            s.add(p)
            await s.flush()
            p.filename_enc = st.seal_text(dk, _filename_aad(p.id), filename)
            return p.id

    async def _view(self, s: Any, p: Product) -> ProductView:
        sources = (
            await s.execute(
                select(ProductSource.submission_id)
                .where(ProductSource.product_id == p.id)
                .order_by(ProductSource.submission_id)
            )
        ).scalars()
        return ProductView(
            p.id,
            p.created_by,
            p.mimetype,
            p.level,
            p.audience,
            p.state,
            as_utc_or_none(p.scheduled_at),
            as_utc(p.created_at),
            tuple(int(i) for i in sources),
        )

    async def get(self, product_id: int) -> ProductView | None:
        async with self.storage.session() as s:
            p = await s.get(Product, product_id)
            return None if p is None else await self._view(s, p)

    async def latest_draft(self, user_id: int) -> ProductView | None:
        """The user's newest product still a draft or awaiting confirmation."""
        async with self.storage.session() as s:
            p = (
                await s.execute(
                    select(Product)
                    .where(Product.created_by == user_id, Product.state.in_(DRAFT_STATES))
                    .order_by(Product.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            return None if p is None else await self._view(s, p)

    async def read_file(self, product_id: int) -> ProductFile:
        """The product's file and name, unsealed (raises ``Shredded`` when its key is gone)."""
        st = self.storage
        async with st.session() as s:
            p = await s.get(Product, product_id)
            if p is None:
                raise KeyError(product_id)
            dk = await st.data_key(s, p.data_key_id)
            blob_id, mimetype, sealed_name = p.blob_id, p.mimetype, p.filename_enc or b""
        name = st.open_text(dk, _filename_aad(product_id), sealed_name)
        assert blob_id is not None
        return ProductFile(name, mimetype, await st.get_blob(dk, blob_id))

    async def set_state(self, product_id: int, state: str) -> bool:
        return await self.storage.update_row(Product, product_id, state=state)

    async def prepare(
        self, product_id: int, *, audience: str, level: str, scheduled_at: datetime | None, sources: Iterable[int]
    ) -> None:
        """Fix audience, level, time and declared sources; the product awaits confirmation."""
        async with self.storage.session() as s, s.begin():
            p = await s.get(Product, product_id)
            if p is None:
                raise KeyError(product_id)
            p.audience, p.level, p.state, p.scheduled_at = audience, level, "awaiting_confirm", scheduled_at
            for sid in sources:
                if await s.get(ProductSource, (product_id, sid)) is None:
                    s.add(ProductSource(product_id=product_id, submission_id=sid))

    async def claim_for_delivery(self, product_id: int) -> ProductView | None:
        """Move a confirmed or scheduled product to ``sending`` (once: a second sweep or a
        restart does not start it again); None when it is not in one of those states."""
        async with self.storage.session() as s, s.begin():
            p = await s.get(Product, product_id)
            if p is None or p.state not in ("awaiting_confirm", "scheduled"):
                return None
            p.state = "sending"
            return await self._view(s, p)

    async def scheduled_due(self, now: datetime) -> list[int]:
        async with self.storage.session() as s:
            rows = await s.execute(select(Product.id).where(Product.state == "scheduled", Product.scheduled_at <= now))
            return [int(i) for i in rows.scalars()]

    # ------------------------------------------------------------------ deliveries

    async def add_deliveries(self, product_id: int, user_ids: Iterable[int], next_attempt_at: datetime) -> None:
        async with self.storage.session() as s, s.begin():
            for uid in user_ids:
                s.add(
                    Delivery(
                        product_id=product_id, user_id=uid, state="pending", attempts=0, next_attempt_at=next_attempt_at
                    )
                )

    async def deliveries(self, product_id: int) -> list[DeliveryView]:
        async with self.storage.session() as s:
            rows = await s.execute(select(Delivery).where(Delivery.product_id == product_id).order_by(Delivery.id))
            return [_delivery(r) for r in rows.scalars()]

    async def due_deliveries(self, product_id: int, now: datetime) -> list[DeliveryView]:
        """Pending deliveries of the product whose next attempt is due."""
        async with self.storage.session() as s:
            rows = await s.execute(
                select(Delivery)
                .where(Delivery.product_id == product_id, Delivery.state == "pending", Delivery.next_attempt_at <= now)
                .order_by(Delivery.id)
            )
            return [_delivery(r) for r in rows.scalars()]

    async def pending_ids(self, product_id: int) -> list[int]:
        async with self.storage.session() as s:
            rows = await s.execute(
                select(Delivery.id)
                .where(Delivery.product_id == product_id, Delivery.state == "pending")
                .order_by(Delivery.id)
            )
            return [int(i) for i in rows.scalars()]

    async def retries_due(self, now: datetime) -> list[int]:
        """Products with a pending delivery due now."""
        async with self.storage.session() as s:
            rows = await s.execute(
                select(Delivery.product_id)
                .where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
                .distinct()
            )
            return [int(i) for i in rows.scalars()]

    async def record_attempt(
        self,
        delivery_id: int,
        error: str | None,
        now: datetime,
        *,
        give_up: bool,
        max_attempts: int,
        backoff: Callable[[int], timedelta],
    ) -> None:
        """Count one attempt: delivered (``error`` None), or failed for good (``give_up`` or
        ``max_attempts`` reached), or retried at ``now + backoff(attempts)``."""
        async with self.storage.session() as s, s.begin():
            row = await s.get(Delivery, delivery_id)
            if row is None:
                raise KeyError(delivery_id)
            row.attempts += 1
            if error is None:
                row.state, row.delivered_at, row.last_error = "delivered", now, None
                return
            row.last_error = error
            if row.attempts >= max_attempts or give_up:
                row.state = "failed"
            else:
                row.next_attempt_at = now + backoff(row.attempts)

    async def refuse(self, delivery_ids: Iterable[int], why: str) -> int:
        """Mark still-pending deliveries refused (final: never retried); returns how many."""
        done = 0
        async with self.storage.session() as s, s.begin():
            for did in delivery_ids:
                row = await s.get(Delivery, did)
                if row is not None and row.state == "pending":
                    row.state, row.last_error, row.next_attempt_at = "refused", why[:200], None
                    done += 1
        return done

    # ------------------------------------------------------------------ what an organisation's data became

    async def sent_for_org(self, org_id: int | None) -> list[ProductView]:
        """Products in state ``sent`` built from one of the organisation's submissions."""
        async with self.storage.session() as s:
            rows = (
                await s.execute(
                    select(Product)
                    .join(ProductSource, ProductSource.product_id == Product.id)
                    .join(Submission, Submission.id == ProductSource.submission_id)
                    .where(Submission.org_id == org_id, Product.state == "sent")
                    .distinct()
                )
            ).scalars()
            return [await self._view(s, p) for p in list(rows)]

    async def shares_for_org(self, org_id: int | None) -> list[ProductShare]:
        """Every (product, source submission) of the organisation, with deliveries made."""
        async with self.storage.session() as s:
            pairs = (
                await s.execute(
                    select(Product.id, ProductSource.submission_id)
                    .join(ProductSource, ProductSource.product_id == Product.id)
                    .join(Submission, Submission.id == ProductSource.submission_id)
                    .where(Submission.org_id == org_id)
                )
            ).all()
            states = (
                (
                    await s.execute(
                        select(Delivery.product_id, Delivery.state).where(
                            Delivery.product_id.in_([p for p, _ in pairs])
                        )
                    )
                ).all()
                if pairs
                else []
            )
        return [
            ProductShare(int(pid), int(sid), sum(1 for p, st in states if p == pid and st == "delivered"))
            for pid, sid in pairs
        ]


__all__ = ["DeliveryView", "ProductFile", "ProductRepo", "ProductShare", "ProductView"]
