"""Guidance relay and protected product broadcasts through the memory transport."""

from __future__ import annotations

from sqlalchemy import select

from bot.events import Attachment
from storage.models import Delivery, ProductSource
from tests.conftest import Harness
from tests.handlers.test_submissions import AGGREGATE, BENEFICIARIES, submit

PRODUCT = (
    b"State,Township,Township Pcode,People reached\nRakhine,Sittwe,MMR012001,5400\nKachin,Myitkyina,MMR001001,2100\n"
)


async def test_question_answered_both_ways(harness: Harness) -> None:
    h = harness
    reply = (await h.say(Harness.PARTNER, "!ask How should we label village-level distribution data?"))[0]
    assert "Q-0001" in reply
    notice = h.transport.texts(Harness.IMO_ROOM)[-1]
    assert "Q-0001 from Relief Org" in notice and "village-level" in notice
    answer = await h.say(Harness.IMO, "!reply Q-0001 Label it confidential at least.", chat_id=Harness.IMO_ROOM)
    assert answer == ["Answer to Q-0001 delivered."]
    dm = await h.transport.direct_chat(Harness.PARTNER)
    assert "The IMO answered Q-0001:\nLabel it confidential at least." in h.transport.texts(dm)
    # follow-up from the partner's organisation colleague
    assert "Sent to the IMO" in (await h.say(Harness.PARTNER2, "!reply Q-0001 Also for camps?"))[0]
    assert "Follow-up on Q-0001" in h.transport.texts(Harness.IMO_ROOM)[-1]
    # other organisations cannot see or touch the ticket
    assert "can't find a ticket" in (await h.say(Harness.OTHER_ORG_PARTNER, "!reply Q-0001 hi"))[0]
    assert (await h.say(Harness.OTHER_ORG_PARTNER, "!tickets"))[0] == "No open tickets."
    assert "Q-0001" in (await h.say(Harness.IMO, "!tickets", chat_id=Harness.IMO_ROOM))[0]
    assert "closed" in (await h.say(Harness.IMO, "!close Q-0001", chat_id=Harness.IMO_ROOM))[0]
    assert (await h.say(Harness.PARTNER, "!tickets"))[0] == "No open tickets."


async def test_reply_to_the_notice_counts_as_answer(harness: Harness) -> None:
    h = harness
    await h.say(Harness.PARTNER, "!ask Can we share township totals publicly?")
    notice = [r for r in h.transport.sent if r.chat_id == Harness.IMO_ROOM][-1]
    await h.transport.receive(
        Harness.IMO, "Yes, township level is public.", chat_id=Harness.IMO_ROOM, reply_to=notice.message_id
    )
    dm = await h.transport.direct_chat(Harness.PARTNER)
    assert "Yes, township level is public." in h.transport.texts(dm)[-1]


async def test_question_with_personal_data_needs_confirmation(harness: Harness) -> None:
    h = harness
    replies = await h.say(Harness.PARTNER, "!ask Can I send Daw Hla Hla Win's number 09791234567 to UNHCR?")
    assert "personal data" in replies[0] and "09791234567" not in replies[0]
    assert h.transport.texts(Harness.IMO_ROOM) == []
    assert "Not sent" in (await h.say(Harness.PARTNER, "no"))[0]
    await h.say(Harness.PARTNER, "!cancel")
    assert h.transport.texts(Harness.IMO_ROOM) == []
    await h.say(Harness.PARTNER, "!ask Can I send Daw Hla Hla Win's number 09791234567 to UNHCR?")
    assert "Q-0001" in (await h.say(Harness.PARTNER, "yes"))[0]
    assert len(h.transport.texts(Harness.IMO_ROOM)) == 1


async def test_unanswered_ticket_reminder_survives_restart(harness_factory) -> None:  # type: ignore[no-untyped-def]
    h: Harness = await harness_factory(guidance={"reminder_hours": 24})
    await h.say(Harness.PARTNER, "!ask Where do we send the 5W?")
    h.clock.advance(hours=23)
    assert h.app is not None
    await h.app.run_sweeps()
    assert not any("Reminder" in t for t in h.transport.texts(Harness.IMO_ROOM))
    await h.restart()
    h.clock.advance(hours=2)
    await h.app.run_sweeps()  # type: ignore[union-attr]
    await h.app.run_sweeps()  # type: ignore[union-attr]
    assert sum("Reminder: ticket Q-0001" in t for t in h.transport.texts(Harness.IMO_ROOM)) == 1


