"""The durable inbox and the sent-reply markers: nothing lost, nothing twice.

Why: an event used to be *claimed* (recorded as processed) before it was handled, so a
crash mid-handler lost it for good, while the transport had already moved past it. Now an
event is accepted together with its content, in one transaction with its claim:

* ``accept`` -> the transport may move on (Matrix saves its sync token only after this);
  a duplicate delivery (same event again) is refused here;
* ``finish`` -> the handling is complete: the content is shredded and the row deleted;
* after a crash, ``pending`` returns what was accepted but not finished, and the core
  handles it again.

Handling again must not repeat what the first attempt already did. Outgoing messages are
numbered per event: ``sent`` / ``mark_sent`` let the core skip the ones already sent (and
the Matrix transport reuses the same transaction id, which the homeserver deduplicates);
creating a submission is keyed by its source event (``Submission.source_key``).

The payload is the event as the core saw it (sender, chat, text, attachments), sealed under
the row's own data key; attachments go to the blob store, sealed under the same key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from storage.blobs import new_blob_id
from storage.models import InboxItem, ProcessedEvent, SentReply
from storage.store import Storage

#: An event whose handling was *started* this often without finishing is given up (a poison
#: message that kills the process would otherwise do so on every start). Counted when a
#: handling starts, not per restart: events merely waiting in a lane are never given up.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class PendingEvent:
    key: str
    payload: dict[str, Any]
    attachments: list[bytes]
    attempts: int


class Inbox:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def key_for(self, event_key: str) -> str:
        return await self.storage.pseudokey("event", event_key)

    async def accept(self, event_key: str, payload: dict[str, Any], attachments: list[bytes]) -> str | None:
        """Claim the event and store its content; None when it was accepted before."""
        storage = self.storage
        key = await self.key_for(event_key)
        blob_ids = [new_blob_id() for _ in attachments]
        try:
            async with storage.session() as s, s.begin():
                # to the hour: an exact time would sit next to the sender's other records
                hour = storage.now().replace(minute=0, second=0, microsecond=0)
                s.add(ProcessedEvent(key=key, processed_at=hour))
                await s.flush()  # a duplicate fails here, before any blob is written
                dek = await storage.new_data_key(s, "inbox")
                for blob_id, data in zip(blob_ids, attachments, strict=True):
                    await storage.put_blob(dek, blob_id, data)  # before commit; orphans are swept
                body = json.dumps({"event": payload, "blobs": blob_ids})
                s.add(
                    InboxItem(
                        key=key,
                        data_key_id=dek.id,
                        payload_enc=storage.seal_text(dek, f"inbox:{key}", body),
                        blob_ids=" ".join(blob_ids),
                        attempts=0,
                        received_at=storage.now(),
                    )
                )
        except IntegrityError:
            return None
        return key

    async def begin(self, key: str) -> None:
        """A handling of this event starts (counted, for the poison-message limit)."""
        async with self.storage.session() as s, s.begin():
            await s.execute(update(InboxItem).where(InboxItem.key == key).values(attempts=InboxItem.attempts + 1))

    async def pending(self) -> list[PendingEvent]:
        """Accepted but unfinished events, oldest first, with the number of handlings started."""
        storage = self.storage
        found: list[PendingEvent] = []
        async with storage.session() as s:
            rows = (await s.execute(select(InboxItem).order_by(InboxItem.received_at))).scalars().all()
            for row in rows:
                dek = await storage.data_key(s, row.data_key_id)
                body = json.loads(storage.open_text(dek, f"inbox:{row.key}", row.payload_enc))
                files = [await storage.get_blob(dek, blob_id) for blob_id in body["blobs"]]
                found.append(PendingEvent(row.key, body["event"], files, row.attempts))
        return found

    async def finish(self, key: str) -> None:
        """Handling is complete: shred the content, delete the row and its blobs."""
        storage = self.storage
        async with storage.session() as s, s.begin():
            row = await s.get(InboxItem, key)
            if row is None:
                return
            blob_ids = row.blob_ids.split()
            await storage.shred(s, row.data_key_id)
            await s.delete(row)
        for blob_id in blob_ids:
            storage.blobs.delete(blob_id)

    # -- outgoing messages of one handling ------------------------------------------------

    async def reply_key(self, key: str, n: int) -> str:
        return await self.storage.pseudokey("reply", key, str(n))

    async def sent(self, reply_key: str) -> str | None:
        async with self.storage.session() as s:
            row = await s.get(SentReply, reply_key)
            return row.message_id if row else None

    async def mark_sent(self, reply_key: str, message_id: str) -> None:
        try:
            async with self.storage.session() as s, s.begin():
                s.add(SentReply(key=reply_key, message_id=message_id[:255], sent_at=self.storage.now()))
        except IntegrityError:
            pass

    async def forget_sent_before(self, cutoff: datetime) -> int:
        async with self.storage.session() as s, s.begin():
            result = await s.execute(delete(SentReply).where(SentReply.sent_at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)
