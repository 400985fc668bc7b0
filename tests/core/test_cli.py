"""The clusterbot command line, run in-process (and once as the installed entry point)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def site(tmp_path: Path) -> Path:
    d = tmp_path / "site"
    assert main(["init", str(d)]) == 0
    (d / "secrets" / "matrix_password").write_text("pw\n")
    (d / "secrets" / "matrix_password").chmod(0o600)  # secret files must be private (else refused)
    return d


def cli(site: Path, *args: str) -> int:
    return main([*args, "--config", str(site / "clusterbot.toml")])


def test_init_creates_everything_and_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "site"
    assert main(["init", str(d)]) == 0
    key = d / "data" / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((d / "secrets" / "pickle_key").stat().st_mode) == 0o600
    assert (d / "data" / "clusterbot.sqlite3").exists()
    before = key.read_bytes()
    capsys.readouterr()
    assert main(["init", str(d)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "Traceback" not in err
    assert key.read_bytes() == before


def test_config_error_is_one_line_exit_2(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = site / "clusterbot.toml"
    cfg.write_text(cfg.read_text().replace("max_file_mb = 50", "max_file_mb = 'big'"))
    capsys.readouterr()
    assert cli(site, "admin", "user", "list") == 2
    err = capsys.readouterr().err.strip()
    assert err == "clusterbot: config error: screening.max_file_mb: expected a whole number, got str"


def test_admin_directory_commands(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(site, "admin", "org", "add", "Relief Org", "--sector", "protection") == 0
    assert cli(site, "admin", "user", "add", "@pia:example.org", "--org", "Relief Org", "--role", "partner") == 0
    assert cli(site, "admin", "user", "add", "@imo:example.org", "--role", "imo") == 0
    capsys.readouterr()
    assert cli(site, "admin", "user", "add", "@x:example.org", "--role", "partner") == 2
    assert "needs --org" in capsys.readouterr().err
    assert cli(site, "admin", "user", "add", "@x:example.org", "--org", "Nope", "--role", "partner") == 2
    assert cli(site, "admin", "user", "add", "@pia:example.org", "--org", "Relief Org", "--role", "partner") == 2
    assert cli(site, "admin", "user", "set-role", "@imo:example.org", "coordinator") == 0
    capsys.readouterr()
    assert cli(site, "admin", "user", "list") == 0
    out = capsys.readouterr().out
    assert "@pia:example.org\t-\tpartner\tRelief Org" in out and "@imo:example.org\t-\tcoordinator" in out
    assert cli(site, "admin", "user", "remove", "@pia:example.org") == 0
    capsys.readouterr()
    cli(site, "admin", "user", "list")
    assert "@pia" not in capsys.readouterr().out
    assert cli(site, "admin", "user", "remove", "@pia:example.org") == 2


def test_audit_verify_detects_tampering(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(site, "admin", "org", "add", "A")
    cli(site, "admin", "org", "add", "B")
    cli(site, "admin", "org", "add", "C")
    capsys.readouterr()
    assert cli(site, "audit", "verify") == 0
    assert "intact: 3 entries" in capsys.readouterr().out
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    db.execute("UPDATE audit_log SET actor_role = 'imo' WHERE seq = 2")
    db.commit()
    db.close()
    assert cli(site, "audit", "verify") == 1
    assert "entry 2" in capsys.readouterr().err


def test_keys_rotate_keeps_data_readable(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from storage.crypto import KeyRing

    cli(site, "admin", "org", "add", "A")  # creates no data keys; make one through the store
    from storage.store import Storage

    async def make_key() -> tuple[str, bytes]:
        store = await Storage.open(
            f"sqlite+aiosqlite:///{site / 'data' / 'clusterbot.sqlite3'}",
            site / "data" / "blobs",
            site / "data" / "master.key",
        )
        async with store.session() as s, s.begin():
            k = await store.new_data_key(s, "test")
        await store.close()
        return k.id, k.key

    async def read_key(kid: str) -> bytes:
        store = await Storage.open(
            f"sqlite+aiosqlite:///{site / 'data' / 'clusterbot.sqlite3'}",
            site / "data" / "blobs",
            site / "data" / "master.key",
        )
        async with store.session() as s:
            k = await store.data_key(s, kid)
        await store.close()
        return k.key

    kid, key = asyncio.run(make_key())
    old = KeyRing.load(site / "data" / "master.key").active
    capsys.readouterr()
    assert cli(site, "keys", "rotate") == 0
    assert "1 data keys re-wrapped" in capsys.readouterr().out
    assert KeyRing.load(site / "data" / "master.key").active != old
    assert asyncio.run(read_key(kid)) == key


def test_missing_master_key_is_a_clear_error(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "data" / "master.key").unlink()
    capsys.readouterr()
    assert cli(site, "admin", "user", "list") == 2
    err = capsys.readouterr().err
    assert "master key file" in err and "Traceback" not in err


def test_run_refuses_old_schema(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    db.execute("DELETE FROM alembic_version")
    db.commit()
    db.close()
    capsys.readouterr()
    assert cli(site, "admin", "user", "list") == 2
    assert "db upgrade" in capsys.readouterr().err


def test_entry_point_installed(tmp_path: Path) -> None:
    exe = shutil.which("clusterbot") or str(Path(sys.executable).parent / "clusterbot")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "init" in out.stdout and "audit" in out.stdout
    bad = subprocess.run(
        [exe, "audit", "verify", "--config", str(tmp_path / "none.toml")], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "cannot read config file" in bad.stderr


def _seed_consent_and_incident(site: Path) -> None:
    """Drive a real Application (memory transport) against the site's database."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.app import Application
    from bot.config import load_config
    from bot.events import Attachment
    from bot.transports.memory import MemoryTransport
    from handlers import WORKFLOWS

    async def go() -> None:
        cfg = load_config(site / "clusterbot.toml")
        t = MemoryTransport()
        t.encrypted_chats.add("!coord")
        app = await Application.create(
            cfg,
            transports=[t],
            executor=ThreadPoolExecutor(1),
            rooms={"coordinator": ("memory", "!coord")},
            workflows=WORKFLOWS,
        )
        await app.start(scheduler=False)
        try:
            await app.directory.add_org("Relief Org")
            await app.directory.add_user("@p:x.org", role="partner", org="Relief Org")
            await app.directory.add_user("@c:x.org", role="coordinator")
            await t.receive(
                "@p:x.org", "public", attachments=(Attachment("t.csv", "text/csv", b"State,People\nRakhine,5\n"),)
            )
            await t.receive("@p:x.org", "!consent S-0001 products yes")
            await t.receive("@p:x.org", "!consent S-0001 cluster no")
            for answer in ("!report", "laptop stolen with survey data", "skip", "skip", "skip", "skip", "yes"):
                await t.receive("@p:x.org", answer)
            await t.receive("@c:x.org", "!incident I-0001 close recovered", chat_id="!coord")
            await t.receive("@c:x.org", "!incident I-0001 learn encrypt laptops", chat_id="!coord")
        finally:
            await app.stop()

    asyncio.run(go())


