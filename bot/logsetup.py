"""Logging without content.

Our own log calls never include message text, file names or personal data (ids of
rooms, events and internal users only). Third-party libraries can: database drivers
log every statement with its parameters at DEBUG (aiosqlite does, so a directory
lookup writes ``users.matrix_id = '@...'`` to the log), SQLAlchemy does at INFO when
``echo`` is on (which sets its own logger's level), nio, python-telegram-bot and the
HTTP stack log payloads and headers at DEBUG. So, whatever the configured level:

* the libraries known to do so are set to WARNING (cheap: their records are not made);
* the handler lets records below WARNING through only from our own packages, so a
  library that sets its own level, logs to the root logger or is new in the dependency
  tree is held back too.

The JSON formatter emits only the fields listed here.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Our packages: the only ones whose DEBUG and INFO lines reach the log.
OWN_PACKAGES = frozenset({"bot", "handlers", "storage", "clusterbot"})

NOISY_LIBRARIES = (
    "nio",
    "aiohttp",
    "telegram",
    "httpx",
    "httpcore",
    "h11",
    "h2",
    "hpack",
    "apscheduler",
    "sqlalchemy",
    "alembic",
    "peewee",
    "aiosqlite",
    "asyncpg",
    "psycopg",
    "urllib3",
    "charset_normalizer",
    "pypdf",
    "PIL",
    "openpyxl",
    "msoffcrypto",
    "asyncio",
)


class OwnRecordsOnly(logging.Filter):
    """Below WARNING, pass only records of our own packages' loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name.partition(".")[0] in OWN_PACKAGES


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(OwnRecordsOnly())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
