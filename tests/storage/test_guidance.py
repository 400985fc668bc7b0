"""storage.guidance: TicketRepo (tickets and their messages) and NoteRepo (scheduled notes)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from storage.guidance import NoteRepo, TicketRepo
from storage.models import GuidanceTicket, ScheduledMessage, TicketMessage
from storage.store import Shredded, Storage
from tests.storage.conftest import Cluster, raw_dump

QUESTION = "May we share the list of Daw Secret-Question's household?"


async def _shred(storage: Storage, model: type[Any], pk: int) -> None:
    async with storage.session() as s, s.begin():
        row = await s.get(model, pk)
        assert row is not None
        await storage.shred(s, row.data_key_id)


async def test_ticket_lifecycle(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    repo = TicketRepo(storage)
    now = clock.now()
    tid = await repo.create(cluster.relief, cluster.pia, QUESTION, now)
    t = await repo.get(tid)
    assert t is not None
    assert (t.public_id, t.state, t.org_id, t.asker_id) == (f"Q-{tid:04d}", "open", cluster.relief, cluster.pia)
    assert t.created_at == now == t.last_activity_at and t.created_at.tzinfo is not None
    assert t.notice_event_id is None and t.closed_at is None and t.reminded_at is None
    with pytest.raises(FrozenInstanceError):
        t.state = "closed"  # type: ignore[misc]
    assert await repo.question(tid) == QUESTION
    assert await repo.get(tid + 1) is None
    with pytest.raises(KeyError):
        await repo.question(tid + 1)
    assert await repo.by_notice("$notice") is None
    assert await repo.set_notice(tid, "$notice")
    assert (await repo.by_notice("$notice")).id == tid  # type: ignore[union-attr]
    clock.advance(minutes=5)
    assert await repo.close(tid, clock.now())
    closed = await repo.get(tid)
    assert closed is not None and closed.state == "closed" and closed.closed_at == clock.now()
    assert not await repo.close(9999, clock.now())


async def test_messages_are_sealed_and_reset_the_reminder(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    repo = TicketRepo(storage)
    tid = await repo.create(cluster.relief, cluster.pia, QUESTION, clock.now())
    clock.advance(hours=30)
    assert [t.id for t in await repo.claim_reminders(clock.now() - timedelta(hours=24), clock.now())] == [tid]
    assert await repo.claim_reminders(clock.now(), clock.now()) == []  # reminded once
    assert (await repo.get(tid)).reminded_at == clock.now()  # type: ignore[union-attr]
    first = await repo.add_message(tid, "imo", "Label it secret-answer-text.")
    second = await repo.add_message(tid, "partner", "Thanks")
    t = await repo.get(tid)
    assert t is not None and t.reminded_at is None and t.last_activity_at == clock.now()
    msgs = await repo.messages(tid)
    assert [(m.id, m.author_role, m.text) for m in msgs] == [
        (first, "imo", "Label it secret-answer-text."),
        (second, "partner", "Thanks"),
    ]
    dump = await raw_dump(storage)
    assert b"Relief Org" in dump
    assert b"Secret-Question" not in dump and b"secret-answer-text" not in dump
    await _shred(storage, TicketMessage, first)
    assert [m.id for m in await repo.messages(tid)] == [second]


async def test_open_questions_by_organisation(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    repo = TicketRepo(storage)
    a = await repo.create(cluster.relief, cluster.pia, "relief question", clock.now())
    b = await repo.create(cluster.water, cluster.zaw, "water question", clock.now())
    c = await repo.create(None, None, "nobody's question", clock.now())
    closed = await repo.create(cluster.relief, cluster.pia, "closed question", clock.now())
    await repo.close(closed, clock.now())
    assert [(q.ticket.id, q.question) for q in await repo.open_questions()] == [
        (a, "relief question"),
        (b, "water question"),
        (c, "nobody's question"),
    ]
    assert [q.ticket.id for q in await repo.open_questions(only_org=True, org_id=cluster.water)] == [b]
    assert [q.ticket.id for q in await repo.open_questions(only_org=True, org_id=None)] == [c]
    await _shred(storage, GuidanceTicket, a)
    assert [q.ticket.id for q in await repo.open_questions(only_org=True, org_id=cluster.relief)] == []
    with pytest.raises(Shredded):
        await repo.question(a)


async def test_scheduled_notes(storage: Storage, cluster: Cluster, clock: FakeClock) -> None:
    notes = NoteRepo(storage)
    due_at = clock.now() + timedelta(hours=1)
    nid = await notes.schedule("org:Relief Org", cluster.coordinator, "Secret-note-text for partners", due_at)
    later = await notes.schedule("all", None, "later note", due_at + timedelta(days=1))
    view = await notes.get(nid)
    assert view is not None
    assert (view.kind, view.audience, view.created_by, view.state, view.due_at) == (
        "guidance",
        "org:Relief Org",
        cluster.coordinator,
        "scheduled",
        due_at,
    )
    assert await notes.get(9999) is None
    assert b"Secret-note-text" not in await raw_dump(storage)
    assert await notes.due(clock.now()) == []
    assert [n.id for n in await notes.due(due_at)] == [nid]
    assert await notes.claim(nid) == "Secret-note-text for partners"
    assert await notes.claim(nid) is None  # claimed once: never sent twice
    assert await notes.claim(9999) is None
    assert (await notes.get(nid)).state == "sent"  # type: ignore[union-attr]
    assert [n.id for n in await notes.due(due_at + timedelta(days=2))] == [later]
    await _shred(storage, ScheduledMessage, later)
    with pytest.raises(Shredded):
        await notes.claim(later)
    assert (await notes.get(later)).state == "scheduled"  # type: ignore[union-attr]  # rolled back