async def test_guidance_note_now_and_scheduled(harness: Harness) -> None:
    h = harness
    r = await h.say(Harness.IMO, '!guidance org:"Relief Org" Reporting deadline is Friday.', chat_id=Harness.IMO_ROOM)
    assert r == ["Guidance note sent to 2 of 2 partner(s) in org:Relief Org."]
    r = await h.say(Harness.IMO, "!guidance all 5W reports are due on the 25th.", chat_id=Harness.IMO_ROOM)
    assert r == ["Guidance note sent to 3 of 3 partner(s) in all."]
    for p in (Harness.PARTNER, Harness.PARTNER2, Harness.OTHER_ORG_PARTNER):
        assert "5W reports are due" in h.transport.texts(await h.transport.direct_chat(p))[-1]
    r = await h.say(
        Harness.IMO,
        "!guidance sector:wash Label water point lists confidential. at 2026-01-02 09:00",
        chat_id=Harness.IMO_ROOM,
    )
    assert "scheduled for 2026-01-02 09:00" in r[0]
    wash_dm = await h.transport.direct_chat(Harness.OTHER_ORG_PARTNER)
    assert h.app is not None
    await h.app.run_sweeps()
    assert not any("water point" in t for t in h.transport.texts(wash_dm))
    await h.restart()
    h.clock.advance(days=1, hours=2)
    await h.app.run_sweeps()  # type: ignore[union-attr]
    await h.app.run_sweeps()  # type: ignore[union-attr]
    assert sum("water point" in t for t in h.transport.texts(wash_dm)) == 1
    assert not any("water point" in t for t in h.transport.texts(await h.transport.direct_chat(Harness.PARTNER)))
    assert "cannot use !guidance" in (await h.say(Harness.PARTNER, "!guidance all hi"))[0]


async def upload_product(h: Harness, data: bytes = PRODUCT, caption: str = "") -> list[str]:
    return await h.say(
        Harness.COORDINATOR,
        caption,
        chat_id=Harness.COORD_ROOM,
        attachments=(Attachment("township_summary.csv", "text/csv", data),),
    )


async def accepted_with_consent(h: Harness, sender: str, products: bool) -> None:
    await submit(h, AGGREGATE, name="summary.csv", sender=sender)


async def test_broadcast_delivered_with_lineage_and_report(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    assert "P-0001 received" in (await upload_product(h))[0]
    summary = (
        await h.say(Harness.COORDINATOR, '!broadcast org:"Relief Org" sources S-0001', chat_id=Harness.COORD_ROOM)
    )[0]
    assert "to 2 partner(s) in 1 organisation(s): Relief Org" in summary and "S-0001" in summary
    dm1 = await h.transport.direct_chat(Harness.PARTNER)
    assert not [r for r in h.transport.sent if r.chat_id == dm1 and r.file]  # nothing before !confirm
    await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM)
    for p in (Harness.PARTNER, Harness.PARTNER2):
        dm = await h.transport.direct_chat(p)
        files = [r.file for r in h.transport.sent if r.chat_id == dm and r.file]
        assert [f.data for f in files] == [PRODUCT]
    other = await h.transport.direct_chat(Harness.OTHER_ORG_PARTNER)
    assert not [r for r in h.transport.sent if r.chat_id == other and r.file]
    assert "2 delivered, 0 pending, 0 failed" in h.transport.texts(Harness.COORD_ROOM)[-1]
    assert h.app is not None
    async with h.app.storage.session() as s:
        assert [(x.product_id, x.submission_id) for x in (await s.execute(select(ProductSource))).scalars()] == [(1, 1)]
    # the right to products and to know: the partner gets it and sees it in !mydata
    replies = await h.transport.receive(Harness.PARTNER, "!products")
    assert [r.file.data for r in replies if r.file] == [PRODUCT]
    assert "P-0001 from S-0001, shared with 2 recipients" in (await h.say(Harness.PARTNER, "!mydata"))[0]
    delivered = [a for a in await h.app.storage.audit_entries() if a.action == "product.deliver"]
    assert len(delivered) == 2 and all(a.outcome == "done" for a in delivered)


