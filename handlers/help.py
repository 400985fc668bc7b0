"""!help: only the commands the sender's role may use."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context


def register(app: Application) -> None:
    @app.router.command("help", "help", "show this list")
    async def cmd_help(ctx: Context, args: str) -> None:
        text = app.router.help_for(ctx.role, await ctx.is_encrypted())
        await ctx.reply(
            f"You are registered as {ctx.role}"
            + (f" for {ctx.user.org_name}" if ctx.user.org_name else "")
            + ".\n"
            + text
        )
