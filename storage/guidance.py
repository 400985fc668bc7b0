"""Guidance tickets with their messages, and guidance notes scheduled for later.

A ticket's question, each message on it and each scheduled note's text are sealed
under their own data keys; what stays in clear is what the workflow needs (state,
organisation, times, the id of the notice in the IMO room).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.models import GuidanceTicket, ScheduledMessage, TicketMessage
from storage.store import Shredded, Storage
from storage.timeutil import as_utc, as_utc_or_none

from . import ids


@dataclass(frozen=True)
class TicketView:
    id: int
    org_id: int | None
    asker_id: int | None
    state: str  # open | closed
    created_at: datetime
    closed_at: datetime | None
    reminded_at: datetime | None
    notice_event_id: str | None
    last_activity_at: datetime | None

    @property
    def public_id(self) -> str:
        return f"{ids.ticket_id(self.id)}"


@dataclass(frozen=True)
class OpenQuestion:
    ticket: TicketView
    question: str


@dataclass(frozen=True)
class TicketMessageView:
    id: int
    ticket_id: int
    author_role: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class NoteView:
    """A scheduled guidance note, without its (sealed) text."""

    id: int
    kind: str
    audience: str
    created_by: int | None
    due_at: datetime
    state: str  # scheduled | sent | cancelled


def _ticket(t: GuidanceTicket) -> TicketView:
    return TicketView(
        t.id,
        t.org_id,
        t.asker_id,
        t.state,
        as_utc(t.created_at),
        as_utc_or_none(t.closed_at),
        as_utc_or_none(t.reminded_at),
        t.notice_event_id,
        as_utc_or_none(t.last_activity_at),
    )


def _note(n: ScheduledMessage) -> NoteView:
    return NoteView(n.id, n.kind, n.audience, n.created_by, as_utc(n.due_at), n.state)


class TicketRepo:
    """Tickets (``!ask``/``!reply``) and their messages."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def create(self, org_id: int | None, asker_id: int | None, question: str, now: datetime) -> int:
        st = self.storage
        async with st.session() as s, s.begin():
            dk = await st.new_data_key(s, "ticket")
            t = GuidanceTicket(
                org_id=org_id,
                asker_id=asker_id,
                state="open",
                data_key_id=dk.id,
                question_enc=b"",
                created_at=now,
                last_activity_at=now,
            )
            s.add(t)
            await s.flush()
            t.question_enc = st.seal_text(dk, f"ticket:{t.id}:question", question)
            return t.id

    async def get(self, ticket_id: int) -> TicketView | None:
        async with self.storage.session() as s:
            t = await s.get(GuidanceTicket, ticket_id)
            return None if t is None else _ticket(t)

    async def by_notice(self, event_id: str | None) -> TicketView | None:
        """The ticket whose notice in the IMO room has this event id."""
        async with self.storage.session() as s:
            t = (
                await s.execute(select(GuidanceTicket).where(GuidanceTicket.notice_event_id == event_id))
            ).scalar_one_or_none()
            return None if t is None else _ticket(t)

    async def set_notice(self, ticket_id: int, event_id: str) -> bool:
        return await self.storage.update_row(GuidanceTicket, ticket_id, notice_event_id=event_id)

    async def close(self, ticket_id: int, now: datetime) -> bool:
        return await self.storage.update_row(GuidanceTicket, ticket_id, state="closed", closed_at=now)

    async def question(self, ticket_id: int) -> str:
        """The ticket's question, unsealed (raises ``Shredded`` when its key is gone)."""
        st = self.storage
        async with st.session() as s:
            t = await s.get(GuidanceTicket, ticket_id)
            if t is None:
                raise KeyError(ticket_id)
            dk = await st.data_key(s, t.data_key_id)
            return st.open_text(dk, f"ticket:{t.id}:question", t.question_enc or b"")

    async def add_message(self, ticket_id: int, role: str, text: str) -> int:
        """Seal a message on the ticket; the ticket counts as active again (no reminder yet)."""
        st = self.storage
        async with st.session() as s, s.begin():
            dk = await st.new_data_key(s, "ticket_message")
            m = TicketMessage(
                ticket_id=ticket_id, author_role=role, data_key_id=dk.id, text_enc=b"", created_at=st.now()
            )
            s.add(m)
            await s.flush()
            m.text_enc = st.seal_text(dk, f"ticket_message:{m.id}", text)
            t = await s.get(GuidanceTicket, ticket_id)
            if t is not None:
                t.last_activity_at = st.now()
                t.reminded_at = None
            return m.id

    async def messages(self, ticket_id: int) -> list[TicketMessageView]:
        """The ticket's messages in order, unsealed; shredded ones are left out."""
        st = self.storage
        out = []
        async with st.session() as s:
            rows = await s.execute(
                select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)
            )
            for m in list(rows.scalars()):
                try:
                    dk = await st.data_key(s, m.data_key_id)
                except Shredded:
                    continue
                text = st.open_text(dk, f"ticket_message:{m.id}", m.text_enc or b"")
                out.append(TicketMessageView(m.id, m.ticket_id, m.author_role, text, as_utc(m.created_at)))
        return out

    async def open_questions(self, *, only_org: bool = False, org_id: int | None = None) -> list[OpenQuestion]:
        """Open tickets in id order with their questions (``only_org``: of that organisation
        only); tickets whose question was shredded are left out."""
        st = self.storage
        out = []
        async with st.session() as s:
            q = select(GuidanceTicket).where(GuidanceTicket.state == "open").order_by(GuidanceTicket.id)
            if only_org:
                q = q.where(GuidanceTicket.org_id == org_id)
            for t in list((await s.execute(q)).scalars()):
                try:
                    dk = await st.data_key(s, t.data_key_id)
                except Shredded:
                    continue
                out.append(OpenQuestion(_ticket(t), st.open_text(dk, f"ticket:{t.id}:question", t.question_enc or b"")))
        return out

    async def claim_reminders(self, cutoff: datetime, now: datetime) -> list[TicketView]:
        """Open tickets without activity since ``cutoff`` and not reminded yet: marked
        reminded (at ``now``) and returned, so each is reminded once."""
        async with self.storage.session() as s, s.begin():
            due = list(
                (
                    await s.execute(
                        select(GuidanceTicket)
                        .where(
                            GuidanceTicket.state == "open",
                            GuidanceTicket.reminded_at.is_(None),
                            GuidanceTicket.last_activity_at <= cutoff,
                        )
                        .order_by(GuidanceTicket.id)
                    )
                ).scalars()
            )
            for t in due:
                t.reminded_at = now
            return [_ticket(t) for t in due]


