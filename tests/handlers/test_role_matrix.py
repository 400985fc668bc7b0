"""The whole role x command matrix: every registered command, sent by every role, is either
refused by the policy table (polite answer + audited denial) or reaches its handler."""

from __future__ import annotations

import pytest

from bot.policy import allowed
from tests.conftest import Harness

SENDERS = {
    "partner": Harness.PARTNER,
    "imo": Harness.IMO,
    "coordinator": Harness.COORDINATOR,
    "admin": Harness.ADMIN,
}
ARGS = {
    "label": "S-0001 confidential",
    "password": "S-0001 x",
    "pseudonymize": "S-0001",
    "accept": "S-0001",
    "withdraw": "S-0001",
    "get": "S-0001",
    "correct": "S-0001",
    "delete": "S-0001",
    "consent": "S-0001 products yes",
    "ask": "How do we label this?",
    "reply": "Q-0001 thanks",
    "close": "Q-0001",
    "guidance": "all hello",
    "broadcast": "all",
    "audience": "list",
    "status": "K1-AAAA-AAAA-AAAA-AAAA-AAAA",
    "incident": "I-0001",
}


async def test_every_command_for_every_role(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    commands = sorted(h.app.router.commands.values(), key=lambda c: c.name)
    assert len(commands) >= 25
    checked = 0
    for role, sender in SENDERS.items():
        for cmd in commands:
            before = len(await h.app.storage.audit_entries())
            replies = await h.say(sender, f"!{cmd.name} {ARGS.get(cmd.name, '')}".strip())
            text = "\n".join(replies)
            refused = f"cannot use !{cmd.name}" in text
            if allowed(role, cmd.action):
                assert not refused, (role, cmd.name, text)
            else:
                assert refused, (role, cmd.name, text)
                last = (await h.app.storage.audit_entries())[-1]
                assert len(await h.app.storage.audit_entries()) == before + 1
                assert (last.action, last.outcome, last.actor_role) == (cmd.action, "denied", role)
            if text.endswith("(Send !back to go back, !cancel to stop.)") or "Answer yes or no" in text:
                await h.say(sender, "!cancel")  # leave any dialog a command started
            checked += 1
    assert checked == len(SENDERS) * len(commands)


@pytest.mark.parametrize("role", ["imo", "coordinator", "admin"])
async def test_only_partners_submit_files(harness: Harness, role: str) -> None:
    from bot.events import Attachment

    h = harness
    replies = await h.say(SENDERS[role], "", attachments=(Attachment("x.csv", "text/csv", b"a,b\n1,2\n"),))
    if role == "coordinator":  # a coordinator's file outside the coordinator room is not taken as a product
        assert "coordinator room" in replies[0]
    else:
        assert "only partner organisations submit files" in replies[0]
