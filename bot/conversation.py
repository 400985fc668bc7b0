"""Dialogs declared as tables of states, persisted encrypted so they survive restarts.

A dialog is data: a name, a start state and a mapping of state -> :class:`Step`.
Each step has a prompt and an ``on_answer`` coroutine that validates the answer,
stores what it needs in ``data`` and returns the next state (or ``END``). The engine
does the rest in one place: ``!back`` (history), ``!cancel``, per-dialog timeouts,
and sealing the whole state under its own data key after every step, so a restart
mid-dialog loses nothing and a shredded draft is gone for good.

The row key is a keyed hash of (transport, chat, sender): the database never holds
a chat handle next to a dialog's content.

A keyed hash only hides the chat from someone without the key. Whoever holds the
database *and* the master key can recompute it for every known user and room, and open
the sealed state; for most dialogs that is fine (the operator may know who is labelling
a file). A dialog whose mere existence must not be tied to a person (an incident report
draft) is declared ``in_memory``: it is never written to the database (no row, no dialog
name, no data key with its timestamps), only kept in this process. A restart loses it;
``started_at`` lets the dialog's owner tell the user so.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage.conversations import ConversationRepo
from storage.store import Storage

if TYPE_CHECKING:
    from bot.router import Context

END = "__end__"


class InvalidAnswer(Exception):
    """Raised by a step: the text is shown to the user and the step is asked again."""


Prompt = str | Callable[[dict[str, Any]], str]
AnswerHandler = Callable[["Context", str, dict[str, Any]], Awaitable[str]]
FinishHandler = Callable[["Context", dict[str, Any]], Awaitable[None]]
TimeoutHandler = Callable[["ConversationEngine", "ActiveDialog"], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    prompt: Prompt
    on_answer: AnswerHandler


@dataclass(frozen=True)
class Dialog:
    name: str
    start: str
    steps: Mapping[str, Step]
    on_finish: FinishHandler
    timeout: timedelta = timedelta(minutes=30)
    on_timeout: TimeoutHandler | None = None
    on_cancel: FinishHandler | None = None
    # kept only in this process's memory, never in the database (lost on restart)
    in_memory: bool = False
    # said once, with the first question (e.g. where the answers are kept)
    intro: str = ""

    def prompt(self, state: str, data: dict[str, Any]) -> str:
        p = self.steps[state].prompt
        return p(data) if callable(p) else p


@dataclass
class ActiveDialog:
    key: str
    dialog: str
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    expires_at: datetime | None = None
    reply_to: dict[str, str] = field(default_factory=dict)  # transport + chat to answer on timeout


class ConversationEngine:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.repo = ConversationRepo(storage)
        self.dialogs: dict[str, Dialog] = {}
        # in-memory dialogs by conversation key; copies go in and out, as with the database
        self._memory: dict[str, ActiveDialog] = {}
        self.started_at = storage.now()

    def register(self, dialog: Dialog) -> None:
        if dialog.start not in dialog.steps:
            raise ValueError(f"dialog {dialog.name}: start state {dialog.start!r} is not a step")
        self.dialogs[dialog.name] = dialog

    async def key_for(self, transport: str, chat_id: str, sender_id: str) -> str:
        return await self.storage.pseudokey("conversation", transport, chat_id, sender_id)

    # ---------------------------------------------------------------- persistence

    async def load(self, key: str) -> ActiveDialog | None:
        if key in self._memory:
            return copy.deepcopy(self._memory[key])
        stored = await self.repo.load(key)
        if stored is None:
            return None
        payload = stored.payload
        return ActiveDialog(
            key=key,
            dialog=stored.dialog,
            state=stored.state,
            data=payload["data"],
            history=payload["history"],
            expires_at=stored.expires_at,
            reply_to=payload.get("reply_to", {}),
        )

    async def save(self, active: ActiveDialog) -> None:
        dialog = self.dialogs[active.dialog]
        now = self.storage.now()
        active.expires_at = now + dialog.timeout
        if dialog.in_memory:
            self._memory[active.key] = copy.deepcopy(active)
            return
        payload = {"data": active.data, "history": active.history, "reply_to": active.reply_to}
        await self.repo.save(active.key, active.dialog, active.state, payload, now=now, expires_at=active.expires_at)

    async def discard(self, key: str) -> None:
        """End a dialog and shred its stored state."""
        forgotten = self._memory.pop(key, None)
        if forgotten is not None:
            forgotten.data.clear()
            forgotten.history.clear()
            forgotten.reply_to.clear()
            return
        await self.repo.discard(key)

    # ---------------------------------------------------------------- flow

    async def begin(self, ctx: Context, name: str, data: dict[str, Any] | None = None) -> None:
        dialog = self.dialogs[name]
        key = await self.key_for(ctx.msg.transport, ctx.msg.chat_id, ctx.msg.sender_id)
        await self.discard(key)
        active = ActiveDialog(
            key=key,
            dialog=name,
            state=dialog.start,
            data=dict(data or {}),
            reply_to={"transport": ctx.msg.transport, "chat_id": ctx.msg.chat_id},
        )
        await self.save(active)
        intro = f"\n{dialog.intro}" if dialog.intro else ""
        await ctx.reply(
            dialog.prompt(dialog.start, active.data) + intro + "\n(Send !back to go back, !cancel to stop.)"
        )

    async def active_for(self, ctx: Context) -> ActiveDialog | None:
        key = await self.key_for(ctx.msg.transport, ctx.msg.chat_id, ctx.msg.sender_id)
        active = await self.load(key)
        if active is None or active.dialog not in self.dialogs:
            return None
        if active.expires_at is not None and active.expires_at <= self.storage.now():
            await self.expire(active)
            await ctx.reply("Your earlier conversation timed out and was discarded. Start again when you are ready.")
            return None
        return active

    async def handle(self, ctx: Context, active: ActiveDialog, text: str) -> None:
        dialog = self.dialogs[active.dialog]
        word = text.strip().lower()
        if word in ("!cancel", "/cancel"):
            await self.discard(active.key)
            if dialog.on_cancel is not None:
                await dialog.on_cancel(ctx, active.data)
            await ctx.reply("Cancelled. Nothing was kept.")
            return
        if word in ("!back", "/back"):
            if not active.history:
                await ctx.reply("This is the first question.\n" + dialog.prompt(active.state, active.data))
                return
            active.state = active.history.pop()
            await self.save(active)
            await ctx.reply(dialog.prompt(active.state, active.data))
            return
        step = dialog.steps[active.state]
        try:
            nxt = await step.on_answer(ctx, text, active.data)
        except InvalidAnswer as exc:
            await ctx.reply(f"{exc}\n{dialog.prompt(active.state, active.data)}")
            return
        if nxt == END:
            await dialog.on_finish(ctx, active.data)
            await self.discard(active.key)
            return
        if nxt not in dialog.steps:
            raise RuntimeError(f"dialog {dialog.name}: step returned unknown state {nxt!r}")
        active.history.append(active.state)
        active.state = nxt
        await self.save(active)
        await ctx.reply(dialog.prompt(nxt, active.data))

    async def expire(self, active: ActiveDialog) -> None:
        dialog = self.dialogs.get(active.dialog)
        if dialog is not None and dialog.on_timeout is not None:
            await dialog.on_timeout(self, active)
        else:
            await self.discard(active.key)

    async def expired(self) -> list[ActiveDialog]:
        keys = await self.repo.expired_keys(self.storage.now())
        now = self.storage.now()
        keys += [k for k, a in self._memory.items() if a.expires_at is not None and a.expires_at <= now]
        out = []
        for key in keys:
            active = await self.load(key)
            if active is not None:
                out.append(active)
        return out
