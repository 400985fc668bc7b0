"""Cross-signing as plain data: keys, signatures, upload bodies, and identity checks.

Why this exists: since April 2026 Element excludes "insecure devices" (MSC4153): a device
its owner has not cross-signed can neither send to nor receive from Element users.
matrix-nio has no cross-signing, so the bot signs its own device here with Ed25519 and
canonical JSON (spec: "Signing JSON", "Cross-signing"), the way mautrix's
``crypto/cross_signing.py`` does for its bots.

Everything in this module is pure (no HTTP): the transport fetches ``/keys/query`` and
posts the bodies built here. That keeps the trust decisions unit-testable without Synapse.

Private keys are only ever held as :class:`CrossSigningKeys` and written sealed
(AES-256-GCM under a key derived from the Matrix pickle key) by :func:`seal_keys`.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SEALED_FILE = "cross_signing.sealed"
_SEAL_VERSION = 1
_SEAL_AAD = b"clusterbot cross-signing keys v1"


def b64(data: bytes) -> str:
    """Unpadded standard base64, as Matrix writes keys and signatures."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def canonical_json(obj: Any) -> bytes:
    """The spec's canonical JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _signable(obj: dict[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64(raw)


def sign_json(obj: dict[str, Any], signer_user: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    """A copy of ``obj`` with ``key``'s signature added under ``signatures[signer_user]``."""
    signature = b64(key.sign(_signable(obj)))
    signed = dict(obj)
    sigs = {u: dict(s) for u, s in (obj.get("signatures") or {}).items()}
    sigs.setdefault(signer_user, {})[f"ed25519:{public_b64(key)}"] = signature
    signed["signatures"] = sigs
    return signed


def has_valid_signature(obj: dict[str, Any], signer_user: str, signer_key_b64: str) -> bool:
    """True when ``obj`` carries a valid signature by the Ed25519 key ``signer_key_b64``."""
    sig = (obj.get("signatures") or {}).get(signer_user, {}).get(f"ed25519:{signer_key_b64}")
    if not isinstance(sig, str):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(unb64(signer_key_b64)).verify(unb64(sig), _signable(obj))
    except (InvalidSignature, ValueError):
        return False
    return True


def fingerprint(master_b64: str) -> str:
    """The master key as people compare it: groups of four characters."""
    return " ".join(master_b64[i : i + 4] for i in range(0, len(master_b64), 4))


@dataclass(frozen=True)
class CrossSigningKeys:
    """The bot's three private cross-signing keys. Never logged; ``repr`` shows only the master."""

    master: Ed25519PrivateKey
    self_signing: Ed25519PrivateKey
    user_signing: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @property
    def master_public(self) -> str:
        return public_b64(self.master)

    @property
    def self_signing_public(self) -> str:
        return public_b64(self.self_signing)

    @property
    def user_signing_public(self) -> str:
        return public_b64(self.user_signing)

    def __repr__(self) -> str:
        return f"CrossSigningKeys(master={self.master_public})"

    def upload_body(self, user_id: str) -> dict[str, Any]:
        """The body of ``POST /keys/device_signing/upload`` (without ``auth``)."""

        def key_obj(usage: str, key: Ed25519PrivateKey) -> dict[str, Any]:
            pub = public_b64(key)
            return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{pub}": pub}}

        master = key_obj("master", self.master)
        return {
            "master_key": master,
            "self_signing_key": sign_json(key_obj("self_signing", self.self_signing), user_id, self.master),
            "user_signing_key": sign_json(key_obj("user_signing", self.user_signing), user_id, self.master),
        }

    def sign_own_device(self, user_id: str, device_keys: dict[str, Any]) -> dict[str, Any]:
        """The device's key object signed by our self-signing key, for ``/keys/signatures/upload``."""
        return sign_json(_strip_unsigned(device_keys), user_id, self.self_signing)

    def sign_user(self, user_id: str, their_master: dict[str, Any]) -> dict[str, Any]:
        """Another user's master key signed by our user-signing key ("verified user")."""
        return sign_json(_strip_unsigned(their_master), user_id, self.user_signing)

    # -- sealing ---------------------------------------------------------------------

    def _raw(self) -> dict[str, str]:
        def priv(key: Ed25519PrivateKey) -> str:
            return b64(
                key.private_bytes(
                    serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
                )
            )

        return {
            "master": priv(self.master),
            "self_signing": priv(self.self_signing),
            "user_signing": priv(self.user_signing),
        }

    @classmethod
    def _from_raw(cls, raw: dict[str, str]) -> CrossSigningKeys:
        def load(name: str) -> Ed25519PrivateKey:
            return Ed25519PrivateKey.from_private_bytes(unb64(raw[name]))

        return cls(load("master"), load("self_signing"), load("user_signing"))


