"""Configuration: one TOML file -> frozen dataclasses.

Why this shape: every other module receives an immutable, fully validated config
object, so a typo is found at start-up (one line naming the key, exit status 2)
rather than in the middle of a partner's submission. Secrets are never stored in
the TOML itself: only the *name* of a file or environment variable holding them,
and they are wrapped in :class:`Secret` so they cannot leak through ``repr``.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.screening.levels import LEVELS  # the one list of sensitivity levels

DEVICE_TRUST_POLICIES = ("tofu", "verified")


class ConfigError(Exception):
    """A configuration problem, phrased as one line that names the key."""


class Secret:
    """A secret string that never shows itself in ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


@dataclass(frozen=True)
class MatrixConfig:
    enabled: bool
    homeserver: str
    user_id: str
    password: Secret | None
    access_token: Secret | None
    store_dir: Path
    pickle_key: Secret
    imo_room: str | None
    coordinator_room: str | None
    admin_room: str | None
    device_trust: str
    device_name: str = "clusterbot"
    rate_limit_per_minute: int = 30
    undecryptable_timeout_seconds: float = 60.0


@dataclass(frozen=True)
class TelegramConfig:
    enabled: bool
    token: Secret | None
    base_url: str | None = None
    rate_limit_per_minute: int = 30


@dataclass(frozen=True)
class StorageConfig:
    database_url: str
    blob_dir: Path
    master_key_file: Path

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@dataclass(frozen=True)
class ScreeningConfig:
    sensitive_areas_file: Path | None
    gazetteer_file: Path | None = None  # village / village-tract names (e.g. the MIMU P-code list)
    max_file_mb: int = 50
    max_archive_members: int = 10_000
    max_archive_depth: int = 3
    max_uncompressed_mb: int = 1024
    max_compression_ratio: int = 100
    workers: int = 2


@dataclass(frozen=True)
class RetentionConfig:
    days_by_level: Mapping[str, int] = field(
        default_factory=lambda: {
            "public": 0,
            "restricted": 730,
            "confidential": 365,
            "highly_confidential": 180,
        }
    )
    held_hours: int = 72
    warn_before_hours: int = 72
    keep_previous_versions: bool = False


@dataclass(frozen=True)
class IncidentConfig:
    ack_deadline_hours: float = 24.0
    escalate_after_hours: float = 48.0
    escalation_contacts: tuple[str, ...] = ()
    closed_retention_days: int = 365
    draft_timeout_minutes: int = 60


@dataclass(frozen=True)
class GuidanceConfig:
    reminder_hours: float = 48.0
    pseudonymous_orgs: bool = False


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"
    json: bool = False


@dataclass(frozen=True)
class Config:
    source: Path | None
    matrix: MatrixConfig
    telegram: TelegramConfig
    storage: StorageConfig
    screening: ScreeningConfig
    retention: RetentionConfig
    incidents: IncidentConfig
    guidance: GuidanceConfig
    logging: LoggingConfig
    conversation_timeout_minutes: int = 30
    rate_limit_per_minute: int = 30


# --------------------------------------------------------------------------- parsing


def _insecure_mode(path: Path, mode: int) -> str | None:
    """Secret files must be private to their owner (0600 or 0400): the README's promise,
    now enforced. The same rule as ``storage.crypto.insecure_mode`` for the master key."""
    if stat.S_ISREG(mode) and mode & 0o077:
        return f"{path} has mode {stat.S_IMODE(mode):04o}: group or others may read or write it; run 'chmod 600 {path}'"
    return None


