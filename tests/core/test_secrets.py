"""Secret files (master key, Matrix password, pickle key, Telegram token) must be private:
a file that group or others may read or write is refused in one line naming the file and
``chmod 600``, exit status 2. Secrets from environment variables are unaffected. A binary
key file is one line too, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, Secret, load_config
from storage.crypto import KeyRing, MasterKeyError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


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


def _one_line(err: str) -> str:
    err = err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620, 0o602])
@pytest.mark.parametrize("command", [("admin", "user", "list"), ("audit", "verify"), ("keys", "rotate")])
def test_loose_master_key_is_refused(
    site: Path, capsys: pytest.CaptureFixture[str], mode: int, command: tuple[str, ...]
) -> None:
    key = site / "data" / "master.key"
    key.chmod(mode)
    before = key.read_bytes()
    capsys.readouterr()
    assert cli(site, *command) == 2
    err = _one_line(capsys.readouterr().err)
    assert str(key) in err and "chmod 600" in err
    assert key.read_bytes() == before


def test_owner_only_modes_are_accepted(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "data" / "master.key").chmod(0o400)
    (site / "secrets" / "matrix_password").chmod(0o400)
    (site / "secrets" / "pickle_key").chmod(0o400)
    assert cli(site, "admin", "user", "list") == 0


@pytest.mark.parametrize("name", ["matrix_password", "pickle_key"])
def test_loose_matrix_secret_files_are_refused(site: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    path = site / "secrets" / name
    path.chmod(0o644)
    capsys.readouterr()
    assert cli(site, "admin", "user", "list") == 2
    err = _one_line(capsys.readouterr().err)
    assert str(path) in err and "chmod 600" in err
    assert "pw" not in err.replace(str(path), "")  # never the secret itself


def _run_process(site: Path) -> subprocess.CompletedProcess[str]:
    """`clusterbot run` as a process; the homeserver is unreachable, so a bot that is not
    refused would wait for it (the timeout turns that into a failure, not a hang)."""
    cfg = site / "clusterbot.toml"
    cfg.write_text(
        cfg.read_text().replace('homeserver = "https://matrix.example.org"', 'homeserver = "http://127.0.0.1:9"')
    )
    exe = str(Path(sys.executable).parent / "clusterbot")
    proc = subprocess.Popen(
        [exe, "run", "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("clusterbot run was not refused: it started") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_loose_secret_refused_by_run_too(site: Path) -> None:
    (site / "secrets" / "matrix_password").chmod(0o640)
    out = _run_process(site)
    assert out.returncode == 2
    err = _one_line(out.stderr)
    assert "matrix_password" in err and "chmod 600" in err


def test_loose_master_key_refused_by_run(site: Path) -> None:
    (site / "data" / "master.key").chmod(0o644)
    out = _run_process(site)
    assert out.returncode == 2
    err = _one_line(out.stderr)
    assert "master.key" in err and "chmod 600" in err


def _example(tmp_path: Path, mode: int = 0o600) -> Path:
    cfg = tmp_path / "clusterbot.toml"
    shutil.copy(EXAMPLE, cfg)
    (tmp_path / "secrets").mkdir()
    for name, value in (("matrix_password", "hunter2\n"), ("pickle_key", "pickle\n"), ("telegram_token", "1:abc\n")):
        p = tmp_path / "secrets" / name
        p.write_text(value)
        p.chmod(mode)
    return cfg


def test_loose_telegram_token_file_is_refused(tmp_path: Path) -> None:
    cfg = _example(tmp_path)
    text = cfg.read_text()
    old = 'enabled = false\ntoken_env = "CLUSTERBOT_TELEGRAM_TOKEN"'
    assert old in text
    cfg.write_text(text.replace(old, 'enabled = true\ntoken_file = "secrets/telegram_token"'))
    assert load_config(cfg).telegram.token == Secret("1:abc")
    (tmp_path / "secrets" / "telegram_token").chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    msg = str(info.value)
    assert msg.startswith("telegram.token_file:") and "chmod 600" in msg and "telegram_token" in msg


def test_environment_secrets_still_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _example(tmp_path, 0o644)  # files not used below
    text = cfg.read_text()
    text = text.replace('password_file = "secrets/matrix_password"', 'password_env = "CB_TEST_PW"')
    text = text.replace('pickle_key_file = "secrets/pickle_key"', 'pickle_key_env = "CB_TEST_PICKLE"')
    cfg.write_text(text)
    monkeypatch.setenv("CB_TEST_PW", "from-env")
    monkeypatch.setenv("CB_TEST_PICKLE", "pickle-env")
    loaded = load_config(cfg)
    assert loaded.matrix.password == Secret("from-env") and loaded.matrix.pickle_key == Secret("pickle-env")


def test_keyring_load_refuses_loose_mode(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    KeyRing.generate().save(path)
    os.chmod(path, 0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        KeyRing.load(path)


def test_binary_master_key_is_one_line(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = site / "data" / "master.key"
    key.write_bytes(b"\xff\xfe\x00\x01binary\x80\x81")
    key.chmod(0o600)
    with pytest.raises(MasterKeyError, match="malformed"):
        KeyRing.load(key)
    capsys.readouterr()
    assert cli(site, "audit", "verify") == 2
    err = _one_line(capsys.readouterr().err)
    assert "master key file" in err and str(key) in err


def test_binary_master_key_via_entry_point(site: Path) -> None:
    key = site / "data" / "master.key"
    key.write_bytes(os.urandom(64) + b"\xff")
    key.chmod(0o600)
    exe = str(Path(sys.executable).parent / "clusterbot")
    out = subprocess.run(
        [exe, "keys", "rotate", "--config", str(site / "clusterbot.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    err = _one_line(out.stderr)
    assert "master key file" in err


def test_binary_password_file_is_one_line(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pw = site / "secrets" / "matrix_password"
    pw.write_bytes(b"\xff\xfe\x80")
    capsys.readouterr()
    assert cli(site, "admin", "user", "list") == 2
    err = _one_line(capsys.readouterr().err)
    assert "matrix.password_file" in err and str(pw) in err
