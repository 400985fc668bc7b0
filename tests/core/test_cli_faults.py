"""Operator faults, as a table: each runs the real ``clusterbot`` CLI in a subprocess
against a site made by ``clusterbot init`` and expects exit status 2, exactly one line on
stderr naming the thing at fault, no traceback and no secret.

PostgreSQL cases need a server at 127.0.0.1:5432 (trust auth, user postgres); they never
touch the shared ``test`` database (wrong ports, users and database names need none, and
``init --database-url`` makes and drops its own database).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
PG_HOST, PG_PORT = "127.0.0.1", 5432
PASSWORD = "hunter2-not-to-be-shown"  # in database URLs: must never be printed


def _pg_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


PG = _pg_answers()
needs_pg = pytest.mark.skipif(not PG, reason=f"no PostgreSQL answers at {PG_HOST}:{PG_PORT}")


# root ignores file modes: the unprivileged cases drop the capabilities that let it
DROP_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"] if os.geteuid() == 0 else []


def clusterbot(
    *args: str, cwd: Path | None = None, unprivileged: bool = False, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    prefix = DROP_DAC if unprivileged else []
    try:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "bot.cli", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd or ROOT,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:  # e.g. a bot that started instead of refusing
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return subprocess.CompletedProcess(exc.cmd, -9, "", f"<timed out after {timeout}s>\n{err}")


# ---------------------------------------------------------------------- the site


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("template") / "site"
    assert main(["init", str(d)]) == 0
    pw = d / "secrets" / "matrix_password"
    pw.write_text(PASSWORD + "\n")
    pw.chmod(0o600)
    _set(d, "matrix", "homeserver", "http://127.0.0.1:9")  # never a real network
    return d


@pytest.fixture
def site(template: Path) -> Iterator[Path]:
    """A fresh copy of the template."""
    top = Path(tempfile.mkdtemp(prefix="cb-faults-"))
    top.chmod(0o755)
    d = top / "site"
    shutil.copytree(template, d)
    yield d
    shutil.rmtree(top, ignore_errors=True)


def _set(site: Path, section: str, key: str, value: str) -> None:
    """Set ``key = "value"`` in ``[section]`` of the site's config (replacing any line for it)."""
    cfg = site / "clusterbot.toml"
    out: list[str] = []
    current = None
    for line in cfg.read_text().splitlines():
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            current = s[1:-1]
            out.append(line)
            if current == section:
                out.append(f'{key} = "{value}"')
            continue
        if current == section and s.replace(" ", "").startswith(f"{key}="):
            continue
        out.append(line)
    cfg.write_text("\n".join(out) + "\n")


def _other_key() -> bytes:
    from storage.crypto import KeyRing

    ring = KeyRing.generate()
    return json.dumps(
        {"active": ring.active, "keys": {k: base64.b64encode(v).decode() for k, v in ring.keys.items()}}
    ).encode()


# ---------------------------------------------------------------------- the table


@dataclass
class Fault:
    id: str
    args: tuple[str, ...]  # "--config SITE" is added
    prepare: Callable[[Path], None] = lambda site: None
    names: Callable[[Path], list[str]] = lambda site: []  # what the line must name
    secrets: Callable[[Path], list[str]] = lambda site: [PASSWORD]
    unprivileged: bool = False  # run as an unprivileged user (file modes mean nothing to root)
    pg: bool = False
    marks: list[pytest.MarkDecorator] = field(default_factory=list)
    no_config: bool = False


NOPE_DB = f"clusterbot_nope_{secrets.token_hex(4)}"


def _pg(url: str) -> Callable[[Path], None]:
    return lambda site: _set(site, "storage", "database_url", url)


def _write(rel: str, data: bytes, mode: int = 0o600) -> Callable[[Path], None]:
    def go(site: Path) -> None:
        p = site / rel
        p.write_bytes(data)
        p.chmod(mode)

    return go


def _chmod(rel: str, mode: int) -> Callable[[Path], None]:
    return lambda site: (site / rel).chmod(mode)


def _foreign_readonly(rel: str) -> Callable[[Path], None]:
    """A folder of another user, read-only (one's own 0500 folder is made 0700 again)."""

    def go(site: Path) -> None:
        p = site / rel
        if os.geteuid() == 0:
            os.chown(p, 65534, 65534)
        p.chmod(0o555)

    return go


def _blob_dir_is_a_file(site: Path) -> None:
    _write("data/notadir", b"x")(site)
    _set(site, "storage", "blob_dir", "data/notadir")


