"""Element's "Verify user" (in-room emoji verification in the direct chat), answered by an admin.

The partner is the Element-stack client (matrix-js-sdk 43 + Rust crypto, strict mode): it
calls ``requestVerificationDM`` in its DM with the bot and starts SAS, exactly what Element's
user info -> Verify does. The bot (``verified`` mode, so the partner is untrusted until
verified) posts the emoji to the encrypted admin room; a scripted admin answers
``!devices sas <request event id> match|mismatch``. After a match both sides hold the other's
identity as verified: the partner's client shows the bot verified (its master key signed by
the partner's user-signing key), and the bot pinned the partner's identity as verified and
signed their master key with its own user-signing key.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest

from bot.transports.matrix import MatrixTransport, trust_device
from bot.transports.matrix.crosssign import has_valid_signature
from bot.transports.matrix.identity import query_keys
from bot.transports.matrix.sas import format_emoji
from tests.e2e.conftest import BotHarness, bot_config, echo
from tests.e2e.strict_client import StrictClient

pytestmark = pytest.mark.e2e


async def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@dataclass
class Setup:
    harness: BotHarness
    transport: MatrixTransport
    admin: Any
    admin_room: str
    partner: StrictClient
    room: str
    bot_id: str
    partner_id: str


async def _setup(synapse, new_user, scripted, bots, strict_clients, tmp_path, mode: str = "verified") -> Setup:
    """Bot (``verified`` mode unless told) with an admin room (admin on a trusted device); an Element
    partner in a DM."""
    bot_user, admin_user, partner_user = new_user("bot"), new_user("admin"), new_user("partner")
    admin = await scripted(admin_user, "admin-laptop")
    admin_room = await admin.create_room([bot_user.user_id], name="admins")
    cfg = bot_config(synapse, bot_user, tmp_path / "bot", device_trust=mode, admin_room=admin_room)
    harness = BotHarness(cfg, known={admin_user.user_id, partner_user.user_id}, admins={admin_user.user_id})
    bots.append(harness)
    trust_device(cfg, admin_user.user_id, admin.client.device_id, admin.client.olm.account.identity_keys["ed25519"])
    transport = await harness.start(echo)
    await admin.wait_joined(admin_room, bot_user.user_id)
    partner = await strict_clients(partner_user, device_name="Element partner")
    room = await partner.create_dm(bot_user.user_id)
    await partner.wait_member(room, bot_user.user_id, timeout=30)
    return Setup(harness, transport, admin, admin_room, partner, room, bot_user.user_id, partner_user.user_id)


async def _partner_master(transport: MatrixTransport, user_id: str) -> dict[str, Any]:
    query = await query_keys(transport._http, [user_id])
    return dict(query["master_keys"][user_id])


async def _start(s: Setup, *, confirm: bool | None) -> tuple[str, dict[str, Any], Any]:
    """The partner verifies the bot in the DM; returns (transaction id, their emoji event, the admin post)."""
    txn = await s.partner.verify_user_in_dm(s.bot_id, s.room, confirm=confirm)
    assert txn.startswith("$")  # in-room: the flow id is the request's event id
    shown = await s.partner.wait_for_verification(txn, "sas", timeout=30)
    post = await s.admin.wait_for_message(s.bot_id, s.admin_room, contains=txn, timeout=30)
    return txn, shown, post


@pytest.mark.parametrize(("mode", "user_first"), [("verified", True), ("tofu", False)])
async def test_verify_user_in_dm_match_verifies_both_identities(
    synapse, new_user, scripted, bots, strict_clients, tmp_path, mode, user_first
):
    """``verified`` mode, the user confirms before the admin; ``tofu`` (identity already pinned on first
    contact, not verified), the admin confirms first and the bot waits for the user's MAC."""
    t0 = time.monotonic()
    s = await _setup(synapse, new_user, scripted, bots, strict_clients, tmp_path, mode)
    transport, partner, admin = s.transport, s.partner, s.admin
    device_id = partner.device_id
    assert not (await partner.user_verification_status(s.bot_id))["verified"]

    await partner.send_text(s.room, "hi")
    if mode == "verified":  # before: the bot answers, but withholds its room key from the unverified partner
        await partner.wait_for_message(s.bot_id, s.room, predicate=lambda m: bool(m["decryption_error"]), timeout=30)
        assert not [m for m in partner.messages(s.bot_id, s.room) if m["decrypted"]]
    else:
        await partner.wait_for_message(s.bot_id, s.room, predicate=lambda m: m["decrypted"], timeout=30)
        assert transport._trust.pinned(s.partner_id) == partner.master_key

    txn, shown, post = await _start(s, confirm=True if user_first else None)
    assert format_emoji([(sym, name) for sym, name in shown["emoji"]]) in post.body
    assert " ".join(str(n) for n in shown["decimal"]) in post.body
    assert s.partner_id in post.body and device_id in post.body
    assert not transport._trust.is_verified_identity(s.partner_id)

    await admin.send_text(s.admin_room, f"!devices sas {txn} match")
    if not user_first:
        await admin.wait_for_message(s.bot_id, s.admin_room, contains=f"Confirmed {txn}", timeout=30)
        await partner.verification_answer(txn, match=True)
    await admin.wait_for_message(s.bot_id, s.admin_room, contains="are verified", timeout=30)
    await partner.wait_for_verification(txn, "done", timeout=30)

    # The partner's client: the bot's identity is verified (its master key signed by the partner's USK).
    # (the client uploads its signature of the bot's master key after "done": poll, bounded)
    for _ in range(40):
        status = await partner.user_verification_status(s.bot_id)
        if status["verified"]:
            break
        await asyncio.sleep(0.25)
    assert status["verified"], status
    # The bot: the partner's identity is pinned as verified, the device trusted, and the partner's
    # master key carries a valid signature by the bot's user-signing key on the homeserver.
    assert transport._trust.is_verified_identity(s.partner_id)
    device = transport.client.device_store[s.partner_id][device_id]
    assert transport._trust.is_trusted(device)
    assert transport.identity is not None
    master = await _partner_master(transport, s.partner_id)
    assert has_valid_signature(master, s.bot_id, transport.identity.user_signing_public)
    audits = s.harness.audits
    assert (s.partner_id, "matrix.device_verified", device_id, "done") in audits
    assert any(a[:2] == (s.partner_id, "matrix.identity_verified") and a[3] == "done" for a in audits)

    # After: the bot's answers are readable on the partner's device, with no warning shield.
    await partner.send_text(s.room, "hi again")
    reply = await partner.wait_for_message(
        s.bot_id, s.room, predicate=lambda m: m["decrypted"] and "hi again" in (m["body"] or ""), timeout=30
    )
    assert reply["shield"] is None or reply["shield"]["colour"] == "NONE", reply["shield"]
    assert time.monotonic() - t0 < 90


