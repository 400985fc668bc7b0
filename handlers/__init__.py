"""User-facing workflows. Each module has ``register(app)``; none imports nio or telegram.

The core never imports this package: whoever builds the bot composes it with the
workflows, ``Application.create(config, workflows=WORKFLOWS)`` (the CLI, the demo, the
test harness).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import broadcasts, directory_chat, guidance, incidents, linking, rights, submissions
from handlers import help as help_handler

if TYPE_CHECKING:
    from bot.app import Application, Workflow

#: In registration order (``!help`` lists commands sorted, but text rules and file handlers
#: are tried in this order).
WORKFLOWS: tuple[Workflow, ...] = (
    help_handler.register,
    submissions.register,
    rights.register,
    incidents.register,
    guidance.register,
    broadcasts.register,
    linking.register,
    directory_chat.register,
)


def register_all(app: Application) -> None:
    for register in WORKFLOWS:
        register(app)
