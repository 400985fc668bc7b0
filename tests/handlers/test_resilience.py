"""The event loop never blocks on screening, and a crash mid-submission loses nothing."""

from __future__ import annotations

import asyncio
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.events import Attachment
from storage import migrate
from storage.models import Submission
from storage.submissions import SubmissionRepo
from tests.conftest import Harness
from tests.handlers.test_submissions import AGGREGATE, submit


async def test_big_screening_does_not_delay_another_partners_reply(tmp_path: Path, sqlite_url: str) -> None:
    await migrate.upgrade(sqlite_url)
    h = Harness(tmp_path, sqlite_url, FakeClock())
    h.executor.shutdown()
    h.executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))  # type: ignore[assignment]
    await h.start()
    await h.seed()
    try:
        await submit(h, AGGREGATE, name="warmup.csv")  # start the worker process
        rows = b"".join(
            b"%d,Daw Hla Hla Win,09791234567,Kyauk Taw village,remarks text here\n" % i for i in range(400_000)
        )
        big = b"No,Name,Phone,Village,Remarks\n" + rows  # ~30 MB of dense personal data
        order: list[str] = []

        async def big_upload() -> None:
            await h.transport.receive(Harness.PARTNER, "", attachments=(Attachment("list.csv", "text/csv", big),))
            order.append("big verdict")

        async def help_from_other_partner() -> None:
            dm = await h.transport.direct_chat(Harness.PARTNER)
            while not any("screening…" in t for t in h.transport.texts(dm)):  # screening has started
                await asyncio.sleep(0.005)
            replies = await h.transport.receive(Harness.OTHER_ORG_PARTNER, "!help")
            assert "Commands you can use" in replies[0].text
            order.append("help answered")

        await asyncio.wait_for(asyncio.gather(big_upload(), help_from_other_partner()), 120)
        assert order == ["help answered", "big verdict"]
        dm = await h.transport.direct_chat(Harness.PARTNER)
        assert any("is held" in t for t in h.transport.texts(dm))
    finally:
        await h.stop()


async def test_crash_mid_submission_loses_nothing(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    assert "S-0001 accepted" in (await submit(h, AGGREGATE, name="a.csv"))[0]
    original = SubmissionRepo._add_version

    async def crash_after_blob(self, s, *args, **kwargs):  # type: ignore[no-untyped-def]
        await original(self, s, *args, **kwargs)
        raise OSError("disk vanished")  # after the blob is written, before the row commits

    monkeypatch.setattr(SubmissionRepo, "_add_version", crash_after_blob)
    replies = await submit(h, AGGREGATE, name="b.csv")
    assert "Sorry, something went wrong" in replies[0] and "Nothing you sent before was lost" in replies[0]
    monkeypatch.setattr(SubmissionRepo, "_add_version", original)
    assert h.app is not None
    async with h.app.storage.session() as s:
        assert await s.scalar(select(func.count()).select_from(Submission)) == 1  # no half submission
    got = await h.transport.receive(Harness.IMO, "!get S-0001", chat_id=Harness.IMO_ROOM)
    assert [r.file.data for r in got if r.file] == [AGGREGATE]  # the accepted one is intact
    again = (await submit(h, AGGREGATE, name="b.csv"))[0]  # and the bot carries on
    m = re.match(r"(S-\d{4}) accepted", again)
    assert m, again  # (PostgreSQL does not reuse the id the crashed attempt consumed; SQLite does)
    # the orphaned ciphertext of the crashed attempt is collected once it is old enough
    blobs = h.app.storage.blobs
    assert len(blobs.ids()) == 3
    assert await h.app.storage.remove_orphan_blobs() == 0  # too young: may belong to a commit in flight
    assert await h.app.storage.remove_orphan_blobs(min_age_seconds=-1) == 1
    assert len(blobs.ids()) == 2
    got = await h.transport.receive(Harness.IMO, f"!get {m.group(1)}", chat_id=Harness.IMO_ROOM)
    assert [r.file.data for r in got if r.file] == [AGGREGATE]