def _named(*names: str) -> Callable[[Path], list[str]]:
    return lambda site: list(names)


def _key_secrets(site: Path) -> list[str]:
    raw = json.loads((site / "data" / "master.key").read_text())
    return [PASSWORD, *raw["keys"].values()]


def _drop_alembic(site: Path) -> None:
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    db.execute("DELETE FROM alembic_version")
    db.commit()
    db.close()


def _wrong_key(site: Path) -> None:
    # the database gets some sealed data under the right key first
    assert main(["admin", "org", "add", "Relief Org", "--config", str(site / "clusterbot.toml")]) == 0
    _write("data/master.key", _other_key())(site)


def _both_keys(site: Path) -> list[str]:
    return _key_secrets(site)


def _matrix_ran_before(site: Path) -> None:
    """The bot ran on Matrix before (the database remembers its device), then the store
    folder was deleted."""
    from storage.store import MATRIX_DEVICE_SETTING

    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    db.execute(
        "INSERT INTO settings (name, value) VALUES (?, ?)",
        (MATRIX_DEVICE_SETTING, json.dumps({"user_id": "@clusterbot:example.org", "device_id": "OLDDEVICE"})),
    )
    db.commit()
    db.close()
    shutil.rmtree(site / "data" / "matrix-store", ignore_errors=True)


def _two_users_one_linked(site: Path) -> None:
    cfg = str(site / "clusterbot.toml")
    assert main(["admin", "user", "add", "@a:example.org", "--role", "imo", "--config", cfg]) == 0
    assert main(["admin", "user", "add", "@b:example.org", "--role", "imo", "--config", cfg]) == 0
    assert main(["admin", "user", "link-telegram", "@a:example.org", "123456789", "--config", cfg]) == 0


def _one_user(site: Path) -> None:
    assert (
        main(["admin", "user", "add", "@a:example.org", "--role", "imo", "--config", str(site / "clusterbot.toml")])
        == 0
    )


def _gazetteer_without_names(site: Path) -> None:
    (site / "mimu.csv").write_text("a,b\n1,2\n")
    _set(site, "screening", "gazetteer_file", "mimu.csv")


def _csv(site: Path) -> None:
    (site / "in.csv").write_text("name,village\nA,B\n")


STORAGE_CMDS = [("admin", "user", "list"), ("audit", "verify"), ("run",)]

