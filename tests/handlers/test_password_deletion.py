"""A message holding a password is deleted wherever ``!password`` is refused or accepted, and
only then answered (memory transport; the Telegram side is in tests/e2e/test_telegram.py)."""

from __future__ import annotations

from typing import Any

from bot.events import Attachment, IncomingMessage
from bot.router import UNENCRYPTED_REFUSAL, Context
from bot.transport import TransportError
from storage.submissions import SubmissionRepo
from tests.conftest import Harness
from tests.handlers.test_submissions import encrypted_xlsx

PLAIN_ROOM = "!plain-room"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_REMOVED = "I could not remove your message with the password: please delete it yourself."


def record_order(h: Harness) -> list[tuple[str, str]]:
    """('deleted', event id) / ('sent', text) in the order they happened."""
    events: list[tuple[str, str]] = []
    t = h.transport
    delete, send = t.delete_message, t.send_text

    async def delete_message(chat_id: str, message_id: str) -> None:
        events.append(("deleted", message_id))
        await delete(chat_id, message_id)

    async def send_text(chat_id: str, text: str, **kw: Any) -> str:
        events.append(("sent", text))
        return await send(chat_id, text, **kw)

    t.delete_message = delete_message  # type: ignore[method-assign]
    t.send_text = send_text  # type: ignore[method-assign]
    return events


async def locked_submission(h: Harness) -> None:
    replies = await h.say(Harness.PARTNER, "", attachments=(Attachment("list.xlsx", XLSX, encrypted_xlsx("Pw-1")),))
    assert "password-protected" in replies[0]


async def test_handler_deletes_then_refuses_in_a_plain_room(harness: Harness) -> None:
    """The handler's own gate: in a chat that is not end-to-end encrypted the password is not
    used (no screening), the message is deleted, then the refusal is sent and audited."""
    h = harness
    assert h.app is not None
    await locked_submission(h)
    events = record_order(h)
    user = await h.app.directory.lookup("memory", Harness.PARTNER)
    msg = IncomingMessage(
        transport="memory",
        chat_id=PLAIN_ROOM,
        sender_id=Harness.PARTNER,
        event_id="$pw-plain",
        text="!password S-0001 Pw-1",
        encrypted=False,
        direct=False,
    )
    await h.app.state["submissions"].cmd_password(Context(h.app, msg, user), "S-0001 Pw-1")
    assert events == [("deleted", "$pw-plain"), ("sent", UNENCRYPTED_REFUSAL)]
    assert (PLAIN_ROOM, "$pw-plain") in h.transport.deleted
    view = await SubmissionRepo(h.app.storage).get(1)
    assert view is not None and view.state == "locked"  # the password was not used
    last = (await h.app.storage.audit_entries())[-1]
    assert (last.action, last.outcome) == ("submission.password", "denied")


async def test_plain_room_password_deleted_before_the_routers_refusal(harness: Harness) -> None:
    h = harness
    events = record_order(h)
    replies = await h.say(Harness.PARTNER, "!password S-0001 Pw-1", chat_id=PLAIN_ROOM, event_id="$pw-room")
    assert replies == [UNENCRYPTED_REFUSAL]
    assert events == [("deleted", "$pw-room"), ("sent", UNENCRYPTED_REFUSAL)]


async def test_encrypted_chat_deletes_before_every_answer(harness: Harness) -> None:
    h = harness
    await locked_submission(h)
    events = record_order(h)
    await h.say(Harness.PARTNER, "!password S-0001 wrong", event_id="$pw1")
    await h.say(Harness.PARTNER, "!password S-0999 wrong", event_id="$pw2")  # refused: no such submission
    await h.say(Harness.PARTNER, "!password S-0001 Pw-1", event_id="$pw3")  # accepted
    deletions = [i for i, e in enumerate(events) if e[0] == "deleted"]
    assert [events[i][1] for i in deletions] == ["$pw1", "$pw2", "$pw3"]
    for i in deletions:
        assert events[i + 1][0] == "sent"  # each answer comes after its deletion
    assert "did not open" in events[deletions[0] + 1][1]
    assert "can't find" in events[deletions[1] + 1][1]
    assert "S-0001" in events[deletions[2] + 1][1] and "did not open" not in events[deletions[2] + 1][1]


async def test_user_is_told_when_the_password_message_could_not_be_deleted(harness: Harness) -> None:
    h = harness

    async def cannot_delete(chat_id: str, message_id: str) -> None:
        raise TransportError("redaction refused")

    h.transport.delete_message = cannot_delete  # type: ignore[method-assign]
    replies = await h.say(Harness.PARTNER, "!password S-0001 Pw-1")
    assert replies[0] == NOT_REMOVED
    assert "can't find" in replies[1]