async def test_broadcast_refused_without_consent_or_after_revocation(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")  # S-0001 Relief Org
    await submit(h, AGGREGATE, name="summary.csv", sender=Harness.OTHER_ORG_PARTNER)  # S-0002 Water Org
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    await h.say(Harness.OTHER_ORG_PARTNER, "!consent S-0002 cluster yes")  # not the products scope
    await upload_product(h)
    refused = (await h.say(Harness.COORDINATOR, "!broadcast all sources S-0001,S-0002", chat_id=Harness.COORD_ROOM))[0]
    assert (
        refused.startswith("Refused") and "S-0002" in refused and "'products'" in refused and "S-0001:" not in refused
    )
    # consent given, then revoked between confirmation and a scheduled delivery
    await h.say(Harness.OTHER_ORG_PARTNER, "!consent S-0002 products yes")
    await upload_product(h)
    ok = (
        await h.say(
            Harness.COORDINATOR, "!broadcast all at 2026-01-01 10:00 sources S-0001,S-0002", chat_id=Harness.COORD_ROOM
        )
    )[0]
    assert "Ready to broadcast P-0002" in ok
    assert "scheduled" in (await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM))[0]
    await h.say(Harness.OTHER_ORG_PARTNER, "!consent S-0002 products no")
    h.clock.advance(hours=3)
    assert h.app is not None
    await h.app.run_sweeps()
    assert "NOT sent" in h.transport.texts(Harness.COORD_ROOM)[-1]
    assert not [r for r in h.transport.sent if r.file and r.chat_id != Harness.COORD_ROOM]


async def test_broadcast_refused_when_product_has_unlabelled_personal_data(harness: Harness) -> None:
    h = harness
    await upload_product(h, BENEFICIARIES)
    refused = (await h.say(Harness.COORDINATOR, "!broadcast all", chat_id=Harness.COORD_ROOM))[0]
    assert refused.startswith("Refused") and "highly_confidential" in refused and "09*******67" in refused
    assert "no broadcast waiting" in (await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM))[0]


async def test_broadcast_with_caption_and_scheduled_delivery_survives_restart(harness: Harness) -> None:
    h = harness
    summary = (await upload_product(h, caption="!broadcast sector:wash at 2026-01-01 12:00"))[0]
    assert "Ready to broadcast P-0001" in summary and "Water Org" in summary
    await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM)
    await h.restart()
    h.clock.advance(hours=5)
    await h.app.run_sweeps()  # type: ignore[union-attr]
    dm = await h.transport.direct_chat(Harness.OTHER_ORG_PARTNER)
    assert [r.file.data for r in h.transport.sent if r.chat_id == dm and r.file] == [PRODUCT]


async def test_failed_deliveries_are_retried_and_reported(harness: Harness) -> None:
    h = harness
    await upload_product(h)
    await h.say(Harness.COORDINATOR, '!broadcast org:"Water Org"', chat_id=Harness.COORD_ROOM)
    h.transport.fail_sends = 1
    await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM)
    assert "0 delivered, 1 pending, 0 failed" in h.transport.texts(Harness.COORD_ROOM)[-1]
    assert "send failed (TransportError)" in h.transport.texts(Harness.COORD_ROOM)[-1]  # no raw error text
    h.clock.advance(minutes=6)
    assert h.app is not None
    await h.app.run_sweeps()
    assert "1 delivered, 0 pending, 0 failed" in h.transport.texts(Harness.COORD_ROOM)[-1]
    async with h.app.storage.session() as s:
        d = (await s.execute(select(Delivery))).scalar_one()
        assert d.state == "delivered" and d.attempts == 2