async def test_verify_user_in_dm_mismatch_cancels_and_trusts_nothing(
    synapse, new_user, scripted, bots, strict_clients, tmp_path
):
    s = await _setup(synapse, new_user, scripted, bots, strict_clients, tmp_path)
    transport, partner, admin = s.transport, s.partner, s.admin

    # The partner's own "match" in the DM is refused: only admins answer, in the admin room.
    txn, _shown, _post = await _start(s, confirm=None)
    await partner.send_text(s.room, f"!devices sas {txn} match")
    await _wait(lambda: (s.partner_id, "matrix.device_sas", txn, "denied") in s.harness.audits, 30, "the refusal")
    assert transport.sas.in_room.owns(txn)

    await partner.verification_answer(txn, match=True)
    await admin.send_text(s.admin_room, f"!devices sas {txn} mismatch")
    await admin.wait_for_message(s.bot_id, s.admin_room, contains=f"Cancelled {txn}", timeout=30)
    cancelled = await partner.wait_for_verification(txn, "cancelled", timeout=30)
    assert cancelled["cancel_code"] == "m.mismatched_sas"
    assert cancelled["cancelled_by"] == s.bot_id

    assert not transport.sas.in_room.owns(txn)
    assert not transport._trust.is_verified_identity(s.partner_id)
    device = transport.client.device_store[s.partner_id][partner.device_id]
    assert not transport._trust.is_trusted(device) and device.blacklisted
    assert transport.identity is not None
    master = await _partner_master(transport, s.partner_id)
    assert not has_valid_signature(master, s.bot_id, transport.identity.user_signing_public)
    assert not (await partner.user_verification_status(s.bot_id))["verified"]
    assert (s.partner_id, "matrix.device_verified", partner.device_id, "denied") in s.harness.audits


async def test_verify_user_in_dm_times_out_without_an_answer(
    synapse, new_user, scripted, bots, strict_clients, tmp_path
):
    s = await _setup(synapse, new_user, scripted, bots, strict_clients, tmp_path)
    s.transport.sas.timeout_seconds = 5.0
    txn, _shown, _post = await _start(s, confirm=True)
    await s.admin.wait_for_message(s.bot_id, s.admin_room, contains="timed out", timeout=30)
    cancelled = await s.partner.wait_for_verification(txn, "cancelled", timeout=30)
    assert cancelled["cancel_code"] == "m.timeout"
    assert not s.transport._trust.is_verified_identity(s.partner_id)
    assert not (await s.partner.user_verification_status(s.bot_id))["verified"]
