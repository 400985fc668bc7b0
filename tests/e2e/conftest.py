"""Fixtures for the Matrix end-to-end tests: one real Synapse per session.

Each test gets fresh users (unique localparts) and fresh stores under ``tmp_path``, so
tests do not see each other's rooms even though they share the homeserver.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from bot.config import MatrixConfig, Secret
from bot.events import IncomingMessage
from bot.transports.matrix import MatrixTransport
from tests.e2e.synapse import RegisteredUser, ScriptedUser, SynapseServer, SynapseUnavailable

_counter = itertools.count()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    try:
        server = SynapseServer(tmp_path_factory.mktemp("synapse"))
        server.start()
    except SynapseUnavailable as exc:
        pytest.skip(f"Synapse unavailable: {exc}")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def new_user(synapse: SynapseServer) -> Callable[[str], RegisteredUser]:
    def make(prefix: str) -> RegisteredUser:
        return synapse.register_user(f"{prefix}{next(_counter)}x{secrets.token_hex(3)}")

    return make


def bot_config(synapse: SynapseServer, user: RegisteredUser, store_dir: Path, **overrides: Any) -> MatrixConfig:
    cfg = MatrixConfig(
        enabled=True,
        homeserver=synapse.url,
        user_id=user.user_id,
        password=Secret(user.password),
        access_token=None,
        store_dir=store_dir,
        pickle_key=Secret("test-pickle-" + user.localpart),
        imo_room=None,
        coordinator_room=None,
        admin_room=None,
        device_trust="tofu",
        rate_limit_per_minute=1000,
        undecryptable_timeout_seconds=60.0,
    )
    return replace(cfg, **overrides)


@dataclass
class BotHarness:
    """A MatrixTransport plus the injected callables, recording what it was given."""

    config: MatrixConfig
    known: set[str]
    received: list[IncomingMessage] = field(default_factory=list)
    audits: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    admin_notes: list[str] = field(default_factory=list)
    admins: set[str] = field(default_factory=set)  # who may answer emoji (SAS) verifications
    transport: MatrixTransport | None = None

    async def start(
        self,
        handler: Callable[[MatrixTransport, IncomingMessage], Awaitable[None]] | None = None,
    ) -> MatrixTransport:
        async def is_known(user_id: str) -> bool:
            return user_id in self.known

        async def audit(actor: str, action: str, obj: str | None, outcome: str) -> None:
            self.audits.append((actor, action, obj, outcome))

        async def notify(text: str) -> None:
            self.admin_notes.append(text)

        async def is_admin(user_id: str) -> bool:
            return user_id in self.admins

        transport = MatrixTransport(
            self.config, is_known_user=is_known, audit=audit, notify_admins=notify, is_admin=is_admin
        )

        async def on_message(msg: IncomingMessage) -> None:
            self.received.append(msg)
            if handler is not None:
                await handler(transport, msg)

        await transport.start(on_message)
        self.transport = transport
        return transport

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.stop()
            self.transport = None


async def echo(transport: MatrixTransport, msg: IncomingMessage) -> None:
    """A tiny stand-in for the core: answer every message, describing what arrived."""
    if msg.attachments:
        att = msg.attachments[0]
        text = f"got file {att.sha256} encrypted={msg.encrypted}"
    else:
        text = f"echo: {msg.text} encrypted={msg.encrypted}"
    await transport.send_text(msg.chat_id, text, reply_to=msg.event_id)


@pytest.fixture
async def scripted(synapse: SynapseServer, tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[ScriptedUser]]]:
    users: list[ScriptedUser] = []

    async def make(user: RegisteredUser, device_name: str = "phone") -> ScriptedUser:
        su = ScriptedUser(synapse.url, user, tmp_path / f"client-{user.localpart}-{len(users)}")
        await su.login(device_name)
        users.append(su)
        return su

    yield make
    for su in users:
        await su.close()


@pytest.fixture
async def bots() -> AsyncIterator[list[BotHarness]]:
    harnesses: list[BotHarness] = []
    yield harnesses
    for h in harnesses:
        await h.stop()


@pytest.fixture(autouse=True)
def _quiet_nio() -> None:
    logging.getLogger("nio").setLevel(logging.WARNING)
    logging.getLogger("peewee").setLevel(logging.WARNING)


@pytest.fixture
async def stack(synapse: SynapseServer, new_user: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """The real bot (BotStack: `clusterbot run`'s composition) on the session's Synapse."""
    from bot.demo import BotStack

    s = BotStack(synapse, tmp_path / "bot", new_user("bot"))
    await s.start()
    yield s
    await s.stop()


async def person(stack: Any, new_user: Any, scripted: Any, role: str, org: str | None = None) -> ScriptedUser:
    """A fresh account in the bot's directory with ``role``, as a scripted nio client."""
    user = new_user(role)
    await stack.add_users([(user.user_id, role, org)])
    return await scripted(user)


# The Element-stack (matrix-js-sdk + Rust crypto, strict) client factory; see strict_client.py.
from tests.e2e.strict_client import strict_clients  # noqa: E402, F401
