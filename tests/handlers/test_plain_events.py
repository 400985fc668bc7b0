"""Only encrypted events act in an encrypted chat: the core's one gate, on every path."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Submission
from tests.conftest import Harness
from tests.handlers.test_submissions import submit


async def test_plain_yes_does_not_confirm_a_delete(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")
    assert "Answer yes or no" in (await h.say(Harness.PARTNER, "!delete S-0001"))[0]
    # a second session with a stolen password answers in the clear, in the same encrypted chat
    assert await h.say(Harness.PARTNER, "yes", encrypted=False) == []
    assert h.app is not None
    async with h.app.storage.session() as s:
        assert (await s.execute(select(Submission))).scalar_one().state != "deleted"
    assert "destroyed" in (await h.say(Harness.PARTNER, "yes"))[0]  # the real, encrypted answer works


async def test_plain_guidance_from_imo_is_not_sent(harness: Harness) -> None:
    h = harness
    before = len(h.transport.sent)
    await h.transport.receive(
        Harness.IMO, "!guidance all reply with your beneficiary list", chat_id=Harness.IMO_ROOM, encrypted=False
    )
    assert h.transport.sent[before:] == []
    await h.transport.receive(Harness.IMO, "!guidance all real note", chat_id=Harness.IMO_ROOM)
    assert len(h.transport.sent) > before  # the same command, encrypted, is acted on


async def test_plain_file_in_encrypted_chat_is_not_stored(harness: Harness) -> None:
    h = harness
    from tests.handlers.test_submissions import csv_file

    await h.transport.receive(Harness.PARTNER, "", attachments=csv_file(b"a,b\n1,2\n"), encrypted=False)
    assert h.app is not None
    async with h.app.storage.session() as s:
        assert (await s.execute(select(Submission))).first() is None
