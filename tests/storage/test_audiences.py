"""storage.audiences.AudienceRepo: named audiences and the organisations in them."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from bot.clock import FakeClock
from storage.audiences import AudienceRepo
from storage.store import Storage
from tests.storage.conftest import Cluster


async def test_organisations(storage: Storage, cluster: Cluster) -> None:
    orgs = await AudienceRepo(storage).organisations()
    assert [(o.id, o.name, o.sector) for o in orgs] == [
        (cluster.relief, "Relief Org", "protection"),
        (cluster.water, "Water Org", "wash"),
    ]
    with pytest.raises(FrozenInstanceError):
        orgs[0].name = "x"  # type: ignore[misc]


async def test_audience_lifecycle(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    repo = AudienceRepo(storage)
    assert await repo.names() == [] and await repo.get("wash-partners") is None
    aid = await repo.create("wash-partners", clock.now())
    await repo.create("All-Protection", clock.now())
    assert await repo.names() == ["All-Protection", "wash-partners"]
    view = await repo.get("wash-partners")
    assert view is not None
    assert (view.id, view.name, view.org_ids, view.created_at) == (aid, "wash-partners", frozenset(), clock.now())
    assert await repo.get("WASH-partners") is None  # names are exact
    assert await repo.add_member(aid, cluster.water)
    assert not await repo.add_member(aid, cluster.water)  # already in
    assert await repo.add_member(aid, cluster.relief)
    assert (await repo.get("wash-partners")).org_ids == {cluster.water, cluster.relief}  # type: ignore[union-attr]
    await repo.remove_member(aid, cluster.relief)
    await repo.remove_member(aid, cluster.relief)  # not a member any more: nothing happens
    assert (await repo.get("wash-partners")).org_ids == {cluster.water}  # type: ignore[union-attr]
    assert await repo.delete("wash-partners")
    assert not await repo.delete("wash-partners")
    assert await repo.names() == ["All-Protection"]
    # the name is free again, with no members left over
    again = await repo.create("wash-partners", clock.now())
    view = await repo.get("wash-partners")
    assert view is not None and view.id == again and view.org_ids == frozenset()


async def test_duplicate_name_is_refused(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    from sqlalchemy.exc import IntegrityError

    repo = AudienceRepo(storage)
    await repo.create("lists", clock.now())
    with pytest.raises(IntegrityError):
        await repo.create("lists", clock.now())