async def test_audiences_and_roles(harness: Harness) -> None:
    h = harness
    say = lambda t: h.say(Harness.COORDINATOR, t, chat_id=Harness.COORD_ROOM)
    assert "created" in (await say("!audience create rakhine-partners"))[0]
    assert "added" in (await say("!audience add rakhine-partners Water Org"))[0]
    assert (await say("!audience list rakhine-partners"))[0] == "rakhine-partners: Water Org"
    await upload_product(h)
    summary = (await say("!broadcast list:rakhine-partners"))[0]
    assert "1 partner(s)" in summary and "Water Org" in summary
    assert "don't know the audience" in (await say("!broadcast list:nobody"))[0]
    assert "cannot use !broadcast" in (await h.say(Harness.IMO, "!broadcast all", chat_id=Harness.IMO_ROOM))[0]
    assert "cannot use !audience" in (await h.say(Harness.PARTNER, "!audience list"))[0]
    # a product file from a partner is a submission, not a broadcast
    r = await submit(h, PRODUCT, name="x.csv")
    assert "S-0001 accepted" in r[0]


async def test_products_only_in_the_direct_chat(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    await upload_product(h)
    await h.say(Harness.COORDINATOR, '!broadcast org:"Water Org" sources S-0001', chat_id=Harness.COORD_ROOM)
    await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM)
    h.transport.encrypted_chats.add("!relief-team")
    replies = await h.transport.receive(Harness.PARTNER, "!products", chat_id="!relief-team")
    # asked in a group: the file goes to the partner's own private chat, never into the group
    dm = await h.transport.direct_chat(Harness.PARTNER)
    files = [r for r in replies if r.file]
    assert files and all(r.chat_id == dm for r in files)
    assert not [r for r in replies if r.chat_id == "!relief-team" and r.file]
    assert "I sent the file to our private chat" in " ".join(r.text for r in replies if r.chat_id == "!relief-team")


async def test_refused_broadcast_keeps_the_draft_until_consent(harness: Harness) -> None:
    """Issue 13: a broadcast refused for missing consent left a dead draft; after consent,
    !broadcast asked for the upload again without saying why. Now the draft is kept, and said so."""
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org
    await upload_product(h)
    refused = (
        await h.say(Harness.COORDINATOR, '!broadcast org:"Relief Org" sources S-0001', chat_id=Harness.COORD_ROOM)
    )[0]
    assert refused.startswith("Refused") and "'products'" in refused
    assert "The draft P-0001 is kept" in refused and "no need to upload" in refused
    assert "no broadcast waiting" in (await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM))[0]
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    ready = (
        await h.say(Harness.COORDINATOR, '!broadcast org:"Relief Org" sources S-0001', chat_id=Harness.COORD_ROOM)
    )[0]
    assert "Ready to broadcast P-0001" in ready  # the same draft, no second upload
    await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM)
    assert "2 delivered, 0 pending, 0 failed" in h.transport.texts(Harness.COORD_ROOM)[-1]


async def test_refused_broadcast_of_a_ready_draft_needs_a_new_check(harness: Harness) -> None:
    """A draft that was awaiting !confirm and is then refused (another audience) cannot be confirmed."""
    h = harness
    await submit(h, text="highly_confidential")
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    await upload_product(h)
    ready = (
        await h.say(
            Harness.COORDINATOR,
            '!broadcast org:"Relief Org" sources S-0001 level confidential',
            chat_id=Harness.COORD_ROOM,
        )
    )[0]
    assert "Ready to broadcast P-0001" in ready
    refused = (
        await h.say(Harness.COORDINATOR, "!broadcast all sources S-0001 level confidential", chat_id=Harness.COORD_ROOM)
    )[0]
    assert refused.startswith("Refused") and "The draft P-0001 is kept" in refused
    assert "no broadcast waiting" in (await h.say(Harness.COORDINATOR, "!confirm", chat_id=Harness.COORD_ROOM))[0]


async def test_unreadable_product_says_the_draft_was_dropped(harness: Harness) -> None:
    h = harness
    await h.say(
        Harness.COORDINATOR,
        "",
        chat_id=Harness.COORD_ROOM,
        attachments=(Attachment("summary.xlsx", "application/vnd.ms-excel", b"PK\x03\x04garbage"),),
    )
    refused = (await h.say(Harness.COORDINATOR, "!broadcast all", chat_id=Harness.COORD_ROOM))[0]
    assert refused.startswith("Refused") and "was dropped" in refused and "upload" in refused
    assert (
        "Upload the product file" in (await h.say(Harness.COORDINATOR, "!broadcast all", chat_id=Harness.COORD_ROOM))[0]
    )
