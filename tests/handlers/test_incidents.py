"""Confidential incident reporting through the in-memory transport."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.incidents import parse_receipt
from storage.models import AuditEntry, ConversationState, Incident, IncidentEvent, ProcessedEvent
from tests.conftest import Harness

RECEIPT = re.compile(r"K\d+(?:-[0-9A-Z]{4}){5}")


async def file_report(h: Harness, sender: str, *, anonymous: bool, contact: str = "chat") -> str:
    assert "What happened?" in (await h.say(sender, "!report"))[0]
    await h.say(sender, "I sent the beneficiary list of 240 GBV survivors to the wrong WhatsApp group")
    await h.say(sender, "yesterday evening")
    await h.say(sender, "names and phone numbers, about 240 people")
    await h.say(sender, "no")
    await h.say(sender, "asked the group admin to delete it")
    replies = await h.say(sender, "yes" if anonymous else "no")
    if not anonymous:
        replies = await h.say(sender, contact)
    text = "\n".join(replies)
    m = RECEIPT.search(text)
    assert m, text
    return m.group(0)


async def test_anonymous_report_stores_no_identity(harness: Harness) -> None:
    h = harness
    receipt = await file_report(h, Harness.PARTNER, anonymous=True)
    assert h.app is not None
    coord = h.transport.texts(Harness.COORD_ROOM)
    assert any("New data incident report I-0001" in t and "anonymous" in t for t in coord)
    assert all(Harness.PARTNER not in t for t in coord)
    assert any("CRITICAL" in t or "HIGH" in t for t in coord)
    dm = await h.transport.direct_chat(Harness.PARTNER)
    async with h.app.storage.session() as s:
        inc = (await s.execute(select(Incident))).scalar_one()
        assert inc.anonymous and inc.reporter_id is None
        assert b"beneficiary" not in (inc.body_enc or b"") and "K" not in inc.receipt_hash[:1]
        stored: list[str] = [repr(inc.__dict__)]
        stored += [repr(e.__dict__) for e in (await s.execute(select(IncidentEvent))).scalars()]
        stored += [repr(a.__dict__) for a in (await s.execute(select(AuditEntry))).scalars() if a.object_id == "I-0001"]
        stored += [p.key for p in (await s.execute(select(ProcessedEvent))).scalars()]
        assert (await s.execute(select(ConversationState))).first() is None  # the draft is gone
    blob = "\n".join(stored)
    assert Harness.PARTNER not in blob and dm not in blob and "pia" not in blob
    h.clock.advance(hours=1)  # an anonymous report's audit entry is written after the hour it came in
    await h.app.run_sweeps()
    report_audit = [a for a in await h.app.storage.audit_entries() if a.object_id == "I-0001"]
    assert [(a.actor_id, a.action) for a in report_audit] == [("anonymous", "incident.report")]
    # the receipt is stored only as a slow hash
    assert inc.receipt_hash.startswith("scrypt$")
    assert parse_receipt(receipt) is not None and parse_receipt(receipt)[1] not in inc.receipt_hash  # type: ignore[index]


async def test_receipt_follow_up_from_any_chat(harness: Harness) -> None:
    h = harness
    receipt = await file_report(h, Harness.PARTNER, anonymous=True)
    wrong = receipt[:-1] + ("A" if receipt[-1] != "A" else "B")
    assert "can't find a report" in (await h.say(Harness.PARTNER2, f"!status {wrong}"))[0]
    assert "can't find a report" in (await h.say(Harness.PARTNER2, "!status K1-nonsense"))[0]
    # anyone in the directory, in another chat, can follow up with the receipt (not people outside it)
    status = await h.say(Harness.OTHER_ORG_PARTNER, f"!status {receipt.lower()}", chat_id="!elsewhere")
    assert status[0].startswith("I-0001: new")
    added = await h.say(Harness.IMO, f"!status {receipt} add the group admin confirmed deletion")
    assert "Added to I-0001" in added[0]
    await h.say(
        Harness.COORDINATOR,
        "!incident I-0001 reply Thank you, we are contacting the partner.",
        chat_id=Harness.COORD_ROOM,
    )
    status = "\n".join(await h.say(Harness.PARTNER, f"!status {receipt}"))
    assert "coordinators: Thank you" in status and "you added: the group admin" in status
    # in a chat that is not end-to-end encrypted: the state only, never the messages
    plain = "\n".join(await h.say(Harness.PARTNER, f"!status {receipt}", chat_id="!plain", encrypted=False))
    assert plain.startswith("I-0001: new") and "Thank you" not in plain and "only in an end-to-end" in plain
    assert (
        "not end-to-end encrypted"
        in (await h.say(Harness.PARTNER, f"!status {receipt} add x", chat_id="!plain", encrypted=False))[0]
    )


async def test_named_report_and_coordinator_workflow(harness: Harness) -> None:
    h = harness
    await file_report(h, Harness.PARTNER, anonymous=False, contact="chat")
    coord = "\n".join(h.transport.texts(Harness.COORD_ROOM))
    assert Harness.PARTNER in coord
    say = lambda text: h.say(Harness.COORDINATOR, text, chat_id=Harness.COORD_ROOM)
    assert "I-0001: new" in (await say("!incidents"))[0]
    shown = (await say("!incident I-0001"))[0]
    assert "GBV survivors" in shown and Harness.PARTNER in shown
    assert (await say("!incident I-0001 ack"))[0] == "I-0001 acknowledged."
    dm = await h.transport.direct_chat(Harness.PARTNER)
    assert any("acknowledged" in t for t in h.transport.texts(dm))
    assert "classified HIGH" in (await say("!incident I-0001 classify high"))[0]
    assert "Classify as" in (await say("!incident I-0001 classify urgent"))[0]
    await say("!incident I-0001 treat Group admin removed the message")
    assert "sent to the reporter" in (await say("!incident I-0001 reply Please confirm nobody downloaded it"))[0]
    assert any("Please confirm nobody downloaded it" in t for t in h.transport.texts(dm))
    await say("!incident I-0001 close contained")
    await say("!incident I-0001 learn Use encrypted channels for lists")
    assert (await say("!incidents"))[0] == "No open incident reports."
    actions = [a.action for a in await h.app.storage.audit_entries() if a.object_id == "I-0001"]  # type: ignore[union-attr]
    for expected in ("incident.read", "incident.ack", "incident.classify", "incident.reply", "incident.close"):
        assert expected in actions


async def test_only_coordinators_read_reports(harness: Harness) -> None:
    h = harness
    await file_report(h, Harness.PARTNER, anonymous=True)
    for who in (Harness.IMO, Harness.PARTNER, Harness.ADMIN):
        replies = await h.say(who, "!incident I-0001")
        assert "cannot use !incident" in replies[0]
        assert "GBV" not in "\n".join(replies)
    assert "cannot use !incidents" in (await h.say(Harness.IMO, "!incidents"))[0]
    # and only in encrypted chats
    plain = await h.say(Harness.COORDINATOR, "!incident I-0001", chat_id="!plain", encrypted=False)
    assert "not end-to-end encrypted" in plain[0] and "GBV" not in "\n".join(plain)


async def test_back_cancel_and_optional_answers(harness: Harness) -> None:
    h = harness
    await h.say(Harness.PARTNER, "!report")
    assert "describe what happened" in (await h.say(Harness.PARTNER, "x"))[0]
    await h.say(Harness.PARTNER, "laptop stolen from the car")
    assert "What happened?" in (await h.say(Harness.PARTNER, "!back"))[0]
    await h.say(Harness.PARTNER, "laptop with survey data stolen")
    for answer in ("skip", "skip", "skip", "skip"):
        await h.say(Harness.PARTNER, answer)
    assert await h.say(Harness.PARTNER, "!cancel") == ["Cancelled. Nothing was kept."]
    assert h.app is not None
    async with h.app.storage.session() as s:
        assert (await s.execute(select(Incident))).first() is None


async def test_plain_message_offers_a_report(harness: Harness) -> None:
    replies = await harness.say(Harness.PARTNER, "I think a beneficiary list leaked")
    assert "send !report" in replies[0]
    assert harness.app is not None
    async with harness.app.storage.session() as s:
        assert (await s.execute(select(ConversationState))).first() is None  # not started silently
    replies = await harness.say(Harness.PARTNER, "lost my phone with the distribution list")
    assert "send !report" in replies[0]


async def test_draft_times_out(harness: Harness) -> None:
    """A report draft is kept only in memory: lost on restart (tests/handlers/test_anonymity.py)."""
    h = harness
    await h.say(Harness.PARTNER, "!report")
    await h.say(Harness.PARTNER, "USB stick lost")
    assert "What data" in (await h.say(Harness.PARTNER, "last week"))[0]
    assert h.app is not None
    h.clock.advance(minutes=61)
    await h.app.run_sweeps()
    dm = await h.transport.direct_chat(Harness.PARTNER)
    assert "has been waiting" in h.transport.texts(dm)[-1]
    h.clock.advance(minutes=61)
    await h.app.run_sweeps()
    assert "was destroyed" in h.transport.texts(dm)[-1]
    async with h.app.storage.session() as s:
        assert (await s.execute(select(ConversationState))).first() is None


async def test_escalation_with_controllable_clock(harness_factory) -> None:  # type: ignore[no-untyped-def]
    h: Harness = await harness_factory(
        incidents={"ack_deadline_hours": 2, "escalate_after_hours": 6, "escalation_contacts": ["@lead:example.org"]}
    )
    await file_report(h, Harness.PARTNER, anonymous=True)
    assert h.app is not None
    await h.app.run_sweeps()
    assert not any("Reminder" in t for t in h.transport.texts(Harness.COORD_ROOM))
    h.clock.advance(hours=2, minutes=1)
    await h.app.run_sweeps()
    await h.app.run_sweeps()
    reminders = [t for t in h.transport.texts(Harness.COORD_ROOM) if "Reminder" in t]
    assert len(reminders) == 1
    h.clock.advance(hours=4)
    await h.restart()  # deadlines live in the database: a restart changes nothing
    await h.app.run_sweeps()  # type: ignore[union-attr]
    lead_dm = await h.transport.direct_chat("@lead:example.org")
    assert any("Escalation" in t for t in h.transport.texts(lead_dm))
    await h.app.run_sweeps()  # type: ignore[union-attr]
    assert sum("Escalation" in t for t in h.transport.texts(lead_dm)) == 1


async def test_closed_cases_shredded_after_retention_with_notice(harness_factory) -> None:  # type: ignore[no-untyped-def]
    h: Harness = await harness_factory(incidents={"closed_retention_days": 30})
    await file_report(h, Harness.PARTNER, anonymous=True)
    await h.say(Harness.COORDINATOR, "!incident I-0001 close done", chat_id=Harness.COORD_ROOM)
    assert h.app is not None
    h.clock.advance(days=24)
    await h.app.run_sweeps()
    assert any("will be destroyed" in t for t in h.transport.texts(Harness.COORD_ROOM))
    h.clock.advance(days=7)
    await h.app.run_sweeps()
    async with h.app.storage.session() as s:
        inc = (await s.execute(select(Incident))).scalar_one()
        assert inc.state == "shredded" and inc.body_enc is None
    assert (
        "can't find that incident"
        in (await h.say(Harness.COORDINATOR, "!incident I-0001", chat_id=Harness.COORD_ROOM))[0]
    )
