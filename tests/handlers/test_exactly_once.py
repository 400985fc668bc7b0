"""Nothing lost, nothing twice, through the durable inbox (storage/inbox.py).

A crash is simulated at the two dangerous instants: in the middle of a handler (the event
was accepted, nothing finished), and after the handler sent its replies but before the
event was marked finished. After a restart each message is answered exactly once and each
file stored exactly once. (The real-process kill test is tests/e2e/test_kill.py.)
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from storage.inbox import Inbox
from storage.models import InboxItem, Submission
from tests.conftest import Harness
from tests.handlers.test_submissions import BENEFICIARIES, csv_file


async def _count(h: Harness, model: type) -> int:
    assert h.app is not None
    async with h.app.storage.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


def _texts_with(h: Harness, needle: str, before_restart: list | None = None) -> list[str]:
    """Messages containing ``needle`` the bot sent, by this transport and the one before the restart."""
    return [r.text for r in [*(before_restart or []), *h.transport.sent] if needle in r.text]


async def test_crash_in_the_middle_of_a_handler_is_handled_after_restart(harness: Harness, monkeypatch) -> None:
    h = harness
    from handlers import submissions

    real_screen = submissions.screen
    stuck = asyncio.Event()

    async def screen_then_die(*args, **kwargs):
        stuck.set()
        await asyncio.sleep(3600)  # the process dies here
        return await real_screen(*args, **kwargs)

    monkeypatch.setattr(submissions, "screen", screen_then_die)
    task = asyncio.create_task(
        h.transport.receive(
            Harness.PARTNER, "highly_confidential", attachments=csv_file(BENEFICIARIES), event_id="$file1"
        )
    )
    await asyncio.wait_for(stuck.wait(), 10)
    assert h.app is not None
    for t in list(h.app._inflight):  # kill: in-flight work vanishes without finishing
        t.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await _count(h, Submission) == 0 and await _count(h, InboxItem) == 1

    monkeypatch.setattr(submissions, "screen", real_screen)
    old = list(h.transport.sent)
    await h.restart()
    for _ in range(100):
        if await _count(h, InboxItem) == 0:
            break
        await asyncio.sleep(0.05)
    assert await _count(h, Submission) == 1
    assert len(_texts_with(h, "S-0001 accepted", old)) == 1
    # the same event delivered again by the transport (e.g. an unsaved sync token): refused
    assert h.app is not None
    replies = await h.transport.receive(
        Harness.PARTNER, "highly_confidential", attachments=csv_file(BENEFICIARIES), event_id="$file1"
    )
    assert replies == [] and await _count(h, Submission) == 1


async def test_crash_after_the_replies_before_finishing_sends_nothing_twice(harness: Harness, monkeypatch) -> None:
    h = harness
    real_finish = Inbox.finish
    calls = {"n": 0}

    async def finish_crashes_once(self, key):
        calls["n"] += 1
        if calls["n"] == 1:
            raise asyncio.CancelledError  # the process dies right after the handler's work
        return await real_finish(self, key)

    monkeypatch.setattr(Inbox, "finish", finish_crashes_once)
    try:
        await h.transport.receive(Harness.PARTNER, "highly_confidential", attachments=csv_file(BENEFICIARIES))
    except asyncio.CancelledError:
        pass
    await h.transport.receive(Harness.PARTNER, "!help")
    assert len(_texts_with(h, "S-0001 accepted")) == 1 and await _count(h, InboxItem) == 1

    old = list(h.transport.sent)
    await h.restart()  # the unfinished event runs again: same submission, replies not repeated
    for _ in range(100):
        if await _count(h, InboxItem) == 0:
            break
        await asyncio.sleep(0.05)
    assert await _count(h, InboxItem) == 0
    assert await _count(h, Submission) == 1
    assert len(_texts_with(h, "S-0001 accepted", old)) == 1
    assert len(_texts_with(h, "Commands you can use", old)) == 1