class _Section:
    """Typed access to one TOML table that remembers which keys were consumed.

    Unknown keys are an error: a misspelt ``pasword_file`` must not silently fall
    back to a default.
    """

    def __init__(self, name: str, data: Mapping[str, Any], base: Path) -> None:
        self.name = name
        self.data = dict(data)
        self.base = base
        self.used: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def _get(self, key: str, types: type | tuple[type, ...], expected: str, default: Any, required: bool) -> Any:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise ConfigError(f"{self._key(key)}: missing (expected {expected})")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise ConfigError(f"{self._key(key)}: expected {expected}, got a boolean")
        if not isinstance(value, types):
            raise ConfigError(f"{self._key(key)}: expected {expected}, got {type(value).__name__}")
        return value

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self._get(key, str, "a string", default, required)
        if value is not None and required and not value.strip():
            raise ConfigError(f"{self._key(key)}: must not be empty")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        return bool(self._get(key, bool, "true or false", default, False))

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int:
        value = int(self._get(key, int, "a whole number", default, False))
        if value < minimum:
            raise ConfigError(f"{self._key(key)}: must be at least {minimum}, got {value}")
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = float(self._get(key, (int, float), "a number", default, False))
        if value < minimum:
            raise ConfigError(f"{self._key(key)}: must be at least {minimum}, got {value}")
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise ConfigError(f"{self._key(key)}: must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def path(self, key: str, default: str | None = None, *, required: bool = False) -> Path | None:
        value = self.string(key, default, required=required)
        if value is None:
            return None
        p = Path(os.path.expanduser(value))
        return p if p.is_absolute() else (self.base / p)

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings", [], False)
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self._key(key)}: expected a list of strings")
        return tuple(value)

    def table(self, key: str) -> _Section:
        value = self._get(key, dict, "a table", {}, False)
        return _Section(self._key(key), value, self.base)

    def secret(self, key: str, *, required: bool, read: bool = True) -> Secret | None:
        """Read ``KEY_file`` or ``KEY_env``; a literal ``KEY`` is refused on purpose.

        With ``read`` False (commands that never use this secret) nothing is read and
        nothing is required, but a configured file that exists must still be private."""
        self.used.add(key)
        if key in self.data:
            raise ConfigError(
                f"{self._key(key)}: secrets are not allowed in the config file; use {key}_file or {key}_env"
            )
        file_key, env_key = f"{key}_file", f"{key}_env"
        path = self.path(file_key)
        env = self.string(env_key)
        if path is not None and env is not None:
            raise ConfigError(f"{self._key(key)}: set only one of {file_key} and {env_key}")
        if not read:
            # not needed by this command: a missing or unreadable file is fine, but a file
            # that is there must still be private and plain text (every command says so)
            if path is not None:
                try:
                    loose = _insecure_mode(path, path.stat().st_mode)
                except OSError:
                    loose = None
                if loose:
                    raise ConfigError(f"{self._key(file_key)}: {loose}")
                try:
                    with path.open("rb") as fh:
                        fh.read().decode("utf-8")
                except UnicodeDecodeError:
                    raise ConfigError(f"{self._key(file_key)}: {path} is not UTF-8 text") from None
                except OSError:
                    pass
            return None
        if path is not None:
            try:
                with path.open("rb") as fh:
                    loose = _insecure_mode(path, os.fstat(fh.fileno()).st_mode)
                    if loose:
                        raise ConfigError(f"{self._key(file_key)}: {loose}")
                    text = fh.read().decode("utf-8").strip()
            except UnicodeDecodeError:
                raise ConfigError(f"{self._key(file_key)}: {path} is not UTF-8 text") from None
            except OSError as exc:
                raise ConfigError(
                    f"{self._key(file_key)}: cannot read {path} ({exc.strerror or exc.__class__.__name__})"
                ) from None
            if not text:
                raise ConfigError(f"{self._key(file_key)}: {path} is empty")
            return Secret(text)
        if env is not None:
            value = os.environ.get(env, "")
            if not value:
                raise ConfigError(f"{self._key(env_key)}: environment variable {env} is not set")
            return Secret(value)
        if required:
            raise ConfigError(f"{self._key(key)}: missing (set {file_key} or {env_key})")
        return None

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(f"{self._key(unknown[0])}: unknown key")


def _sections(root: _Section, names: tuple[str, ...]) -> Iterator[_Section]:
    for name in names:
        yield root.table(name)


