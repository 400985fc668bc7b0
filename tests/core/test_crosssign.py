"""Cross-signing as plain data: signatures, sealing and identity checks, without Synapse."""

from __future__ import annotations

import json

import pytest

from bot.transports.matrix.crosssign import (
    CrossSigningKeys,
    SealError,
    canonical_json,
    device_signed_by,
    has_valid_signature,
    identity_from_query,
    seal_keys,
    unseal_keys,
)

USER = "@pia:localhost"


def _device(user: str = USER, device_id: str = "DEV1") -> dict:
    return {
        "user_id": user,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2"],
        "keys": {f"ed25519:{device_id}": "edkey", f"curve25519:{device_id}": "cvkey"},
        "unsigned": {"device_display_name": "phone"},
    }


def _query(keys: CrossSigningKeys, user: str = USER, devices: dict | None = None) -> dict:
    body = keys.upload_body(user)
    return {
        "master_keys": {user: body["master_key"]},
        "self_signing_keys": {user: body["self_signing_key"]},
        "device_keys": {user: devices or {}},
    }


def test_canonical_json_is_the_spec_form():
    assert (
        canonical_json({"b": 1, "a": "ü", "c": [1, {"y": 2, "x": 1}]})
        == '{"a":"ü","b":1,"c":[1,{"x":1,"y":2}]}'.encode()
    )


def test_signed_device_verifies_and_tampering_breaks_it():
    keys = CrossSigningKeys.generate()
    signed = keys.sign_own_device(USER, _device())
    assert "unsigned" not in signed
    identity = identity_from_query(_query(keys), USER)
    assert identity is not None and identity.master == keys.master_public
    assert device_signed_by(identity, signed)
    tampered = json.loads(json.dumps(signed))
    tampered["keys"]["ed25519:DEV1"] = "otherkey"
    assert not device_signed_by(identity, tampered)
    assert not device_signed_by(identity, _device())  # never signed


def test_device_signed_by_another_identity_is_not_signed():
    mine, attacker = CrossSigningKeys.generate(), CrossSigningKeys.generate()
    signed_by_attacker = attacker.sign_own_device(USER, _device())
    identity = identity_from_query(_query(mine), USER)
    assert identity is not None and not device_signed_by(identity, signed_by_attacker)


def test_self_signing_key_not_signed_by_master_is_ignored():
    keys, other = CrossSigningKeys.generate(), CrossSigningKeys.generate()
    query = _query(keys)
    query["self_signing_keys"][USER] = other.upload_body(USER)["self_signing_key"]  # signed by other master
    identity = identity_from_query(query, USER)
    assert identity is not None and identity.self_signing is None
    assert not device_signed_by(identity, other.sign_own_device(USER, _device()))


def test_master_key_of_another_user_is_not_an_identity():
    keys = CrossSigningKeys.generate()
    query = _query(keys, user="@mallory:localhost")
    query["master_keys"][USER] = query["master_keys"].pop("@mallory:localhost")
    assert identity_from_query(query, USER) is None
    assert identity_from_query({}, USER) is None


def test_user_signature_by_our_user_signing_key():
    ours, theirs = CrossSigningKeys.generate(), CrossSigningKeys.generate()
    their_master = theirs.upload_body(USER)["master_key"]
    signed = ours.sign_user("@bot:localhost", their_master)
    assert has_valid_signature(signed, "@bot:localhost", ours.user_signing_public)
    assert not has_valid_signature(signed, "@bot:localhost", ours.self_signing_public)


def test_sealed_keys_roundtrip_and_hold_no_private_key_in_clear():
    keys = CrossSigningKeys.generate()
    sealed = seal_keys(keys, "pickle-passphrase")
    raw = keys._raw()
    for private in raw.values():
        assert private not in sealed
    again = unseal_keys(sealed, "pickle-passphrase")
    assert again.master_public == keys.master_public and again._raw() == raw
    with pytest.raises(SealError):
        unseal_keys(sealed, "wrong passphrase")
    assert "CrossSigningKeys(master=" in repr(keys) and raw["master"] not in repr(keys)
