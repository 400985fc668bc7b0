"""Smoke tests of the strict Element-stack client (tests/e2e/jsclient) over a real Synapse.

They prove the test client itself behaves like Element in "exclude insecure devices" mode, so that
bot tests built on it mean something:

* two cross-signed strict clients talk with a clean shield (colour NONE);
* a device its owner did not cross-sign gets no room keys (withheld ``m.unverified``), cannot send in
  strict mode, and what it sends from a lax client is refused (``UNSIGNED_SENDER_DEVICE``);
* an unencrypted event can still be pushed into an encrypted room (the attacker path);
* encrypted attachments and replies round-trip;
* a second device signed through the recovery key or ``crossSignDevice`` is accepted;
* a verified user's identity reset blocks sending (Element's verification-violation rule);
* a matrix-nio device (no cross-signing) is refused by a strict client and red-shielded by a lax one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tests.e2e import strict_client as _strict_client
from tests.e2e.strict_client import Message, StrictClient, StrictClientError, StrictClientFactory
from tests.e2e.synapse import RegisteredUser, ScriptedUser

# The fixture (conftest.py may import it too; then this line is redundant but harmless).
strict_clients = _strict_client.strict_clients

pytestmark = [pytest.mark.e2e]

NewUser = Callable[[str], RegisteredUser]


def settled(m: Message) -> bool:
    """Decryption finished one way or the other."""
    return bool(m["decrypted"] or m["decryption_error"])


async def open_dm(alice: StrictClient, bob: StrictClient) -> str:
    assert alice.user_id and bob.user_id
    room = await alice.create_dm(bob.user_id)
    await bob.wait_for_event("invite", lambda e: e["room_id"] == room, timeout=20)
    await bob.join(room)
    await alice.wait_member(room, bob.user_id)
    return room


async def test_two_strict_clients_exchange_text(strict_clients: StrictClientFactory, new_user: NewUser) -> None:
    alice, bob = await asyncio.gather(strict_clients(new_user("alice")), strict_clients(new_user("bob")))
    for c in (alice, bob):
        assert c.login_reply["cross_signed"] is True
        assert c.recovery_key and c.master_key
        assert await c.own_master_key() == c.master_key
        status = await c.cross_signing_status()
        assert status["cross_signing_ready"] and status["own_device_signed"]
        assert status["private_keys_in_secret_storage"]
    room = await open_dm(alice, bob)

    sent = await alice.send_text(room, "hello Bob")
    got = await bob.wait_for_message(alice.user_id or "", room, settled, timeout=20)
    assert got["event_id"] == sent["event_id"]
    assert got["decrypted"] and got["body"] == "hello Bob" and got["room_encrypted"]
    assert got["shield"] == {"colour": "NONE", "reason": None}

    sent = await bob.send_text(room, "hello Alice")
    got = await alice.wait_for_message(bob.user_id or "", room, settled, timeout=20)
    assert got["event_id"] == sent["event_id"]
    assert got["decrypted"] and got["body"] == "hello Alice"
    assert got["shield"] == {"colour": "NONE", "reason": None}

    device = await alice.device_info(bob.user_id or "", bob.device_id or "")
    assert device["known"] and device["signed_by_owner"] and not device["cross_signing_verified"]
    user = await alice.user_verification_status(bob.user_id or "")
    assert user["known"] and user["has_cross_signing_keys"] and not user["verified"]


async def test_insecure_device_is_excluded_both_ways(strict_clients: StrictClientFactory, new_user: NewUser) -> None:
    alice_user, bob_user = new_user("alice"), new_user("bob")
    alice, bob = await asyncio.gather(strict_clients(alice_user), strict_clients(bob_user))
    insecure = await strict_clients(bob_user, cross_sign=False, device_name="insecure")
    assert insecure.login_reply["cross_signed"] is False
    room = await open_dm(alice, bob)
    await insecure.wait_member(room, bob_user.user_id)
    device = await alice.device_info(bob_user.user_id, insecure.device_id or "")  # Bob is tracked now
    assert device["known"] and not device["signed_by_owner"]

    # Alice's room key goes to Bob's signed device only; the insecure one is told "m.unverified".
    sent = await alice.send_text(room, "not for insecure devices")
    ok = await bob.wait_for_message(alice_user.user_id, room, settled, timeout=20)
    assert ok["decrypted"] and ok["shield"] == {"colour": "NONE", "reason": None}
    refused = await insecure.wait_for_message(alice_user.user_id, room, settled, timeout=20)
    assert refused["event_id"] == sent["event_id"]
    assert not refused["decrypted"] and refused["body"] is None
    assert refused["decryption_error"] == "MEGOLM_KEY_WITHHELD_FOR_UNVERIFIED_DEVICE"
    assert refused["withheld_code"] == "m.unverified"

    # In strict mode an unsigned device cannot even encrypt: the Rust SDK refuses up front.
    attempt = await insecure.send_text(room, "from an insecure device", allow_failure=True)
    assert attempt["sent"] is False
    assert "your device is not verified" in attempt["error"]

    # A lax client (legacy "all devices" mode) on that device can send; strict receivers refuse it.
    await insecure.set_isolation("all")
    sent = await insecure.send_text(room, "from an insecure device")
    got = await alice.wait_for_message(bob_user.user_id, room, lambda m: m["event_id"] == sent["event_id"], timeout=20)
    assert not got["decrypted"] and got["body"] is None
    assert got["decryption_error"] == "UNSIGNED_SENDER_DEVICE"
    assert got["shield"] is None


async def test_plain_event_into_encrypted_room(strict_clients: StrictClientFactory, new_user: NewUser) -> None:
    alice, bob = await asyncio.gather(strict_clients(new_user("alice")), strict_clients(new_user("bob")))
    room = await open_dm(alice, bob)
    sent = await alice.send_text(room, "cleartext in an encrypted room", plain=True)
    assert sent["sent"] and sent["plain"]
    got = await bob.wait_for_message(alice.user_id or "", room, lambda m: m["event_id"] == sent["event_id"], timeout=20)
    assert got["body"] == "cleartext in an encrypted room"
    assert got["encrypted"] is False and got["decrypted"] is False and got["room_encrypted"] is True
    assert got["shield"] is None


async def test_encrypted_file_and_reply_round_trip(strict_clients: StrictClientFactory, new_user: NewUser) -> None:
    alice, bob = await asyncio.gather(strict_clients(new_user("alice")), strict_clients(new_user("bob")))
    room = await open_dm(alice, bob)
    data = b"%PDF-1.4\n" + bytes(range(256)) * 64
    sent = await alice.send_file(room, data=data, filename="sitrep.pdf", mimetype="application/pdf")
    got = await bob.wait_for_message(alice.user_id or "", room, lambda m: m["event_id"] == sent["event_id"], timeout=20)
    assert got["decrypted"] and got["msgtype"] == "m.file" and got["body"] == "sitrep.pdf"
    assert got["shield"] == {"colour": "NONE", "reason": None}
    assert got["url"] is None  # encrypted attachments carry their mxc inside "file"
    assert got["file"]["url"] == sent["mxc"] and got["file"]["v"] == "v2"
    assert got["file"]["key"]["alg"] == "A256CTR"
    assert got["info"] == {"mimetype": "application/pdf", "size": len(data)}
    assert await bob.download(got["event_id"]) == data
    assert got["file"]["hashes"]["sha256"]  # of the ciphertext; download's decryptAttachment checks it

    reply = await bob.send_reply(room, "received, thanks", reply_to=got["event_id"])
    answer = await alice.wait_for_message(
        bob.user_id or "", room, lambda m: m["event_id"] == reply["event_id"], timeout=20
    )
    assert answer["decrypted"] and answer["body"] == "received, thanks"
    assert answer["relates_to"] == {"m.in_reply_to": {"event_id": got["event_id"]}}


async def test_second_device_signed_by_recovery_key_or_by_first_device(
    strict_clients: StrictClientFactory, new_user: NewUser
) -> None:
    alice_user, bob_user = new_user("alice"), new_user("bob")
    alice, bob = await asyncio.gather(strict_clients(alice_user), strict_clients(bob_user))
    # Element's "verify with recovery key": private keys come from secret storage, the device signs itself.
    second = await strict_clients(bob_user, device_name="laptop", recovery_key=bob.recovery_key)
    assert second.login_reply["cross_signed"] is True and second.master_key == bob.master_key
    # Without a recovery key a second cross_sign login is refused rather than silently resetting the identity.
    with pytest.raises(StrictClientError, match="already has a cross-signing identity"):
        await strict_clients(bob_user, device_name="no-key")
    # An insecure device becomes a good one once the first device signs it.
    later = await strict_clients(bob_user, cross_sign=False, device_name="later")
    assert (await alice.device_info(bob_user.user_id, later.device_id or ""))["signed_by_owner"] is False
    assert (await bob.cross_sign_device(later.device_id or ""))["signed_by_owner"] is True

    room = await open_dm(alice, bob)
    await asyncio.gather(second.wait_member(room, bob_user.user_id), later.wait_member(room, bob_user.user_id))
    for device in (second, later):
        info = await alice.device_info(bob_user.user_id, device.device_id or "")
        assert info["signed_by_owner"] is True
    sent = await alice.send_text(room, "to all three of Bob's devices")
    for device in (bob, second, later):
        got = await device.wait_for_message(alice_user.user_id, room, settled, timeout=20)
        assert got["event_id"] == sent["event_id"] and got["decrypted"], got
    # Signed by the first device, "later" receives keys, but it does not trust its own identity yet, and the
    # strict Rust SDK refuses to send from it; the new device's half of an own-device verification fixes that.
    attempt = await later.send_text(room, "too early", allow_failure=True)
    assert attempt["sent"] is False and "your device is not verified" in attempt["error"]
    await later.verify_user(bob_user.user_id)
    sent = await later.send_text(room, "from the device signed later")
    got = await alice.wait_for_message(bob_user.user_id, room, lambda m: m["event_id"] == sent["event_id"], timeout=20)
    assert got["decrypted"] and got["shield"] == {"colour": "NONE", "reason": None}


async def test_identity_reset_of_a_verified_user_blocks_sending(
    strict_clients: StrictClientFactory, new_user: NewUser
) -> None:
    alice, bob = await asyncio.gather(strict_clients(new_user("alice")), strict_clients(new_user("bob")))
    assert alice.login_reply["uia"] == ["none"]  # Synapse: first cross-signing upload needs no UIA
    room = await open_dm(alice, bob)
    await alice.verify_user(bob.user_id or "")
    assert (await alice.user_verification_status(bob.user_id or ""))["verified"] is True
    old_master = bob.master_key

    reset = await bob.reset_identity()
    assert reset["master_key"] != old_master and reset["previous_master_key"] == old_master
    assert reset["uia"][-1] == "password"  # replacing an identity needs the password (UIA)
    status = await alice.user_verification_status(bob.user_id or "")
    assert status["needs_user_approval"] and status["was_verified"] and not status["verified"]
    attempt = await alice.send_text(room, "are you still Bob?", allow_failure=True)
    assert attempt["sent"] is False
    assert "verified have changed their identity" in attempt["error"]


async def test_nio_device_without_cross_signing_is_refused(
    strict_clients: StrictClientFactory, new_user: NewUser, scripted: Callable[..., Awaitable[ScriptedUser]]
) -> None:
    """What a bot device without cross-signing gets from Element in strict mode (and from a lax client)."""
    alice_user = new_user("alice")
    alice = await strict_clients(alice_user)
    lax = await strict_clients(alice_user, recovery_key=alice.recovery_key, device_name="lax", isolation="all")
    nio_user = await scripted(new_user("niobot"), "nio-bot")
    room = await nio_user.create_room([alice_user.user_id])
    await alice.wait_for_event("invite", lambda e: e["room_id"] == room, timeout=20)
    await alice.join(room)
    await nio_user.wait_joined(room, alice_user.user_id)

    event_id = await nio_user.send_text(room, "hello from an unsigned nio device")
    strict_view = await alice.wait_for_message(nio_user.user_id, room, lambda m: m["event_id"] == event_id, timeout=20)
    assert not strict_view["decrypted"] and strict_view["decryption_error"] == "UNSIGNED_SENDER_DEVICE"
    lax_view = await lax.wait_for_message(nio_user.user_id, room, lambda m: m["event_id"] == event_id, timeout=20)
    assert lax_view["decrypted"] and lax_view["body"] == "hello from an unsigned nio device"
    assert lax_view["shield"] == {"colour": "RED", "reason": "UNSIGNED_DEVICE"}

    # Strict Alice's send "succeeds", but the nio device gets m.room_key.withheld (m.unverified), not the key.
    sent = await alice.send_text(room, "can the bot read this?")
    assert sent["sent"]
    from nio import MegolmEvent

    await nio_user.wait_until(
        lambda: any(getattr(ev, "event_id", None) == sent["event_id"] for _, ev in nio_user.events), 20
    )
    got = next(ev for _, ev in nio_user.events if getattr(ev, "event_id", None) == sent["event_id"])
    assert isinstance(got, MegolmEvent)  # still encrypted: no room key for an unsigned device
