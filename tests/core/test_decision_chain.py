"""The router's decision chain: one visible ordered list, and every step can stop a message.

Unit tests with fakes (no storage, no transport): the chain depends only on the outgoing
port, the directory lookup, the dialog engine and the rate limiter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import bot.router
from bot.events import Attachment, IncomingMessage, OutgoingFile
from bot.router import Context, RateLimiter, Router
from storage.directory import UserInfo

#: The same names, in the same order, as the README's architecture section and the router's
#: docstring.
README_CHAIN = [
    "encryption",
    "rate limit",
    "directory",
    "dialog",
    "file",
    "command",
    "reply",
    "free text",
    "fallback",
]

PARTNER = UserInfo(1, "@pia:x", None, "partner", 1, "Relief Org")


class FakeOut:
    """The outgoing port, recording what was sent and audited."""

    def __init__(self, encrypted: bool = True) -> None:
        self.encrypted = encrypted
        self.sent: list[str] = []
        self.audits: list[tuple[str, str, str]] = []

    async def send_text(self, transport: str, chat_id: str, text: str, *, reply_to: str | None = None) -> str:
        self.sent.append(text)
        return f"$m{len(self.sent)}"

    async def send_file(self, transport: str, chat_id: str, file: OutgoingFile, *, reply_to: str | None = None) -> str:
        return "$f"

    async def send_file_to_user(self, user: UserInfo, file: OutgoingFile) -> str:
        return "$f"

    async def chat_is_encrypted(self, transport: str, chat_id: str) -> bool:
        return self.encrypted

    def room_kind(self, transport: str, chat_id: str) -> str | None:
        return None

    async def audit(self, actor_id: str, role: str, action: str, object_id: str | None, outcome: str) -> None:
        self.audits.append((role, action, outcome))

    async def unknown_actor(self, handle: str) -> str:
        return "unknown:x"


class FakeMembers:
    def __init__(self, *users: UserInfo) -> None:
        self.users = {u.matrix_id: u for u in users}

    async def lookup(self, transport: str, handle: str) -> UserInfo | None:
        return self.users.get(handle)


class FakeDialogs:
    def __init__(self, active: Any = None) -> None:
        self.active = active
        self.answers: list[str] = []

    async def active_for(self, ctx: Context) -> Any:
        return self.active

    async def handle(self, ctx: Context, active: Any, text: str) -> None:
        self.answers.append(text)


def make_router(*, dialog: Any = None, per_minute: int = 100) -> Router:
    return Router(FakeMembers(PARTNER), FakeDialogs(dialog), RateLimiter(per_minute))


def message(text: str = "", *, sender: str = "@pia:x", encrypted: bool = True, **kw: Any) -> IncomingMessage:
    return IncomingMessage(
        transport="memory",
        chat_id="!c",
        sender_id=sender,
        event_id="$e",
        text=text,
        encrypted=encrypted,
        timestamp=datetime(2025, 1, 1, tzinfo=UTC),
        **kw,
    )


def test_the_chain_is_the_readme_list() -> None:
    assert [name for name, _ in make_router().chain()] == README_CHAIN


def test_the_router_docstring_lists_the_chain_in_order() -> None:
    doc = bot.router.__doc__ or ""
    positions = [doc.index(f"``{name}``") for name in README_CHAIN]
    assert positions == sorted(positions)


async def route(router: Router, msg: IncomingMessage, out: FakeOut | None = None) -> tuple[str, FakeOut]:
    out = out or FakeOut()
    return await router.route(Context(out, msg)), out


async def test_route_stops_at_the_first_step_that_stops() -> None:
    router = make_router()
    calls: list[str] = []

    def fake(name: str, stop: bool) -> Any:
        async def step(ctx: Context) -> bool:
            calls.append(name)
            return stop

        return name, step

    router.chain = lambda: [fake("a", False), fake("b", True), fake("c", True)]  # type: ignore[method-assign]
    name, _ = await route(router, message("hi"))
    assert (name, calls) == ("b", ["a", "b"])


async def test_encryption_stops_a_plain_event_in_an_encrypted_chat() -> None:
    name, out = await route(make_router(), message("!help", encrypted=False), FakeOut(encrypted=True))
    assert name == "encryption" and out.sent == []


async def test_rate_limit_stops_with_one_polite_answer() -> None:
    router = make_router(per_minute=1)
    await route(router, message("hello"))
    name, out = await route(router, message("hello"))
    assert name == "rate limit" and "faster than I can handle" in out.sent[0]
    name, out = await route(router, message("hello"))
    assert name == "rate limit" and out.sent == []  # told once


async def test_directory_stops_strangers_audited() -> None:
    name, out = await route(make_router(), message("!help", sender="@stranger:x"))
    assert name == "directory" and out.audits == [("unknown", "access", "denied")]


async def test_directory_runs_public_commands_for_strangers() -> None:
    router = make_router()
    seen: list[str] = []

    async def join(ctx: Context, args: str) -> None:
        seen.append(args)

    router.command("join", "directory.join", "ask to join")(join)
    router.public_commands.add("join")
    name, _ = await route(router, message("!join Relief Org", sender="@stranger:x"))
    assert name == "directory" and seen == ["Relief Org"]


async def test_dialog_takes_free_text_and_cancel() -> None:
    router = make_router(dialog=object())
    name, _ = await route(router, message("my answer"))
    assert name == "dialog" and router.dialogs.answers == ["my answer"]  # type: ignore[attr-defined]
    name, out = await route(make_router(), message("!cancel"))
    assert name == "dialog" and out.sent == ["There is nothing to cancel."]


async def test_file_stops_files() -> None:
    router = make_router()
    got: list[str] = []

    async def take(ctx: Context) -> None:
        got.append(ctx.msg.attachments[0].filename)

    router.on_file("submission.submit")(take)
    files = (Attachment(filename="a.csv", mimetype="text/csv", data=b"x"),)
    name, _ = await route(router, message("", attachments=files))
    assert name == "file" and got == ["a.csv"]


async def test_command_stops_commands_known_or_not() -> None:
    router = make_router()
    name, out = await route(router, message("!frobnicate"))
    assert name == "command" and "don't know the command" in out.sent[0]


@pytest.mark.parametrize("handled", [True, False])
async def test_reply_stops_when_a_reply_handler_takes_it(handled: bool) -> None:
    router = make_router()

    async def on_reply(ctx: Context) -> bool:
        return handled

    router.reply_handlers.append(on_reply)
    name, _ = await route(router, message("thanks", reply_to="$earlier"))
    assert name == ("reply" if handled else "fallback")


async def test_free_text_stops_on_a_matching_rule_the_role_may_use() -> None:
    router = make_router()
    got: list[str] = []

    async def hint(ctx: Context, text: str) -> None:
        got.append(text)

    router.on_text("hint", "incident.report", lambda text: "leak" in text)(hint)
    name, _ = await route(router, message("a leak happened"))
    assert name == "free text" and got == ["a leak happened"]


async def test_fallback_always_answers() -> None:
    name, out = await route(make_router(), message("hello"))
    assert name == "fallback" and "only understand commands" in out.sent[0]