class NoteRepo:
    """Guidance notes to send later; the periodic sweep delivers the due ones."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def schedule(
        self, audience: str, created_by: int | None, text: str, due_at: datetime, kind: str = "guidance"
    ) -> int:
        st = self.storage
        async with st.session() as s, s.begin():
            dk = await st.new_data_key(s, "scheduled")
            row = ScheduledMessage(
                kind=kind,
                audience=audience,
                created_by=created_by,
                data_key_id=dk.id,
                text_enc=b"",
                due_at=due_at,
                state="scheduled",
                created_at=st.now(),
            )
            s.add(row)
            await s.flush()
            row.text_enc = st.seal_text(dk, f"scheduled:{row.id}", text)
            return row.id

    async def get(self, note_id: int) -> NoteView | None:
        async with self.storage.session() as s:
            row = await s.get(ScheduledMessage, note_id)
            return None if row is None else _note(row)

    async def due(self, now: datetime) -> list[NoteView]:
        async with self.storage.session() as s:
            rows = await s.execute(
                select(ScheduledMessage)
                .where(ScheduledMessage.state == "scheduled", ScheduledMessage.due_at <= now)
                .order_by(ScheduledMessage.id)
            )
            return [_note(r) for r in rows.scalars()]

    async def claim(self, note_id: int) -> str | None:
        """Mark a scheduled note sent and return its text (claimed before sending: never sent
        twice); None when it is no longer scheduled."""
        st = self.storage
        async with st.session() as s, s.begin():
            row = await s.get(ScheduledMessage, note_id)
            if row is None or row.state != "scheduled":
                return None
            row.state = "sent"
            dk = await st.data_key(s, row.data_key_id)
            return st.open_text(dk, f"scheduled:{row.id}", row.text_enc or b"")


__all__ = ["NoteRepo", "NoteView", "OpenQuestion", "TicketMessageView", "TicketRepo", "TicketView"]
