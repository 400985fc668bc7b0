"""The audit log's head is anchored outside the database.

A hash chain alone cannot notice its newest entries being deleted: what remains is a
perfectly valid shorter chain. The anchor (``<master_key_file>.audit-head``, a record
of {count, last hash} per chained table, signed with a key derived from the master
key) is advanced after every append; ``audit verify`` compares the table with it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bot.cli import main
from storage.chain import entry_hash
from storage.models import AuditEntry
from storage.store import Storage


def _anchor_path(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".audit-head")


async def _fill(storage: Storage, n: int = 5) -> None:
    for i in range(n):
        await storage.audit(f"user:{i}", "partner", "submission.get", f"S-{i:04d}", "allowed")


async def _delete_from(storage: Storage, seq: int) -> None:
    async with storage.session() as s, s.begin():
        await s.execute(delete(AuditEntry).where(AuditEntry.seq >= seq))


# ---------------------------------------------------------------------------- library


async def test_deleting_the_newest_entry_is_detected(storage: Storage) -> None:
    await _fill(storage)
    assert await storage.verify_audit() is None
    await _delete_from(storage, 5)
    problem = await storage.verify_audit()
    assert problem is not None, "removing the newest entry went unnoticed"
    assert problem.seq == 5 and "truncated" in problem.reason


async def test_deleting_every_entry_is_detected(storage: Storage) -> None:
    await _fill(storage, 3)
    await _delete_from(storage, 1)
    problem = await storage.verify_audit()
    assert problem is not None and problem.seq == 1 and "truncated" in problem.reason


async def test_rewritten_tail_of_the_same_length_is_detected(storage: Storage) -> None:
    """A forger replaces the newest entry by a well-formed one (same seq, valid link)."""
    await _fill(storage, 3)
    async with storage.session() as s, s.begin():
        rows = {r.seq: r for r in (await s.execute(select(AuditEntry))).scalars()}
        await s.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    async with storage.session() as s, s.begin():
        fields = {
            "seq": 3,
            "ts": rows[3].ts,
            "actor_id": "user:9",
            "actor_role": "imo",
            "action": "help",
            "object_id": None,
            "outcome": "allowed",
        }
        s.add(AuditEntry(prev_hash=rows[2].hash, hash=entry_hash(rows[2].hash, fields), **fields))
    problem = await storage.verify_audit()
    assert problem is not None and problem.seq == 3 and "anchored head" in problem.reason


async def test_appends_after_a_truncation_do_not_hide_it(storage: Storage, tmp_path: Path) -> None:
    """The bot keeps appending after entries 4-5 were deleted: the new entries 4, 5, 6 must
    not carry the anchor past the gap (that would make the truncation invisible)."""
    await _fill(storage, 5)
    await _delete_from(storage, 4)
    await _fill(storage, 3)
    assert len(await storage.audit_entries()) == 6
    head = json.loads(_anchor_path(tmp_path / "master.key").read_text())["heads"]["audit_log"]
    assert head["count"] == 5  # left where it was, as evidence
    problem = await storage.verify_audit()
    assert problem is not None and problem.seq == 5 and "rewritten or replaced" in problem.reason


async def test_anchor_file_is_private_and_signed(storage: Storage, tmp_path: Path) -> None:
    await _fill(storage, 2)
    path = _anchor_path(tmp_path / "master.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["heads"]["audit_log"]["count"] == 2
    # lowering the recorded count (to hide a truncation) breaks the signature
    data["heads"]["audit_log"]["count"] = 1
    path.write_text(json.dumps(data))
    problem = await storage.verify_audit()
    assert problem is not None and "anchor" in str(problem) and "authentication" in problem.reason


async def test_appends_keep_advancing_and_never_rewind(storage: Storage, tmp_path: Path) -> None:
    """Two writers (the bot and a CLI command: two Storage objects, two engines) append
    concurrently; the anchor ends at the table's real head and only ever moves forward."""
    other = await Storage.open(
        str(storage.engine.url.render_as_string(hide_password=False)), tmp_path / "blobs", tmp_path / "master.key"
    )
    try:
        await asyncio.gather(
            *(storage.audit("user:1", "imo", "a", None, "allowed") for _ in range(15)),
            *(other.audit("operator", "admin", "b", None, "done") for _ in range(15)),
        )
    finally:
        await other.close()
    rows = await storage.audit_entries()
    assert len(rows) == 30
    head = json.loads(_anchor_path(tmp_path / "master.key").read_text())["heads"]["audit_log"]
    assert head == {"count": 30, "hash": rows[-1].hash}
    assert await storage.verify_audit() is None


async def test_rotation_re_signs_the_anchor(storage: Storage, tmp_path: Path) -> None:
    await _fill(storage, 3)
    await storage.rotate_master_key(tmp_path / "master.key")
    data = json.loads(_anchor_path(tmp_path / "master.key").read_text())
    assert data["kid"] == storage.keyring.active
    assert await storage.verify_audit() is None
    await _delete_from(storage, 3)
    problem = await storage.verify_audit()
    assert problem is not None and "truncated" in problem.reason


# ---------------------------------------------------------------------------- CLI


@pytest.fixture
def site(tmp_path: Path) -> Path:
    d = tmp_path / "site"
    assert main(["init", str(d)]) == 0
    pw = d / "secrets" / "matrix_password"
    pw.write_text("pw\n")
    pw.chmod(0o600)
    return d


