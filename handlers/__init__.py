"""User-facing workflows. Each module has ``register(app)``; none imports nio or telegram."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Application


def register_all(app: Application) -> None:
    from handlers import broadcasts, directory_chat, guidance, incidents, linking, rights, submissions
    from handlers import help as help_handler

    help_handler.register(app)
    submissions.register(app)
    rights.register(app)
    incidents.register(app)
    guidance.register(app)
    broadcasts.register(app)
    linking.register(app)
    directory_chat.register(app)
