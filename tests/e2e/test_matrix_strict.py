"""The real bot against a client on Element's own crypto stack, in strict mode.

matrix-js-sdk 43 with the Rust crypto and "exclude insecure devices" on
(``OnlySignedDevicesIsolationMode``), as Element ships since April 2026: it sends room keys
only to devices their owner cross-signed and refuses messages from any other device. The
bot must therefore have a cross-signed device; these tests prove every main workflow
decrypts both ways with no warning shield, before and after a restart and a
``matrix reset-device``, and that the bot holds back from a partner's unsigned session and
from a partner whose identity changed.
"""

from __future__ import annotations

import re

import pytest

from bot.demo import BENEFICIARY_CSV, BotStack
from bot.transports.matrix import reset_device
from tests.e2e.strict_client import Message, StrictClient

pytestmark = pytest.mark.e2e


def clean(m: Message) -> bool:
    """Decrypted, with no warning shield (what Element shows as a normal message)."""
    return bool(m["decrypted"]) and (m["shield"] is None or m["shield"]["colour"] == "NONE")


async def strict_person(stack, new_user, strict_clients, role, org=None) -> StrictClient:
    user = new_user(role)
    await stack.add_users([(user.user_id, role, org)])
    return await strict_clients(user, device_name=f"Element {role}", auto_join=True)


async def dm_with_bot(client: StrictClient, stack: BotStack) -> str:
    room = await client.create_dm(stack.bot_user.user_id)
    await client.wait_member(room, stack.bot_user.user_id, timeout=30)
    return room


async def ask_bot(
    client: StrictClient,
    bot: str,
    room: str | None,
    text: str | None,
    expect: str,
    *,
    where: str | None = None,
    file: tuple[bytes, str] | None = None,
    timeout: float = 60,
) -> Message:
    """Send ``text`` (or ``file``) into ``room``; wait for a *new*, clean bot message containing ``expect``
    (in ``where``: the same room by default, any room with ``where=""``)."""
    seen = {m["event_id"] for m in client.messages(bot)}
    if file is not None:
        await client.send_file(room, data=file[0], filename=file[1], mimetype="text/csv")
    elif text is not None:
        await client.send_text(room, text)
    target = room if where is None else (where or None)
    return await client.wait_for_message(
        bot,
        target,
        predicate=lambda m: m["event_id"] not in seen and clean(m) and expect.lower() in (m["body"] or "").lower(),
        timeout=timeout,
    )


async def _round(stack, partner, imo, room, imo_room, tag: str) -> None:
    bot = stack.bot_user.user_id
    await ask_bot(partner, bot, room, "!help", "!label")

    held = await ask_bot(partner, bot, room, None, "held", file=(BENEFICIARY_CSV, f"list-{tag}.csv"), timeout=120)
    sid = re.search(r"S-\d{4}", held["body"]).group(0)
    level = re.search(r"needs the level (\w+)", held["body"]).group(1)
    await ask_bot(partner, bot, room, f"!label {sid} {level}", f"{sid} accepted as")

    ack = await ask_bot(partner, bot, room, f"!ask round {tag}: can we share township totals?", "Q-")
    qid = re.search(r"Q-\d{4}", ack["body"]).group(0)
    notice = await imo.wait_for_message(
        bot, imo_room, predicate=lambda m: clean(m) and f"Question {qid}" in (m["body"] or ""), timeout=60
    )
    assert f"round {tag}" in notice["body"]
    seen = {m["event_id"] for m in partner.messages(bot)}
    await imo.send_text(imo_room, f"!reply {qid} Yes for round {tag}.")
    await partner.wait_for_message(
        bot,
        None,
        predicate=lambda m: m["event_id"] not in seen and clean(m) and f"The IMO answered {qid}" in (m["body"] or ""),
        timeout=60,
    )

    answers = [
        "!report",
        f"round {tag}: a laptop with a beneficiary list was stolen",
        "yesterday",
        "names and phone numbers of 40 people",
        "no",
        "passwords changed",
    ]
    for text in answers:
        await ask_bot(partner, bot, room, text, "")
    final = await ask_bot(partner, bot, room, "yes", "K")
    assert re.search(r"K\d+(?:-[0-9A-Z]{4}){5}", final["body"])
    # nothing the bot sent to this partner carries a warning shield or failed to decrypt
    bad = [m for m in partner.messages(bot) if not clean(m)]
    assert bad == [], bad


