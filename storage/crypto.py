"""Envelope encryption at rest (AES-256-GCM).

Why envelopes: each stored object gets its own random data key (DEK). Only the DEK
is wrapped by the key-encryption key (KEK) from the master key file, so

* rotating the master key re-wraps a few hundred bytes per object instead of
  re-encrypting every blob (``clusterbot keys rotate``);
* deleting an object destroys its wrapped DEK, after which every copy of the
  ciphertext (backups included) is unreadable: crypto-shredding.

Associated data binds every ciphertext to the object it belongs to (for example
``blob:ab12...`` or ``submission_versions:17:filename``), so a ciphertext copied into
another row fails to decrypt instead of being shown as that row's content.

The master key file is JSON: ``{"active": "<kid>", "keys": {"<kid>": "<base64 32 bytes>"}}``.
Several keys may be present during a rotation; the active one wraps new DEKs.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_BYTES = 32
_FORMAT = b"\x01"  # ciphertext format version


class CryptoError(Exception):
    """Decryption failed: wrong key, wrong associated data, tampered or shredded."""


class MasterKeyError(Exception):
    """The master key file is missing, unreadable or malformed."""


def insecure_mode(path: Path, mode: int) -> str | None:
    """A one-line complaint when group or others may read or write a secret file, else None.

    Owner-only modes (0600, 0400) pass; so does a systemd credential (0400).
    """
    if stat.S_ISREG(mode) and mode & 0o077:
        return f"{path} has mode {stat.S_IMODE(mode):04o}: group or others may read or write it; run 'chmod 600 {path}'"
    return None


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def new_key_id() -> str:
    return "k" + secrets.token_hex(6)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt with a fresh random nonce; output is ``version || nonce || ciphertext+tag``."""
    nonce = os.urandom(NONCE_BYTES)
    return _FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != _FORMAT:
        raise CryptoError("ciphertext is malformed")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise CryptoError("ciphertext failed authentication (tampered, wrong key or wrong object)") from None


@dataclass
class KeyRing:
    """The key-encryption keys loaded from the master key file."""

    active: str
    keys: dict[str, bytes] = field(repr=False)

    def __repr__(self) -> str:
        return f"KeyRing(active={self.active!r}, key_ids={sorted(self.keys)!r})"

    @classmethod
    def generate(cls) -> KeyRing:
        kid = new_key_id()
        return cls(active=kid, keys={kid: new_key()})

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """Read the key file; refused unless only its owner may read and write it."""
        try:
            with path.open("rb") as fh:
                problem = insecure_mode(path, os.fstat(fh.fileno()).st_mode)
                if problem:
                    raise MasterKeyError(f"master key file {problem}")
                raw = fh.read().decode("utf-8")
        except FileNotFoundError:
            raise MasterKeyError(f"master key file {path} does not exist (run 'clusterbot init')") from None
        except UnicodeDecodeError:
            raise MasterKeyError(f"master key file {path} is malformed (not a clusterbot key file)") from None
        except OSError as exc:
            raise MasterKeyError(f"cannot read master key file {path}: {exc.strerror}") from None
        try:
            data = json.loads(raw)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            active = str(data["active"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise MasterKeyError(f"master key file {path} is malformed") from None
        if active not in keys or any(len(k) != KEY_BYTES for k in keys.values()):
            raise MasterKeyError(f"master key file {path} is malformed")
        return cls(active=active, keys=keys)

    def save(self, path: Path) -> None:
        """Write atomically with mode 0600 (the file is the root of all secrecy at rest)."""
        data = {
            "active": self.active,
            "keys": {kid: base64.b64encode(k).decode("ascii") for kid, k in self.keys.items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        os.chmod(path, 0o600)

    def wrap(self, dek: bytes, dek_id: str) -> tuple[str, bytes]:
        """Wrap a data key with the active KEK; returns (kek id, wrapped key)."""
        return self.active, seal(self.keys[self.active], dek, f"dek:{dek_id}".encode())

    def unwrap(self, kek_id: str, wrapped: bytes, dek_id: str) -> bytes:
        try:
            kek = self.keys[kek_id]
        except KeyError:
            raise CryptoError(f"master key {kek_id} is not in the key file") from None
        return open_sealed(kek, wrapped, f"dek:{dek_id}".encode())

    def derive(self, kid: str, purpose: bytes) -> bytes:
        """A 32-byte key for ``purpose`` derived (HKDF-SHA256) from master key ``kid``.

        Used to sign the audit head anchor: only a holder of the key file can write a
        valid one. Raises KeyError when ``kid`` is not in the key file.
        """
        return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(self.keys[kid])

    def with_new_active(self) -> KeyRing:
        kid = new_key_id()
        keys = dict(self.keys)
        keys[kid] = new_key()
        return KeyRing(active=kid, keys=keys)

    def only_active(self) -> KeyRing:
        return KeyRing(active=self.active, keys={self.active: self.keys[self.active]})