FAULTS: list[Fault] = [
    # ---- the database
    *[
        Fault(
            f"pg-missing-database-{c[0]}",
            c,
            _pg(f"postgresql+asyncpg://postgres:{PASSWORD}@{PG_HOST}:{PG_PORT}/{NOPE_DB}"),
            lambda s: [NOPE_DB, "does not exist"],
            pg=True,
        )
        for c in STORAGE_CMDS
    ],
    Fault(
        "pg-wrong-port",
        ("admin", "user", "list"),
        _pg(f"postgresql+asyncpg://postgres:{PASSWORD}@{PG_HOST}:1/clusterbot"),
        lambda s: [f"{PG_HOST}:1/clusterbot"],
        pg=True,
    ),
    Fault(
        "pg-wrong-port-run",
        ("run",),
        _pg(f"postgresql+asyncpg://postgres:{PASSWORD}@{PG_HOST}:1/clusterbot"),
        lambda s: [f"{PG_HOST}:1/clusterbot"],
        pg=True,
    ),
    Fault(
        "pg-wrong-user",
        ("admin", "user", "list"),
        _pg(f"postgresql+asyncpg://nouser_cb:{PASSWORD}@{PG_HOST}:{PG_PORT}/clusterbot"),
        lambda s: ["nouser_cb"],
        pg=True,
    ),
    *[
        Fault(
            f"sqlite-typo-{c[0]}",
            c,
            _pg("sqlite+aiosqlite:///data/clusterbot.sqlite"),
            lambda s: [str(s / "data" / "clusterbot.sqlite")],
        )
        for c in STORAGE_CMDS
    ],
    Fault("old-schema", ("admin", "user", "list"), _drop_alembic, lambda s: ["clusterbot db upgrade"]),
    Fault("old-schema-run", ("run",), _drop_alembic, lambda s: ["clusterbot db upgrade"]),
    # ---- the blob folder
    Fault(
        "blob-dir-is-a-file", ("admin", "user", "list"), _blob_dir_is_a_file, lambda s: [str(s / "data" / "notadir")]
    ),
    Fault(
        "blob-dir-uncreatable",
        ("admin", "user", "list"),
        lambda s: _set(s, "storage", "blob_dir", "sensitive_areas.txt/blobs"),
        lambda s: [str(s / "sensitive_areas.txt" / "blobs")],
    ),
    Fault(
        "blob-dir-not-writable",
        ("admin", "user", "list"),
        _foreign_readonly("data/blobs"),
        lambda s: [str(s / "data" / "blobs")],
        unprivileged=True,
    ),
    Fault(
        "blob-dir-not-writable-run",
        ("run",),
        _foreign_readonly("data/blobs"),
        lambda s: [str(s / "data" / "blobs")],
        unprivileged=True,
    ),
    # ---- key files
    Fault(
        "master-key-unreadable",
        ("admin", "user", "list"),
        _chmod("data/master.key", 0o200),
        lambda s: [str(s / "data" / "master.key")],
        _key_secrets,
        unprivileged=True,
    ),
    Fault(
        "master-key-binary",
        ("admin", "user", "list"),
        _write("data/master.key", b"\xff\xfe\x00\x01garbage"),
        lambda s: [str(s / "data" / "master.key")],
    ),
    *[
        Fault(
            f"master-key-mode-0644-{c[0]}",
            c,
            _chmod("data/master.key", 0o644),
            lambda s: [str(s / "data" / "master.key"), "chmod 600"],
            _key_secrets,
        )
        for c in [*STORAGE_CMDS, ("keys", "rotate"), ("db", "upgrade")]
    ],
    Fault(
        "password-file-mode-0644-run",
        ("run",),
        _chmod("secrets/matrix_password", 0o644),
        lambda s: [str(s / "secrets" / "matrix_password"), "chmod 600"],
    ),
    Fault(
        "password-file-mode-0644-admin",
        ("admin", "user", "list"),
        _chmod("secrets/matrix_password", 0o644),
        lambda s: [str(s / "secrets" / "matrix_password"), "chmod 600"],
    ),
    Fault(
        "password-file-unreadable-run",
        ("run",),
        _chmod("secrets/matrix_password", 0o200),
        lambda s: [str(s / "secrets" / "matrix_password")],
        unprivileged=True,
    ),
    Fault(
        "pickle-key-mode-0640-run",
        ("run",),
        _chmod("secrets/pickle_key", 0o640),
        lambda s: [str(s / "secrets" / "pickle_key"), "chmod 600"],
    ),
    *[
        Fault(
            f"wrong-master-key-{'-'.join(c[:2])}",
            c,
            _wrong_key,
            lambda s: [str(s / "data" / "master.key"), "does not open this database"],
            _both_keys,
        )
        for c in [*STORAGE_CMDS, ("keys", "rotate"), ("consent", "export"), ("db", "upgrade")]
    ],
    # ---- screening, Matrix store
    Fault(
        "sensitive-areas-missing-run",
        ("run",),
        lambda s: (s / "sensitive_areas.txt").unlink(),
        lambda s: [str(s / "sensitive_areas.txt")],
    ),
    Fault(
        "gazetteer-missing-run",
        ("run",),
        lambda s: _set(s, "screening", "gazetteer_file", "mimu.csv"),
        lambda s: [str(s / "mimu.csv")],
    ),
    Fault("gazetteer-without-names-run", ("run",), _gazetteer_without_names, lambda s: [str(s / "mimu.csv")]),
    Fault(
        "matrix-store-deleted-run",
        ("run",),
        _matrix_ran_before,
        lambda s: [str(s / "data" / "matrix-store"), "clusterbot matrix reset-device"],
    ),
    # ---- the directory
    Fault(
        "telegram-id-already-linked",
        ("admin", "user", "link-telegram", "@b:example.org", "123456789"),
        _two_users_one_linked,
        lambda s: ["123456789", "already linked"],
    ),
    *[
        Fault(
            f"telegram-id-invalid-{i}",
            ("admin", "user", "link-telegram", "@a:example.org", bad),
            _one_user,
            _named(repr(bad)),
        )
        for i, bad in enumerate(("abc", "-5", "0", "@pia"))
    ],
    *[
        Fault(
            f"telegram-id-invalid-add-{i}",
            ("admin", "user", "add", bad, "--telegram", "--role", "imo"),
            names=_named(repr(bad)),
        )
        for i, bad in enumerate(("-5", "0"))
    ],
    # ---- files named on the command line
    Fault(
        "init-over-a-file",
        ("init", "SITE/sensitive_areas.txt"),
        names=lambda s: [str(s / "sensitive_areas.txt")],
        no_config=True,
    ),
    Fault(
        "pseudonymize-into-missing-folder",
        ("pseudonymize", "SITE/in.csv", "SITE/nodir/out.csv"),
        _csv,
        lambda s: [str(s / "nodir")],
        no_config=True,
    ),
]