def _parse_matrix(mx_s: _Section, base: Path, rate_limit: int, read: bool) -> MatrixConfig:
    """``[matrix]``; a disabled channel's secrets are not read, its other keys still checked."""
    mx_enabled = mx_s.boolean("enabled", True)
    if mx_enabled:
        homeserver = mx_s.string("homeserver", required=True)
        if not str(homeserver).startswith(("http://", "https://")):
            raise ConfigError("matrix.homeserver: must start with http:// or https://")
        user_id = mx_s.string("user_id", required=True)
        if not (str(user_id).startswith("@") and ":" in str(user_id)):
            raise ConfigError("matrix.user_id: must look like @name:server")
        password = mx_s.secret("password", required=False, read=read)
        token = mx_s.secret("access_token", required=False, read=read)
        if read and password is None and token is None:
            raise ConfigError("matrix.password: missing (set password_file/password_env or access_token_*)")
        pickle_key = mx_s.secret("pickle_key", required=True, read=read) or Secret("")
        store_dir = mx_s.path("store_dir", required=True)
        assert store_dir is not None
    else:
        homeserver, user_id, password, token = "", "", None, None
        pickle_key, store_dir = Secret(""), base / "matrix-store"
        for key in ("homeserver", "user_id", "store_dir"):
            mx_s.string(key)
        for key in ("password", "access_token", "pickle_key"):
            mx_s.used.update({key, f"{key}_file", f"{key}_env"})
    matrix = MatrixConfig(
        enabled=mx_enabled,
        homeserver=str(homeserver),
        user_id=str(user_id),
        password=password,
        access_token=token,
        store_dir=store_dir,
        pickle_key=pickle_key,
        imo_room=mx_s.string("imo_room"),
        coordinator_room=mx_s.string("coordinator_room"),
        admin_room=mx_s.string("admin_room"),
        device_trust=mx_s.choice("device_trust", "tofu", DEVICE_TRUST_POLICIES),
        device_name=str(mx_s.string("device_name", "clusterbot")),
        rate_limit_per_minute=mx_s.integer("rate_limit_per_minute", rate_limit, minimum=1),
        undecryptable_timeout_seconds=mx_s.number("undecryptable_timeout_seconds", 60.0, minimum=1.0),
    )
    mx_s.finish()
    return matrix


def _parse_telegram(tg_s: _Section, rate_limit: int, read: bool) -> TelegramConfig:
    tg_enabled = tg_s.boolean("enabled", False)
    if not tg_enabled:  # a disabled channel's secrets are not read (they may not exist here)
        tg_s.used.update({"token", "token_file", "token_env"})
    telegram = TelegramConfig(
        enabled=tg_enabled,
        token=tg_s.secret("token", required=True, read=read) if tg_enabled else None,
        base_url=tg_s.string("base_url"),
        rate_limit_per_minute=tg_s.integer("rate_limit_per_minute", rate_limit, minimum=1),
    )
    tg_s.finish()
    return telegram


