from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.blobs import BlobStore, new_blob_id
from storage.crypto import CryptoError, KeyRing, MasterKeyError, open_sealed, seal
from storage.models import DataKey
from storage.store import Shredded, Storage


def test_seal_roundtrip_and_tamper() -> None:
    key = os.urandom(32)
    sealed = seal(key, b"beneficiary list", b"blob:1")
    assert b"beneficiary" not in sealed
    assert open_sealed(key, sealed, b"blob:1") == b"beneficiary list"
    tampered = bytearray(sealed)
    tampered[20] ^= 1
    with pytest.raises(CryptoError):
        open_sealed(key, bytes(tampered), b"blob:1")
    with pytest.raises(CryptoError):
        open_sealed(key, sealed, b"blob:2")  # moved to another object
    with pytest.raises(CryptoError):
        open_sealed(os.urandom(32), sealed, b"blob:1")
    with pytest.raises(CryptoError):
        open_sealed(key, sealed[:10], b"blob:1")


def test_master_key_file_mode_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    ring = KeyRing.generate()
    ring.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing.load(path).keys == ring.keys
    assert "keys" not in repr(ring) or ring.active in repr(ring)
    assert ring.keys[ring.active].hex() not in repr(ring)
    path.write_text("{not json")
    with pytest.raises(MasterKeyError, match="malformed"):
        KeyRing.load(path)
    with pytest.raises(MasterKeyError, match="does not exist"):
        KeyRing.load(tmp_path / "nope.key")


def test_blob_store_atomic_and_sweep(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    store.ensure()
    bid = new_blob_id()
    store.put(bid, b"ciphertext")
    assert store.get(bid) == b"ciphertext"
    # a crash mid-write leaves only a temporary, never a half-written object
    stray = store.root / bid[:2] / f".{bid}.dead.tmp"
    stray.write_bytes(b"half")
    assert store.sweep() == 1 and not stray.exists()
    store.delete(bid)
    assert not store.exists(bid)
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")


async def test_field_sealing_binds_to_object(storage: Storage) -> None:
    async with storage.session() as s, s.begin():
        k1 = await storage.new_data_key(s, "test")
        k2 = await storage.new_data_key(s, "test")
    a = storage.seal_text(k1, "submission:1:filename", "Daw Hla list.xlsx")
    assert storage.open_text(k1, "submission:1:filename", a) == "Daw Hla list.xlsx"
    with pytest.raises(CryptoError):
        storage.open_text(k1, "submission:2:filename", a)  # copied to another row
    with pytest.raises(CryptoError):
        storage.open_text(k2, "submission:1:filename", a)  # under another object's key


async def test_blob_roundtrip_shred_and_rotation(storage: Storage, tmp_path: Path) -> None:
    async with storage.session() as s, s.begin():
        key = await storage.new_data_key(s, "submission")
    bid = new_blob_id()
    await storage.put_blob(key, bid, b"name,phone\nDaw Hla,09791234567\n")
    raw = storage.blobs.get(bid)
    assert b"Daw Hla" not in raw and b"0979" not in raw
    assert await storage.get_blob(key, bid) == b"name,phone\nDaw Hla,09791234567\n"

    # rotation re-wraps data keys without touching blobs
    old_active = storage.keyring.active
    key_file = tmp_path / "master.key"
    assert await storage.rotate_master_key(key_file) >= 1
    assert storage.keyring.active != old_active
    assert storage.blobs.get(bid) == raw
    reloaded = KeyRing.load(key_file)
    assert list(reloaded.keys) == [storage.keyring.active]
    async with storage.session() as s:
        again = await storage.data_key(s, key.id)
        row = await s.get(DataKey, key.id)
        assert row is not None and row.kek_id == storage.keyring.active
    assert again.key == key.key

    # shredding destroys the data key: the ciphertext can no longer be opened
    async with storage.session() as s, s.begin():
        await storage.shred(s, key.id)
    async with storage.session() as s:
        with pytest.raises(Shredded):
            await storage.data_key(s, key.id)
        shredded = (await s.execute(select(DataKey).where(DataKey.id == key.id))).scalar_one()
        assert shredded.wrapped_key is None and shredded.shredded_at is not None


async def test_old_master_key_alone_cannot_unwrap_after_rotation(storage: Storage, tmp_path: Path) -> None:
    old_ring = storage.keyring
    async with storage.session() as s, s.begin():
        key = await storage.new_data_key(s, "x")
    await storage.rotate_master_key(tmp_path / "master.key")
    async with storage.session() as s:
        row = await s.get(DataKey, key.id)
        assert row is not None and row.wrapped_key is not None
        with pytest.raises(CryptoError):
            old_ring.unwrap(row.kek_id, row.wrapped_key, row.id)
