"""storage.conversations.ConversationRepo: dialog state sealed under its own data key."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from storage.conversations import ConversationRepo
from storage.models import DataKey
from storage.store import Storage
from tests.storage.conftest import raw_dump

KEY = "a" * 64
PAYLOAD = {
    "data": {"what": "lost-phone-with-secret-list"},
    "history": ["start"],
    "reply_to": {"chat_id": "!room-secret"},
}


async def test_save_load_update_and_discard(storage: Storage, clock: FakeClock) -> None:
    repo = ConversationRepo(storage)
    assert await repo.load(KEY) is None
    now = clock.now()
    await repo.save(KEY, "survey", "count", PAYLOAD, now=now, expires_at=now + timedelta(minutes=10))
    stored = await repo.load(KEY)
    assert stored is not None
    assert (stored.key, stored.dialog, stored.state, stored.payload) == (KEY, "survey", "count", PAYLOAD)
    assert stored.updated_at == now and stored.expires_at == now + timedelta(minutes=10)
    assert stored.expires_at.tzinfo is not None
    with pytest.raises(FrozenInstanceError):
        stored.state = "x"  # type: ignore[misc]
    dump = await raw_dump(storage)
    assert b"survey" in dump
    assert b"lost-phone-with-secret-list" not in dump and b"!room-secret" not in dump
    clock.advance(minutes=1)
    changed = {**PAYLOAD, "history": ["start", "count"]}
    await repo.save(KEY, "survey", "done", changed, now=clock.now(), expires_at=clock.now() + timedelta(minutes=10))
    again = await repo.load(KEY)
    assert again is not None and (again.state, again.payload, again.updated_at) == ("done", changed, clock.now())
    async with storage.session() as s:  # the row keeps its one data key
        assert len((await s.execute(select(DataKey).where(DataKey.purpose == "conversation"))).all()) == 1
    assert await repo.discard(KEY)
    assert not await repo.discard(KEY)
    assert await repo.load(KEY) is None
    async with storage.session() as s:  # shredded, not just deleted
        assert (
            await s.execute(select(DataKey.wrapped_key).where(DataKey.purpose == "conversation"))
        ).scalar_one() is None


async def test_a_shredded_dialog_does_not_load(storage: Storage, clock: FakeClock) -> None:
    from storage.models import ConversationState

    repo = ConversationRepo(storage)
    await repo.save(KEY, "survey", "count", PAYLOAD, now=clock.now(), expires_at=clock.now())
    async with storage.session() as s, s.begin():
        row = await s.get(ConversationState, KEY)
        assert row is not None
        await storage.shred(s, row.data_key_id)
    assert await repo.load(KEY) is None


async def test_expired_keys(storage: Storage, clock: FakeClock) -> None:
    repo = ConversationRepo(storage)
    now = clock.now()
    await repo.save("b" * 64, "survey", "s", PAYLOAD, now=now, expires_at=now + timedelta(minutes=5))
    await repo.save("c" * 64, "survey", "s", PAYLOAD, now=now, expires_at=now + timedelta(minutes=20))
    assert await repo.expired_keys(now) == []
    assert await repo.expired_keys(now + timedelta(minutes=5)) == ["b" * 64]
    assert await repo.expired_keys(now + timedelta(hours=1)) == ["b" * 64, "c" * 64]