def _parse_storage(st_s: _Section, base: Path) -> StorageConfig:
    """``[storage]``; a relative SQLite path is resolved against ``base``."""
    data_dir = base / "data"
    storage = StorageConfig(
        database_url=str(st_s.string("database_url", f"sqlite+aiosqlite:///{data_dir / 'clusterbot.sqlite3'}")),
        blob_dir=st_s.path("blob_dir", str(data_dir / "blobs")) or data_dir / "blobs",
        master_key_file=st_s.path("master_key_file", str(data_dir / "master.key")) or data_dir / "master.key",
    )
    if storage.database_url.startswith("sqlite+aiosqlite:///") and not storage.database_url.startswith(
        "sqlite+aiosqlite:////"
    ):
        rel = storage.database_url[len("sqlite+aiosqlite:///") :]
        if rel and rel != ":memory:":
            storage = StorageConfig(
                database_url=f"sqlite+aiosqlite:///{(base / rel).resolve()}",
                blob_dir=storage.blob_dir,
                master_key_file=storage.master_key_file,
            )
    if not storage.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError("storage.database_url: must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    st_s.finish()
    return storage


def _parse_screening(sc_s: _Section) -> ScreeningConfig:
    screening = ScreeningConfig(
        sensitive_areas_file=sc_s.path("sensitive_areas_file"),
        gazetteer_file=sc_s.path("gazetteer_file"),
        max_file_mb=sc_s.integer("max_file_mb", 50, minimum=1),
        max_archive_members=sc_s.integer("max_archive_members", 10_000, minimum=1),
        max_archive_depth=sc_s.integer("max_archive_depth", 3, minimum=0),
        max_uncompressed_mb=sc_s.integer("max_uncompressed_mb", 1024, minimum=1),
        max_compression_ratio=sc_s.integer("max_compression_ratio", 100, minimum=1),
        workers=sc_s.integer("workers", 2, minimum=1),
    )
    sc_s.finish()
    return screening


def _parse_retention(re_s: _Section) -> RetentionConfig:
    days_s = re_s.table("days")
    default_days = RetentionConfig().days_by_level
    retention = RetentionConfig(
        days_by_level={level: days_s.integer(level, default_days[level]) for level in LEVELS},
        held_hours=re_s.integer("held_hours", 72, minimum=1),
        warn_before_hours=re_s.integer("warn_before_hours", 72, minimum=0),
        keep_previous_versions=re_s.boolean("keep_previous_versions", False),
    )
    days_s.finish()
    re_s.finish()
    return retention


def _parse_incidents(in_s: _Section) -> IncidentConfig:
    incidents = IncidentConfig(
        ack_deadline_hours=in_s.number("ack_deadline_hours", 24.0, minimum=0.01),
        escalate_after_hours=in_s.number("escalate_after_hours", 48.0, minimum=0.01),
        escalation_contacts=in_s.str_list("escalation_contacts"),
        closed_retention_days=in_s.integer("closed_retention_days", 365, minimum=1),
        draft_timeout_minutes=in_s.integer("draft_timeout_minutes", 60, minimum=1),
    )
    in_s.finish()
    return incidents


def _parse_guidance(gu_s: _Section) -> GuidanceConfig:
    guidance = GuidanceConfig(
        reminder_hours=gu_s.number("reminder_hours", 48.0, minimum=0.01),
        pseudonymous_orgs=gu_s.boolean("pseudonymous_orgs", False),
    )
    gu_s.finish()
    return guidance


def _parse_logging(lo_s: _Section) -> LoggingConfig:
    logging_cfg = LoggingConfig(
        level=lo_s.choice("level", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        json=lo_s.boolean("json", False),
    )
    lo_s.finish()
    return logging_cfg


def parse_config(
    data: Mapping[str, Any], base: Path, source: Path | None = None, *, transport_secrets: bool = True
) -> Config:
    """Validate a parsed TOML mapping; relative paths are resolved against ``base``.

    ``transport_secrets`` False: the Matrix password/access token/pickle key and the
    Telegram token are not read and not required (``password``, ``access_token`` and
    ``token`` are None, ``pickle_key`` empty): for the commands that only use the storage
    (``admin``, ``audit``, ``consent``, ``keys``, ``db``...). Their files' modes are still
    checked when they exist.

    Sections are read in this order, each finished (unknown keys refused) before the next.
    """
    read = transport_secrets
    root = _Section("", data, base)
    bot_s, mx_s, tg_s, st_s, sc_s, re_s, in_s, gu_s, lo_s = _sections(
        root,
        ("bot", "matrix", "telegram", "storage", "screening", "retention", "incidents", "guidance", "logging"),
    )
    conversation_timeout = bot_s.integer("conversation_timeout_minutes", 30, minimum=1)
    rate_limit = bot_s.integer("rate_limit_per_minute", 30, minimum=1)
    bot_s.finish()

    matrix = _parse_matrix(mx_s, base, rate_limit, read)
    telegram = _parse_telegram(tg_s, rate_limit, read)
    storage = _parse_storage(st_s, base)
    screening = _parse_screening(sc_s)
    retention = _parse_retention(re_s)
    incidents = _parse_incidents(in_s)
    guidance = _parse_guidance(gu_s)
    logging_cfg = _parse_logging(lo_s)
    root.finish()

    return Config(
        source=source,
        matrix=matrix,
        telegram=telegram,
        storage=storage,
        screening=screening,
        retention=retention,
        incidents=incidents,
        guidance=guidance,
        logging=logging_cfg,
        conversation_timeout_minutes=conversation_timeout,
        rate_limit_per_minute=rate_limit,
    )


def check_files_for_run(cfg: Config) -> None:
    """Files ``clusterbot run`` needs beyond the secrets (read at start, one line each)."""
    gazetteer = cfg.screening.gazetteer_file
    if gazetteer is not None:
        from bot.screening.places import Gazetteer, GazetteerError

        try:
            Gazetteer.cached(gazetteer)
        except GazetteerError as exc:
            raise ConfigError(f"screening.gazetteer_file: {exc}") from None
    areas = cfg.screening.sensitive_areas_file
    if areas is not None:
        try:
            with areas.open("rb"):
                pass
        except OSError as exc:
            raise ConfigError(
                f"screening.sensitive_areas_file: cannot read {areas} ({exc.strerror or exc.__class__.__name__})"
            ) from None


def load_config(path: Path | str, *, transport_secrets: bool = True) -> Config:
    """Read and validate ``path``; every problem is a one-line :class:`ConfigError`.

    ``transport_secrets``: see :func:`parse_config` (False for storage-only commands)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc.__class__.__name__}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data, path.resolve().parent, source=path.resolve(), transport_secrets=transport_secrets)
