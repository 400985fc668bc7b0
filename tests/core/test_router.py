"""The router's decisions, through the in-memory transport."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.notices import UNKNOWN_SENDER_MAY_JOIN
from bot.policy import POLICY, Role, actions_for, allowed
from storage.models import AuditEntry, ProcessedEvent
from tests.conftest import Harness


async def test_help_lists_only_the_senders_commands(harness: Harness) -> None:
    partner = "\n".join(await harness.say(Harness.PARTNER, "!help"))
    imo = "\n".join(await harness.say(Harness.IMO, "!help"))
    assert "!label" in partner and "!mydata" in partner
    assert "!label" not in imo and "!get" in imo
    assert "registered as partner for Relief Org" in partner
    coordinator = "\n".join(await harness.say(Harness.COORDINATOR, "/help"))
    assert "!label" not in coordinator and "!get" not in coordinator


async def test_unknown_user_refused_and_audited(harness: Harness) -> None:
    replies = await harness.say("@stranger:evil.org", "!help")
    # an encrypted chat: a stranger may ask to join (handlers/directory_chat.py)
    assert replies == [UNKNOWN_SENDER_MAY_JOIN]
    assert harness.app is not None
    entries = await harness.app.storage.audit_entries()
    assert entries[-1].outcome == "denied" and entries[-1].actor_role == "unknown"
    assert "stranger" not in entries[-1].actor_id  # a keyed hash, not the handle


async def test_unknown_command_gets_a_hint(harness: Harness) -> None:
    assert await harness.say(Harness.PARTNER, "!frobnicate now") == [
        "I don't know the command !frobnicate. Send !help to see what you can do."
    ]
    assert "only understand commands" in (await harness.say(Harness.PARTNER, "hello there"))[0]


async def test_policy_denial_is_polite_and_audited(harness: Harness) -> None:
    replies = await harness.say(Harness.IMO, "!withdraw S-0001")
    assert replies == ["Sorry, your role (imo) cannot use !withdraw."]
    assert harness.app is not None
    last = (await harness.app.storage.audit_entries())[-1]
    assert (last.action, last.outcome, last.actor_role) == ("submission.withdraw", "denied", "imo")


async def test_sensitive_command_refused_in_unencrypted_chat(harness: Harness) -> None:
    replies = await harness.say(Harness.PARTNER, "!mydata", chat_id="!public-room", encrypted=False)
    assert "not end-to-end encrypted" in replies[0]
    # !help is not sensitive and still works there
    assert "Commands you can use" in (await harness.say(Harness.PARTNER, "!help", chat_id="!public-room"))[0]


async def test_event_processed_once_even_after_restart(harness: Harness) -> None:
    first = await harness.say(Harness.PARTNER, "!help", event_id="$same-event")
    assert len(first) == 1
    assert await harness.say(Harness.PARTNER, "!help", event_id="$same-event") == []
    await harness.restart()
    assert await harness.say(Harness.PARTNER, "!help", event_id="$same-event") == []
    assert len(await harness.say(Harness.PARTNER, "!help", event_id="$other-event")) == 1
    assert harness.app is not None
    async with harness.app.storage.session() as s:
        keys = list((await s.execute(select(ProcessedEvent.key))).scalars())
    assert keys and all("same-event" not in k for k in keys)  # stored as keyed hashes


async def test_error_boundary_apologises_and_keeps_running(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    assert harness.app is not None

    @harness.app.router.command("boom", "help", "fails")
    async def boom(ctx, args):  # type: ignore[no-untyped-def]
        raise ValueError(f"secret content {args}")

    caplog.set_level(logging.ERROR)
    replies = await harness.say(Harness.PARTNER, "!boom Daw Hla Hla 09791234567")
    assert "Sorry, something went wrong" in replies[0] and "E-" in replies[0]
    ref = replies[0].rsplit(" ", 1)[-1]
    assert ref in caplog.text and "ValueError" in caplog.text
    assert "Daw Hla" not in caplog.text and "0979" not in caplog.text
    assert "Commands you can use" in "\n".join(await harness.say(Harness.PARTNER, "!help"))


async def test_rate_limit_answers_politely_once(harness_factory) -> None:  # type: ignore[no-untyped-def]
    h = await harness_factory(bot={"rate_limit_per_minute": 3})
    for _ in range(3):
        assert len(await h.say(Harness.PARTNER, "!help")) == 1
    assert "faster than I can handle" in (await h.say(Harness.PARTNER, "!help"))[0]
    assert await h.say(Harness.PARTNER, "!help") == []
    # another sender is not affected
    assert len(await h.say(Harness.PARTNER2, "!help")) == 1


def test_policy_table_denies_by_default() -> None:
    assert not allowed("partner", "no.such.action")
    assert not allowed("superuser", "help")
    assert not allowed(None, "help")
    assert allowed("coordinator", "incident.manage") and not allowed("imo", "incident.manage")
    # running the bot is not a reason to read partners' data
    assert not any(allowed(Role.ADMIN, a) for a in POLICY if a.startswith("submission."))
    assert "submission.submit" in actions_for("partner") and "submission.submit" not in actions_for("imo")


async def test_every_denial_is_audited(harness: Harness) -> None:
    assert harness.app is not None
    denied_before = sum(1 for e in await harness.app.storage.audit_entries() if e.outcome == "denied")
    await harness.say(Harness.COORDINATOR, "!label S-0001 confidential")
    await harness.say(Harness.ADMIN, "!get S-0001")
    async with harness.app.storage.session() as s:
        rows = list((await s.execute(select(AuditEntry).where(AuditEntry.outcome == "denied"))).scalars())
    assert len(rows) == denied_before + 2