def cli(site: Path, *args: str) -> int:
    return main([*args, "--config", str(site / "clusterbot.toml")])


def _sql(site: Path, statement: str) -> None:
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    db.execute(statement)
    db.commit()
    db.close()


def test_cli_verify_names_truncation(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("A", "B", "C"):
        assert cli(site, "admin", "org", "add", name) == 0
    capsys.readouterr()
    assert cli(site, "audit", "verify") == 0
    assert "intact: 3 entries" in capsys.readouterr().out
    _sql(site, "DELETE FROM audit_log WHERE seq = 3")
    assert cli(site, "audit", "verify") == 1
    out = capsys.readouterr()
    assert "intact" not in out.out
    err = out.err.strip()
    assert "BROKEN" in err and "entry 3" in err and "truncated" in err and "\n" not in err


def test_missing_anchor_on_an_existing_deployment_is_created_and_said(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("A", "B"):
        assert cli(site, "admin", "org", "add", name) == 0
    anchor = _anchor_path(site / "data" / "master.key")
    anchor.unlink()  # as on a deployment from before anchors existed
    capsys.readouterr()
    assert cli(site, "audit", "verify") == 0
    out = capsys.readouterr().out
    assert "intact" in out and "created" in out and str(anchor) in out
    assert anchor.exists() and stat.S_IMODE(anchor.stat().st_mode) == 0o600
    # from now on a truncation is caught
    rows = sqlite3.connect(site / "data" / "clusterbot.sqlite3").execute("SELECT max(seq) FROM audit_log").fetchone()
    _sql(site, f"DELETE FROM audit_log WHERE seq = {rows[0]}")
    assert cli(site, "audit", "verify") == 1
    assert "truncated" in capsys.readouterr().err


def test_first_append_without_anchor_creates_it_and_records_that(site: Path) -> None:
    """The bot (or any command) appending on an old deployment creates the anchor and
    leaves an 'audit.anchor_created' entry in the chain."""
    for name in ("A", "B"):
        assert cli(site, "admin", "org", "add", name) == 0
    anchor = _anchor_path(site / "data" / "master.key")
    anchor.unlink()
    assert cli(site, "admin", "org", "add", "C") == 0
    assert anchor.exists()
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY seq")]
    db.close()
    assert "audit.anchor_created" in actions
    assert cli(site, "audit", "verify") == 0


async def test_cli_processes_appending_beside_the_bot(site: Path) -> None:
    """Real processes: `clusterbot admin org add` (each appends to the audit log) run while
    this process, standing in for the bot, keeps appending. The anchor ends at the head."""
    import sys

    key = site / "data" / "master.key"
    store = await Storage.open(
        f"sqlite+aiosqlite:///{site / 'data' / 'clusterbot.sqlite3'}", site / "data" / "blobs", key
    )
    exe = str(Path(sys.executable).parent / "clusterbot")
    try:
        procs = [
            await asyncio.create_subprocess_exec(
                exe,
                "admin",
                "org",
                "add",
                f"Org {i}",
                "--config",
                str(site / "clusterbot.toml"),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            for i in range(4)
        ]
        while any(p.returncode is None for p in procs):
            await store.audit("user:1", "imo", "submission.get", None, "allowed")
            await asyncio.sleep(0)
        for p in procs:
            assert await p.wait() == 0, (await p.stderr.read()).decode() if p.stderr else ""
        rows = await store.audit_entries()
        assert sum(r.action == "admin.org_add" for r in rows) == 4
        head = json.loads(_anchor_path(key).read_text())["heads"]["audit_log"]
        assert head == {"count": len(rows), "hash": rows[-1].hash}
        assert await store.verify_audit() is None
    finally:
        await store.close()


def test_reanchor_after_a_restore(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Restoring an older database backup is a truncation as far as the anchor can tell;
    after checking, the operator re-anchors, and the chain records that."""
    for name in ("A", "B", "C"):
        assert cli(site, "admin", "org", "add", name) == 0
    _sql(site, "DELETE FROM audit_log WHERE seq = 3")
    assert cli(site, "audit", "verify") == 1
    capsys.readouterr()
    assert cli(site, "audit", "reanchor") == 0
    assert "was 3" in capsys.readouterr().out
    assert cli(site, "audit", "verify") == 0
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    actions = [r[0] for r in db.execute("SELECT action FROM audit_log ORDER BY seq")]
    db.close()
    assert actions[-1] == "audit.reanchor"


def test_consent_ledger_is_anchored_too(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from storage.consent import ConsentLedger

    async def record() -> None:
        store = await Storage.open(
            f"sqlite+aiosqlite:///{site / 'data' / 'clusterbot.sqlite3'}",
            site / "data" / "blobs",
            site / "data" / "master.key",
        )
        try:
            for i in range(3):
                await ConsentLedger(store).record(1, 1, "products", i % 2 == 0, "user:1")
        finally:
            await store.close()

    asyncio.run(record())
    capsys.readouterr()
    assert cli(site, "consent", "verify") == 0
    _sql(site, "DELETE FROM consent_ledger WHERE seq = 3")
    assert cli(site, "consent", "verify") == 1
    assert "truncated" in capsys.readouterr().err
