"""The main workflows end to end: real bot, real Synapse, real E2EE clients.

* an anonymous incident report, checking that the reporter's Matrix id and direct-chat
  room id are stored nowhere near the case (case, events, audit entries, processed events);
* a guidance question answered by an IMO;
* a product broadcast delivered encrypted to two partners, then a broadcast refused because
  a source organisation did not consent to the 'products' scope.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from bot.demo import BotStack
from tests.e2e.conftest import person
from tests.e2e.synapse import ScriptedUser

pytestmark = pytest.mark.e2e

AGGREGATE = (
    b"State,Township,Township Pcode,Households reached\nRakhine,Sittwe,MMR012001,1200\nKachin,Myitkyina,MMR001001,800\n"
)
PRODUCT = b"State,Township,Township Pcode,People reached\nRakhine,Sittwe,MMR012001,5400\n"


async def dm(client: ScriptedUser, stack: BotStack) -> str:
    room = await client.create_room([stack.bot_user.user_id])
    await client.wait_joined(room, stack.bot_user.user_id)
    return room


async def protected_room(client: ScriptedUser, stack: BotStack, kind: str) -> str:
    """An encrypted group room made by a staff member, registered as the bot's IMO/coordinator room."""
    room = await client.create_room([stack.bot_user.user_id], name=f"cluster {kind}")
    await client.wait_joined(room, stack.bot_user.user_id)
    stack.app.rooms[kind] = ("matrix", room)
    return room


async def test_anonymous_incident_report_leaves_no_identity(stack, synapse, new_user, scripted, tmp_path):
    bot = stack.bot_user.user_id
    coordinator = await person(stack, new_user, scripted, "coordinator")
    coord_room = await protected_room(coordinator, stack, "coordinator")
    reporter = await person(stack, new_user, scripted, "partner", "Relief Org")
    room = await dm(reporter, stack)

    answers = [
        "!report",
        "A staff member lost a phone with the distribution list of 80 households",
        "this morning",
        "names and phone numbers of about 80 people",
        "no",
        "the phone was remotely wiped",
        "yes",
    ]
    for i, text in enumerate(answers, start=1):
        await reporter.send_text(room, text)
        await reporter.wait_for_message(bot, room, count=i, timeout=60)
    final = reporter.messages_from(bot, room)[-1].body
    receipt = re.search(r"K\d+(?:-[0-9A-Z]{4}){5}", final).group(0)

    notice = await coordinator.wait_for_message(bot, coord_room, contains="New data incident report", timeout=60)
    assert notice.decrypted and "anonymous" in notice.body and reporter.user_id not in notice.body

    await coordinator.send_text(coord_room, "!incident I-0001 reply We are on it, thank you.")
    await coordinator.wait_for_message(bot, coord_room, contains="Reply on I-0001", timeout=60)
    await reporter.send_text(room, f"!status {receipt}")
    status = await reporter.wait_for_message(bot, room, contains="I-0001: new", timeout=60)
    assert "We are on it" in status.body

    db = sqlite3.connect(tmp_path / "bot" / "bot.sqlite3")
    try:
        dumps = []
        for table in ("incidents", "incident_events", "audit_log", "processed_events", "conversations"):
            dumps += [repr(row) for row in db.execute(f"SELECT * FROM {table}")]
        rows = db.execute("SELECT anonymous, reporter_id FROM incidents").fetchall()
    finally:
        db.close()
    text = "\n".join(dumps)
    assert rows == [(1, None)]
    for secret in (reporter.user_id, reporter.user.localpart, room):
        assert secret not in text
    assert "phone" not in text  # the report text is sealed


async def test_guidance_question_answered_by_imo(stack, synapse, new_user, scripted):
    bot = stack.bot_user.user_id
    imo = await person(stack, new_user, scripted, "imo")
    imo_room = await protected_room(imo, stack, "imo")
    partner = await person(stack, new_user, scripted, "partner", "Relief Org")
    room = await dm(partner, stack)
    await partner.send_text(room, "!ask Can we share township-level totals with the donor?")
    ack = await partner.wait_for_message(bot, room, contains="Q-0001", timeout=60)
    assert ack.decrypted
    notice = await imo.wait_for_message(bot, imo_room, contains="Question Q-0001", timeout=60)
    assert "township-level totals" in notice.body and notice.decrypted
    await imo.send_text(imo_room, "!reply Q-0001 Yes, township totals are public.")
    answer = await partner.wait_for_message(bot, contains="The IMO answered Q-0001", timeout=60)
    assert "township totals are public" in answer.body and answer.decrypted


async def test_product_broadcast_encrypted_to_two_partners_then_refused_without_consent(
    stack, synapse, new_user, scripted
):
    from nio import RoomEncryptedFile
    from nio.crypto.attachments import decrypt_attachment

    bot = stack.bot_user.user_id
    coordinator = await person(stack, new_user, scripted, "coordinator")
    coord_room = await protected_room(coordinator, stack, "coordinator")
    p1 = await person(stack, new_user, scripted, "partner", "Relief Org")
    p2 = await person(stack, new_user, scripted, "partner", "Water Org")
    for i, p in enumerate((p1, p2), start=1):
        room = await dm(p, stack)
        await p.send_file(room, AGGREGATE, "totals.csv", "text/csv")
        await p.wait_for_message(bot, room, contains=f"S-000{i} accepted", timeout=120)
        await p.send_text(room, f"!consent S-000{i} products yes")
        await p.wait_for_message(bot, room, contains="Recorded", timeout=60)

    await coordinator.send_file(coord_room, PRODUCT, "township_summary.csv", "text/csv")
    await coordinator.wait_for_message(bot, coord_room, contains="P-0001 received", timeout=120)
    await coordinator.send_text(coord_room, "!broadcast all sources S-0001,S-0002")
    summary = await coordinator.wait_for_message(bot, coord_room, contains="Ready to broadcast P-0001", timeout=120)
    assert "2 partner(s)" in summary.body
    await coordinator.send_text(coord_room, "!confirm")
    report = await coordinator.wait_for_message(bot, coord_room, contains="Delivery report P-0001", timeout=120)
    assert "2 delivered, 0 pending, 0 failed" in report.body

    for p in (p1, p2):
        await p.wait_until(lambda p=p: any(isinstance(ev, RoomEncryptedFile) for ev in p.messages_from(bot)), 60)
        sent = next(ev for ev in p.messages_from(bot) if isinstance(ev, RoomEncryptedFile))
        blob = await p.client.download(mxc=sent.url)
        assert decrypt_attachment(blob.body, sent.key["k"], sent.hashes["sha256"], sent.iv) == PRODUCT

    # the Water Org revokes 'products' consent: the next broadcast using its data is refused
    p2_room = next(rid for rid, _ in p2.events)
    await p2.send_text(p2_room, "!consent S-0002 products no")
    await p2.wait_for_message(bot, p2_room, contains="may not be used", timeout=60)
    await coordinator.send_file(coord_room, PRODUCT, "township_summary_v2.csv", "text/csv")
    await coordinator.wait_for_message(bot, coord_room, contains="P-0002 received", timeout=120)
    await coordinator.send_text(coord_room, "!broadcast all sources S-0001,S-0002")
    refused = await coordinator.wait_for_message(bot, coord_room, contains="Refused", timeout=120)
    assert "S-0002" in refused.body and "'products'" in refused.body
