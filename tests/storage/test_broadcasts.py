"""storage.broadcasts.ProductRepo: products (sealed file and name) and their deliveries."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from storage.broadcasts import ProductRepo
from storage.store import Shredded, Storage
from tests.storage.conftest import Cluster, raw_dump

FILE = b"Township,People reached\nSittwe-secret-township,5400\n"
NAME = "reach-report-confidential.csv"


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=5 * attempts)


async def test_draft_is_sealed_and_reads_back(storage: Storage, cluster: Cluster) -> None:
    repo = ProductRepo(storage)
    pid = await repo.create_draft(cluster.coordinator, NAME, "text/csv", FILE)
    view = await repo.get(pid)
    assert view is not None
    assert (view.public_id, view.state, view.level, view.audience, view.sources) == (
        f"P-{pid:04d}",
        "draft",
        "public",
        "",
        (),
    )
    assert view.created_at.tzinfo is not None and view.created_at.utcoffset() == timedelta(0)
    with pytest.raises(FrozenInstanceError):
        view.state = "sent"  # type: ignore[misc]
    f = await repo.read_file(pid)
    assert (f.name, f.mimetype, f.data) == (NAME, "text/csv", FILE)
    dump = await raw_dump(storage)
    assert b"Relief Org" in dump and b"text/csv" in dump  # the dump does show what is in clear
    assert b"Sittwe-secret-township" not in dump and NAME.encode() not in dump
    assert await repo.get(pid + 100) is None
    with pytest.raises(KeyError):
        await repo.read_file(pid + 100)


async def test_read_file_of_a_shredded_product(storage: Storage, cluster: Cluster) -> None:
    from storage.models import Product

    repo = ProductRepo(storage)
    pid = await repo.create_draft(cluster.coordinator, NAME, "text/csv", FILE)
    async with storage.session() as s, s.begin():
        row = await s.get(Product, pid)
        assert row is not None
        await storage.shred(s, row.data_key_id)
    with pytest.raises(Shredded):
        await repo.read_file(pid)


async def test_latest_draft_prepare_and_claim(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    repo = ProductRepo(storage)
    assert await repo.latest_draft(cluster.coordinator) is None
    first = await repo.create_draft(cluster.coordinator, "a.csv", "text/csv", b"x")
    second = await repo.create_draft(cluster.coordinator, "b.csv", "text/csv", b"y")
    assert await repo.latest_draft(cluster.pia) is None
    latest = await repo.latest_draft(cluster.coordinator)
    assert latest is not None and latest.id == second
    when = clock.now() + timedelta(hours=2)
    await repo.prepare(
        second,
        audience="org:Relief Org",
        level="confidential",
        scheduled_at=when,
        sources=[cluster.sub_water, cluster.sub_relief],
    )
    await repo.prepare(
        second, audience="org:Relief Org", level="confidential", scheduled_at=when, sources=[cluster.sub_relief]
    )  # again: sources are not duplicated
    view = await repo.get(second)
    assert view is not None
    assert (view.state, view.audience, view.level) == ("awaiting_confirm", "org:Relief Org", "confidential")
    assert view.scheduled_at == when and view.scheduled_at.tzinfo is not None
    assert view.sources == tuple(sorted((cluster.sub_relief, cluster.sub_water)))
    assert (await repo.latest_draft(cluster.coordinator)).id == second  # type: ignore[union-attr]
    assert await repo.set_state(first, "refused") and not await repo.set_state(9999, "refused")
    with pytest.raises(KeyError):
        await repo.prepare(9999, audience="all", level="public", scheduled_at=None, sources=[])
    # scheduled: due only once its time has come
    assert await repo.set_state(second, "scheduled")
    assert await repo.scheduled_due(clock.now()) == []
    assert await repo.scheduled_due(when) == [second]
    claimed = await repo.claim_for_delivery(second)
    assert claimed is not None and claimed.state == "sending" and claimed.sources == view.sources
    assert await repo.claim_for_delivery(second) is None  # claimed once
    assert await repo.claim_for_delivery(first) is None  # refused: never
    assert await repo.latest_draft(cluster.coordinator) is None


async def test_deliveries_attempts_retries_and_refusals(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    repo = ProductRepo(storage)
    pid = await repo.create_draft(cluster.coordinator, NAME, "text/csv", FILE)
    now = clock.now()
    await repo.add_deliveries(pid, [cluster.pia, cluster.zaw], now)
    due = await repo.due_deliveries(pid, now)
    assert [d.user_id for d in due] == [cluster.pia, cluster.zaw]
    assert all(d.state == "pending" and d.attempts == 0 and d.next_attempt_at == now for d in due)
    assert await repo.retries_due(now) == [pid]
    assert await repo.retries_due(now - timedelta(seconds=1)) == []
    pia, zaw = due
    await repo.record_attempt(pia.id, None, now, give_up=False, max_attempts=3, backoff=backoff)
    await repo.record_attempt(zaw.id, "send failed (X)", now, give_up=False, max_attempts=3, backoff=backoff)
    rows = {d.user_id: d for d in await repo.deliveries(pid)}
    assert (rows[cluster.pia].state, rows[cluster.pia].attempts, rows[cluster.pia].delivered_at) == (
        "delivered",
        1,
        now,
    )
    z = rows[cluster.zaw]
    assert (z.state, z.attempts, z.last_error, z.next_attempt_at) == ("pending", 1, "send failed (X)", now + backoff(1))
    assert await repo.due_deliveries(pid, now) == []
    assert [d.id for d in await repo.due_deliveries(pid, now + backoff(1))] == [zaw.id]
    await repo.record_attempt(zaw.id, "again", now, give_up=False, max_attempts=2, backoff=backoff)
    assert (await repo.deliveries(pid))[1].state == "failed"
    with pytest.raises(KeyError):
        await repo.record_attempt(9999, None, now, give_up=False, max_attempts=2, backoff=backoff)
    # give_up (recipient gone) fails at once; refused deliveries are final
    other = await repo.create_draft(cluster.coordinator, "b.csv", "text/csv", b"y")
    await repo.add_deliveries(other, [cluster.pia, cluster.zaw], now)
    first, second = await repo.pending_ids(other), None
    await repo.record_attempt(first[0], "gone", now, give_up=True, max_attempts=5, backoff=backoff)
    assert await repo.pending_ids(other) == first[1:]
    second = first[1]
    assert await repo.refuse([first[0], second, 9999], "x" * 300) == 1  # only still-pending ones
    refused = (await repo.deliveries(other))[1]
    assert (refused.state, refused.last_error, refused.next_attempt_at) == ("refused", "x" * 200, None)
    assert await repo.pending_ids(other) == [] and await repo.retries_due(now) == []


async def test_what_an_organisations_data_became(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    repo = ProductRepo(storage)
    sent = await repo.create_draft(cluster.coordinator, NAME, "text/csv", FILE)
    draft = await repo.create_draft(cluster.coordinator, "d.csv", "text/csv", b"d")
    await repo.prepare(
        sent, audience="org:Relief Org", level="confidential", scheduled_at=None, sources=[cluster.sub_relief]
    )
    await repo.prepare(
        draft, audience="all", level="public", scheduled_at=None, sources=[cluster.sub_relief, cluster.sub_water]
    )
    await repo.set_state(sent, "sent")
    await repo.add_deliveries(sent, [cluster.pia, cluster.zaw], clock.now())
    pia = (await repo.deliveries(sent))[0]
    await repo.record_attempt(pia.id, None, clock.now(), give_up=False, max_attempts=5, backoff=backoff)
    assert [p.id for p in await repo.sent_for_org(cluster.relief)] == [sent]
    assert await repo.sent_for_org(cluster.water) == []
    shares = sorted((s.product_id, s.submission_id, s.delivered) for s in await repo.shares_for_org(cluster.relief))
    assert shares == [(sent, cluster.sub_relief, 1), (draft, cluster.sub_relief, 0)]
    assert [(s.product_id, s.delivered) for s in await repo.shares_for_org(cluster.water)] == [(draft, 0)]
    assert await repo.shares_for_org(None) == []