def _param(f: Fault) -> object:
    marks = list(f.marks)
    if f.pg:
        marks.append(needs_pg)
    if f.unprivileged and os.geteuid() == 0 and not shutil.which("setpriv"):
        marks.append(pytest.mark.skip(reason="running as root without setpriv: file modes cannot be tested"))
    return pytest.param(f, id=f.id, marks=marks)


@pytest.mark.parametrize("fault", [_param(f) for f in FAULTS])
def test_fault_is_one_line_exit_2(fault: Fault, site: Path) -> None:
    fault.prepare(site)
    args = [a.replace("SITE", str(site)) for a in fault.args]
    if not fault.no_config:
        args += ["--config", str(site / "clusterbot.toml")]
    hidden = fault.secrets(site)
    out = clusterbot(*args, cwd=site, unprivileged=fault.unprivileged, timeout=25)
    lines = out.stderr.splitlines()
    assert out.returncode == 2, f"exit {out.returncode}; stderr:\n{out.stderr[-3000:]}"
    assert "Traceback" not in out.stderr
    assert len(lines) == 1 and lines[0].strip(), f"expected one line, got {len(lines)}:\n{out.stderr[-3000:]}"
    line = lines[0]
    for name in fault.names(site):
        assert name in line, f"{name!r} not named in: {line}"
    for secret in hidden:
        assert secret not in line and secret not in out.stdout, "a secret was printed"


def test_sqlite_typo_creates_no_file(site: Path) -> None:
    _set(site, "storage", "database_url", "sqlite+aiosqlite:///data/typo.sqlite3")
    out = clusterbot("admin", "org", "list", "--config", str(site / "clusterbot.toml"))
    assert out.returncode == 2 and "typo.sqlite3" in out.stderr
    assert not (site / "data" / "typo.sqlite3").exists()


# ---------------------------------------------------------------------- what must work


def test_storage_commands_need_no_transport_secrets(site: Path) -> None:
    """admin/audit/consent never talk to Matrix or Telegram: no password file, no token."""
    (site / "secrets" / "matrix_password").unlink()
    cfg = site / "clusterbot.toml"
    cfg.write_text(cfg.read_text().replace("[telegram]\nenabled = false", "[telegram]\nenabled = true"))
    for args in (
        ("admin", "org", "add", "Relief Org"),
        ("admin", "user", "list"),
        ("audit", "verify"),
        ("consent", "verify"),
    ):
        out = clusterbot(*args, "--config", str(cfg))
        assert out.returncode == 0, out.stderr
    out = clusterbot("run", "--config", str(cfg))
    assert out.returncode == 2 and "password" in out.stderr and len(out.stderr.splitlines()) == 1


