"""Running dialogs (``bot/conversation.py``), each sealed under its own data key.

The row key is a keyed hash of (transport, chat, sender), computed by the caller; the
dialog's data, history and reply address are one JSON document sealed in ``data_enc``.
Discarding a dialog shreds its data key before the row is deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.models import ConversationState
from storage.store import Shredded, Storage
from storage.timeutil import as_utc


@dataclass(frozen=True)
class StoredConversation:
    key: str
    dialog: str
    state: str
    payload: dict[str, Any]  # the unsealed JSON document (a fresh copy on every load)
    updated_at: datetime
    expires_at: datetime


def _aad(key: str) -> str:
    return f"conversation:{key}"


class ConversationRepo:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def load(self, key: str) -> StoredConversation | None:
        """The stored dialog, or None (none stored, or its data key was shredded)."""
        st = self.storage
        async with st.session() as s:
            row = await s.get(ConversationState, key)
            if row is None:
                return None
            try:
                dk = await st.data_key(s, row.data_key_id)
            except Shredded:
                return None
            payload = json.loads(st.open_text(dk, _aad(key), row.data_enc))
        return StoredConversation(key, row.dialog, row.state, payload, as_utc(row.updated_at), as_utc(row.expires_at))

    async def save(
        self, key: str, dialog: str, state: str, payload: dict[str, Any], *, now: datetime, expires_at: datetime
    ) -> None:
        """Create or replace the dialog's row; the payload is sealed (a new data key the
        first time, the row's own key afterwards)."""
        st = self.storage
        text = json.dumps(payload)
        async with st.session() as s, s.begin():
            row = await s.get(ConversationState, key)
            if row is None:
                dk = await st.new_data_key(s, "conversation")
                s.add(
                    ConversationState(
                        key=key,
                        dialog=dialog,
                        state=state,
                        data_key_id=dk.id,
                        data_enc=st.seal_text(dk, _aad(key), text),
                        updated_at=now,
                        expires_at=expires_at,
                    )
                )
            else:
                dk = await st.data_key(s, row.data_key_id)
                row.dialog, row.state = dialog, state
                row.data_enc = st.seal_text(dk, _aad(key), text)
                row.updated_at, row.expires_at = now, expires_at

    async def discard(self, key: str) -> bool:
        """Shred the dialog's data key and delete its row; False when there was none."""
        async with self.storage.session() as s, s.begin():
            row = await s.get(ConversationState, key)
            if row is None:
                return False
            await self.storage.shred(s, row.data_key_id)
            await s.delete(row)
            return True

    async def expired_keys(self, now: datetime) -> list[str]:
        async with self.storage.session() as s:
            rows = await s.execute(
                select(ConversationState.key).where(ConversationState.expires_at <= now).order_by(ConversationState.key)
            )
            return [str(k) for k in rows.scalars()]


__all__ = ["ConversationRepo", "StoredConversation"]
