"""Logging without content.

Our own log calls never include message text, file names or personal data (ids of
rooms, events and internal users only). Third-party libraries can (nio and
python-telegram-bot log payloads at DEBUG), so they are held at WARNING whatever the
configured level, and the JSON formatter emits only the fields listed here.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

NOISY_LIBRARIES = ("nio", "aiohttp", "telegram", "httpx", "httpcore", "apscheduler", "sqlalchemy", "alembic", "peewee")


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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
