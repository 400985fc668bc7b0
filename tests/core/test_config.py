from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _example(tmp_path: Path) -> Path:
    cfg = tmp_path / "clusterbot.toml"
    shutil.copy(EXAMPLE, cfg)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "matrix_password").write_text("hunter2-very-secret\n")
    (tmp_path / "secrets" / "pickle_key").write_text("pickle-passphrase\n")
    for secret in (tmp_path / "secrets").iterdir():
        secret.chmod(0o600)  # secret files must be private (else refused)
    return cfg


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_example_config_loads_and_resolves_paths(tmp_path: Path) -> None:
    cfg = load_config(_example(tmp_path))
    assert cfg.matrix.homeserver == "https://matrix.example.org"
    assert cfg.matrix.password == Secret("hunter2-very-secret")
    assert cfg.matrix.store_dir == tmp_path / "data" / "matrix-store"
    assert cfg.storage.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'data' / 'clusterbot.sqlite3'}"
    assert cfg.retention.days_by_level["highly_confidential"] == 180
    assert cfg.incidents.escalation_contacts == ("@cluster-lead:example.org",)
    assert cfg.telegram.enabled is False


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    cfg = load_config(_example(tmp_path))
    text = repr(cfg) + str(cfg.matrix) + f"{cfg.matrix.password}"
    assert "hunter2" not in text and "pickle-passphrase" not in text
    assert cfg.matrix.password is not None and cfg.matrix.password.reveal() == "hunter2-very-secret"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('homeserver = "https://matrix.example.org"', "homeserver = 42", "matrix.homeserver: expected a string"),
        ('homeserver = "https://matrix.example.org"', "", "matrix.homeserver: missing"),
        ('device_trust = "tofu"', 'device_trust = "trust-everyone"', "matrix.device_trust: must be one of"),
        ("max_file_mb = 50", "max_file_mb = 0", "screening.max_file_mb: must be at least 1"),
        ("max_file_mb = 50", "max_fiel_mb = 50", "screening.max_fiel_mb: unknown key"),
        ('password_file = "secrets/matrix_password"', 'password = "plaintext"', "secrets are not allowed"),
        (
            'password_file = "secrets/matrix_password"',
            'password_file = "secrets/nope"',
            "matrix.password_file: cannot read",
        ),
        (
            'pickle_key_file = "secrets/pickle_key"',
            'pickle_key_env = "CB_TEST_UNSET_VAR"',
            "CB_TEST_UNSET_VAR is not set",
        ),
        ("enabled = false\ntoken_env", "enabled = true\ntoken_env", "telegram.token_env: environment variable"),
        (
            'database_url = "sqlite+aiosqlite:///data/clusterbot.sqlite3"',
            'database_url = "mysql://x"',
            "storage.database_url",
        ),
        ("[logging]", "[loging]", "loging: unknown key"),
    ],
)
def test_bad_config_names_the_key(
    tmp_path: Path, old: str, new: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CB_TEST_UNSET_VAR", raising=False)
    monkeypatch.delenv("CLUSTERBOT_TELEGRAM_TOKEN", raising=False)
    path = _example(tmp_path)
    _edit(path, old, new)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert "plaintext" not in str(err.value)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[matrix\nenabled = true")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_secret_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _example(tmp_path)
    _edit(path, 'password_file = "secrets/matrix_password"', 'password_env = "CB_TEST_PW"')
    monkeypatch.setenv("CB_TEST_PW", "from-env")
    assert load_config(path).matrix.password == Secret("from-env")


def test_config_is_frozen(tmp_path: Path) -> None:
    cfg = load_config(_example(tmp_path))
    with pytest.raises(AttributeError):
        cfg.matrix.homeserver = "http://evil"  # type: ignore[misc]