def test_consent_and_incident_exports(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed_consent_and_incident(site)
    capsys.readouterr()
    assert cli(site, "consent", "verify") == 0
    assert "intact: 2 entries" in capsys.readouterr().out
    assert cli(site, "consent", "export", "--format", "csv") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "seq,submission,organisation,scope,decision,recorded_by,recorded_at"
    assert out[1].startswith("1,S-0001,Relief Org,products,yes,user:")
    assert cli(site, "consent", "export", "--org", "Nope") == 2
    capsys.readouterr()
    assert cli(site, "consent", "export", "--org", "Relief Org", "--format", "json") == 0
    assert '"scope": "cluster"' in capsys.readouterr().out
    assert cli(site, "incidents", "export", "--since", "2020-01-01") == 0
    out = capsys.readouterr().out
    assert "I-0001" in out and "closed" in out and "encrypt laptops" in out
    assert "laptop stolen" not in out and "@p:x.org" not in out  # no report text, no reporter identity
    assert cli(site, "incidents", "export", "--since", "yesterday") == 2
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    db.execute("UPDATE consent_ledger SET decision = 1 WHERE seq = 2")
    db.commit()
    db.close()
    capsys.readouterr()
    assert cli(site, "consent", "verify") == 1
    assert "entry 2" in capsys.readouterr().err