async def test_strict_element_client_main_workflows_survive_restart_and_reset_device(
    stack, synapse, new_user, strict_clients
):
    imo = await strict_person(stack, new_user, strict_clients, "imo")
    imo_room = await imo.create_dm(stack.bot_user.user_id, name="cluster imo")
    await imo.wait_member(imo_room, stack.bot_user.user_id, timeout=30)
    stack.app.rooms["imo"] = ("matrix", imo_room)
    partner = await strict_person(stack, new_user, strict_clients, "partner", "Relief Org")
    room = await dm_with_bot(partner, stack)

    await _round(stack, partner, imo, room, imo_room, "1")

    await stack.stop()  # a restart: same store, same device
    await stack.start()
    stack.app.rooms["imo"] = ("matrix", imo_room)
    await _round(stack, partner, imo, room, imo_room, "2")

    await stack.stop()  # reset-device: a new device, signed by the same identity on start
    await reset_device(stack.config().matrix)
    await stack.start()
    stack.app.rooms["imo"] = ("matrix", imo_room)
    await _round(stack, partner, imo, room, imo_room, "3")
    status = await partner.user_verification_status(stack.bot_user.user_id)
    assert not status.get("needs_user_approval"), status  # no identity warning: one identity throughout


async def test_unsigned_partner_session_gets_no_keys_and_is_not_acted_on(stack, synapse, new_user, strict_clients):
    bot = stack.bot_user.user_id
    user = new_user("partner")
    await stack.add_users([(user.user_id, "partner", "Relief Org")])
    phone = await strict_clients(user, device_name="phone", auto_join=True)
    room = await dm_with_bot(phone, stack)
    await ask_bot(phone, bot, room, "!help", "!label")

    # A second session of the same account that its owner never verified (an "insecure device");
    # in lax mode it can still send, as a stolen password's session could.
    laptop = await strict_clients(user, device_name="laptop", cross_sign=False, auto_join=True, isolation="all")
    await laptop.join(room)
    await laptop.send_text(room, "!mydata")
    refusal = await phone.wait_for_message(
        bot, room, predicate=lambda m: clean(m) and "not verified by you" in (m["body"] or ""), timeout=60
    )
    assert "Settings > Sessions" in refusal["body"]
    # the laptop gets no key for anything the bot sends (withheld, "unverified")
    withheld = await laptop.wait_for_message(bot, room, predicate=lambda m: m["withheld_code"] is not None, timeout=60)
    assert withheld["withheld_code"] == "m.unverified" and not withheld["decrypted"]
    assert not any("Your organisation" in (m["body"] or "") for m in phone.messages(bot))  # !mydata not run

    # The plain-event attack from that session: ignored, and the owner sees why.
    await laptop.send_text(room, "!guidance all send me your beneficiary list", plain=True)
    await phone.wait_for_message(
        bot, room, predicate=lambda m: clean(m) and "arrived unencrypted" in (m["body"] or ""), timeout=60
    )


async def test_partner_identity_reset_holds_until_confirmed(stack, synapse, new_user, strict_clients):
    bot = stack.bot_user.user_id
    user = new_user("partner")
    await stack.add_users([(user.user_id, "partner", "Relief Org")])
    phone = await strict_clients(user, device_name="phone", auto_join=True)
    room = await dm_with_bot(phone, stack)
    await ask_bot(phone, bot, room, "!help", "!label")
    trust = stack.transport._trust

    await phone.reset_identity()  # Element: "Reset cryptographic identity"
    await phone.wait_until(lambda: trust.identity_change(user.user_id) is not None, 60)
    before = len(phone.messages(bot, room))
    await phone.send_text(room, "!help")
    held = await phone.wait_until(lambda: [m for m in phone.messages(bot, room)[before:] if settled(m)], 60)
    assert not any(clean(m) and "!label" in (m["body"] or "") for m in held)  # not acted on
    # nothing readable was sent: no key, and Element is told why (withheld, "unverified")
    await phone.wait_until(
        lambda: any(
            m["withheld_code"] == "m.unverified" and not m["decrypted"] for m in phone.messages(bot, room)[before:]
        ),
        60,
    )

    await phone.send_text(room, "!devices confirm")  # from this session, signed by the new identity
    await phone.wait_for_message(
        bot, None, predicate=lambda m: clean(m) and "new identity is confirmed" in (m["body"] or ""), timeout=60
    )
    await ask_bot(phone, bot, room, "!help", "Commands you can use")


def settled(m: Message) -> bool:
    return bool(m["decrypted"] or m["decryption_error"])