def _strip_unsigned(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "unsigned"}


class SealError(ValueError):
    """The sealed key file cannot be opened (wrong pickle key, or damaged)."""


def _seal_key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode("utf-8"))


def seal_keys(keys: CrossSigningKeys, passphrase: str) -> str:
    """Seal the private keys (AES-256-GCM, scrypt-derived key); returns the file's JSON text."""
    salt, nonce = os.urandom(16), os.urandom(12)
    plaintext = canonical_json(keys._raw())
    ciphertext = AESGCM(_seal_key(passphrase, salt)).encrypt(nonce, plaintext, _SEAL_AAD)
    return json.dumps(
        {
            "v": _SEAL_VERSION,
            "master_public": keys.master_public,
            "salt": b64(salt),
            "nonce": b64(nonce),
            "ciphertext": b64(ciphertext),
        }
    )


def sealed_master_public(sealed: str) -> str | None:
    """The public master key recorded beside the ciphertext (no pickle key needed)."""
    try:
        value = json.loads(sealed).get("master_public")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def unseal_keys(sealed: str, passphrase: str) -> CrossSigningKeys:
    try:
        data = json.loads(sealed)
        key = _seal_key(passphrase, unb64(data["salt"]))
        plaintext = AESGCM(key).decrypt(unb64(data["nonce"]), unb64(data["ciphertext"]), _SEAL_AAD)
        keys = CrossSigningKeys._from_raw(json.loads(plaintext))
    except Exception as exc:  # noqa: BLE001 - any failure: not our keys, or damaged; never echo content
        raise SealError(f"cannot open the sealed cross-signing keys ({type(exc).__name__})") from None
    if keys.master_public != data.get("master_public"):
        raise SealError("the sealed cross-signing keys do not match their recorded master key")
    return keys


# -- other users' identities ---------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A user's published cross-signing identity, with its internal signatures checked.

    ``self_signing`` is None when the self-signing key is missing or not signed by the
    master key; then no device of the user counts as signed.
    """

    user_id: str
    master: str
    self_signing: str | None
    master_obj: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.master)


def _single_key(obj: dict[str, Any] | None, user_id: str, usage: str) -> str | None:
    if not isinstance(obj, dict) or obj.get("user_id") != user_id or usage not in (obj.get("usage") or []):
        return None
    keys = [v for k, v in (obj.get("keys") or {}).items() if k.startswith("ed25519:") and isinstance(v, str)]
    return keys[0] if len(keys) == 1 else None


def identity_from_query(query: dict[str, Any], user_id: str) -> Identity | None:
    """The user's identity from a ``/keys/query`` response, or None if they have none."""
    master_obj = (query.get("master_keys") or {}).get(user_id)
    master = _single_key(master_obj, user_id, "master")
    if master is None or master_obj is None:
        return None
    ssk_obj = (query.get("self_signing_keys") or {}).get(user_id)
    ssk = _single_key(ssk_obj, user_id, "self_signing")
    if ssk is not None and ssk_obj is not None and not has_valid_signature(ssk_obj, user_id, master):
        ssk = None
    return Identity(user_id, master, ssk, master_obj)


def device_signed_by(identity: Identity, device_keys: dict[str, Any]) -> bool:
    """True when the device's key object is signed by the identity's self-signing key."""
    if identity.self_signing is None or device_keys.get("user_id") != identity.user_id:
        return False
    return has_valid_signature(device_keys, identity.user_id, identity.self_signing)