def test_consent_export_json_empty_is_a_json_array(site: Path) -> None:
    out = clusterbot("consent", "export", "--format", "json", "--config", str(site / "clusterbot.toml"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_config_is_optional_everywhere(site: Path) -> None:
    """No subcommand requires --config: it defaults to clusterbot.toml in the current folder."""
    parser = build_parser()
    for argv in (
        ["admin", "device", "trust", "@u:x.org", "DEV"],
        ["matrix", "reset-device"],
        ["admin", "user", "list"],
        ["run"],
        ["db", "upgrade"],
    ):
        args = parser.parse_args(argv)
        assert getattr(args, "config", None) in (None, "clusterbot.toml", os.environ.get("CLUSTERBOT_CONFIG"))
    out = clusterbot("admin", "org", "list", cwd=site)
    assert out.returncode == 0, out.stderr
    out = clusterbot("admin", "device", "trust", "@u:x.org", "DEV", cwd=site.parent)
    assert out.returncode == 2 and "clusterbot.toml" in out.stderr and len(out.stderr.splitlines()) == 1


def _walk(parser: object, path: str = "clusterbot") -> Iterator[tuple[str, object]]:
    import argparse

    assert isinstance(parser, argparse.ArgumentParser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{path} {name}", helps.get(name)
                yield from _walk(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield f"{path} {'/'.join(action.option_strings) or action.dest}", action.help


def test_every_command_and_option_has_help() -> None:
    """Every command of the table, the mounted screening commands included."""
    aliases = ("clusterbot pseudonymise",)  # the British spelling of pseudonymize, which has the help
    missing = [where for where, text in _walk(build_parser()) if not text and where not in aliases]
    assert not missing, f"no help text: {missing}"


def test_init_into_existing_database_url_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "bot.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    out = clusterbot("init", str(tmp_path / "site"), "--database-url", url)
    assert out.returncode == 0, out.stderr
    assert db.exists()
    assert f'database_url = "{url}"' in (tmp_path / "site" / "clusterbot.toml").read_text()
    assert not (tmp_path / "site" / "data" / "clusterbot.sqlite3").exists()
    out = clusterbot("admin", "org", "list", "--config", str(tmp_path / "site" / "clusterbot.toml"))
    assert out.returncode == 0, out.stderr


@needs_pg
def test_init_with_postgresql_database_url(tmp_path: Path) -> None:
    import asyncpg

    name = f"clusterbot_faults_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        url = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
        site = tmp_path / "site"
        out = clusterbot("init", str(site), "--database-url", url)
        assert out.returncode == 0, out.stderr
        assert f'database_url = "{url}"' in (site / "clusterbot.toml").read_text()
        assert not (site / "data" / "clusterbot.sqlite3").exists()
        cfg = str(site / "clusterbot.toml")
        assert clusterbot("admin", "org", "add", "Relief Org", "--config", cfg).returncode == 0
        assert "Relief Org" in clusterbot("admin", "org", "list", "--config", cfg).stdout
        # a second instance (its own new master key) pointed at the same database: refused
        out = clusterbot("init", str(tmp_path / "other"), "--database-url", url)
        assert out.returncode == 2 and name in out.stderr and len(out.stderr.splitlines()) == 1
        assert not (tmp_path / "other").exists()
        other = tmp_path / "site2"
        shutil.copytree(site, other)
        _write("data/master.key", _other_key())(other)
        out = clusterbot("audit", "verify", "--config", str(other / "clusterbot.toml"))
        assert out.returncode == 2 and "does not open this database" in out.stderr
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_key_check_survives_rotation(site: Path) -> None:
    cfg = str(site / "clusterbot.toml")
    assert clusterbot("admin", "org", "add", "A", "--config", cfg).returncode == 0
    out = clusterbot("keys", "rotate", "--config", cfg)
    assert out.returncode == 0, out.stderr
    for args in (("audit", "verify"), ("admin", "org", "list")):
        out = clusterbot(*args, "--config", cfg)
        assert out.returncode == 0, out.stderr


def test_database_without_key_check_gets_one(site: Path) -> None:
    """A database from before key checks: the first open confirms the key against a sealed
    row and writes the check value; afterwards another key is refused."""
    from storage.store import KEY_CHECK_SETTING

    cfg = str(site / "clusterbot.toml")
    assert clusterbot("admin", "org", "add", "A", "--config", cfg).returncode == 0
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    db.execute("DELETE FROM settings WHERE name = ?", (KEY_CHECK_SETTING,))
    db.commit()
    db.close()
    assert clusterbot("admin", "org", "list", "--config", cfg).returncode == 0
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    assert db.execute("SELECT count(*) FROM settings WHERE name = ?", (KEY_CHECK_SETTING,)).fetchone()[0] == 1
    db.close()
    # and a database without the value, holding sealed data, opened with another instance's
    # key: refused (the key is tried on a wrapped data key), not adopted
    from storage.store import Storage

    async def seal_something() -> None:
        store = await Storage.open(
            f"sqlite+aiosqlite:///{site / 'data' / 'clusterbot.sqlite3'}",
            site / "data" / "blobs",
            site / "data" / "master.key",
        )
        await store.hmac_key()  # a wrapped data key
        await store.close()

    asyncio.run(seal_something())
    db = sqlite3.connect(site / "data" / "clusterbot.sqlite3")
    db.execute("DELETE FROM settings WHERE name = ?", (KEY_CHECK_SETTING,))
    db.commit()
    db.close()
    _write("data/master.key", _other_key())(site)
    out = clusterbot("audit", "verify", "--config", cfg)
    assert out.returncode == 2 and "does not open this database" in out.stderr
