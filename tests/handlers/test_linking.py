"""Linking a Telegram account with a one-time code from the encrypted chat (handlers/linking.py),
and the operator's ``admin user link-telegram``.

The Matrix side is the harness's memory transport; Telegram is a second memory transport named
"telegram" that, like the real one, is not end-to-end encrypted.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.notices import UNKNOWN_SENDER_MAY_JOIN as UNKNOWN_SENDER
from bot.router import UNENCRYPTED_REFUSAL
from bot.transport import Capabilities
from bot.transports.memory import MemoryTransport
from handlers.linking import (
    ALREADY_LINKED,
    INVALID,
    LINKED_HERE,
    LINKED_THERE,
    ONLY_PRIVATE,
    REPLACED,
    TELEGRAM_USAGE,
    TOO_MANY,
)
from storage.directory import LINK_CODE_ALPHABET, LinkError
from storage.models import Setting
from tests.conftest import Harness

TG_PIA = "5550001"
TG_OTHER = "5550002"
CODE_RE = re.compile(rf"one-time link code: ([{LINK_CODE_ALPHABET}]{{4}}-[{LINK_CODE_ALPHABET}]{{4}})")


class Linking:
    def __init__(self, h: Harness, tg: MemoryTransport) -> None:
        self.h = h
        self.tg = tg
        assert h.app is not None
        self.app = h.app

    async def ask_code(self, sender: str = Harness.PARTNER) -> str:
        replies = await self.h.say(sender, "!link telegram")
        match = CODE_RE.search("\n".join(replies))
        assert match, replies
        return match.group(1)

    async def tg_say(self, telegram_id: str, text: str) -> list[str]:
        replies = await self.tg.receive(telegram_id, text, chat_id=telegram_id, encrypted=False)
        return [r.text for r in replies if r.chat_id == telegram_id and r.text]

    async def matrix_texts(self, sender: str = Harness.PARTNER) -> list[str]:
        return self.h.transport.texts(await self.h.transport.direct_chat(sender))


@pytest.fixture
async def link(harness: Harness) -> Linking:
    assert harness.app is not None
    tg = MemoryTransport(
        name="telegram", capabilities=Capabilities(end_to_end_encrypted=False, files=False, max_file_size=0)
    )
    harness.app.transports["telegram"] = tg
    await tg.start(harness.app.dispatch)
    return Linking(harness, tg)


async def test_code_from_encrypted_chat_links_telegram_and_tells_both_sides(link: Linking) -> None:
    app = link.app
    code = await link.ask_code()
    assert await link.tg_say(TG_PIA, f"/link {code}") == [LINKED_HERE]
    assert (await link.matrix_texts())[-1] == LINKED_THERE
    user = await app.directory.lookup("telegram", TG_PIA)
    assert user is not None and user.matrix_id == Harness.PARTNER and user.role == "partner"
    # now a known Telegram user: restricted as always
    assert (await link.tg_say(TG_PIA, "/help"))[0].startswith("You are registered as partner")
    assert await link.tg_say(TG_PIA, "/consents") == [UNENCRYPTED_REFUSAL]
    audit = [(e.actor_id, e.action, e.outcome) for e in await app.storage.audit_entries()]
    assert (f"user:{user.id}", "account.link_code", "done") in audit
    assert (f"user:{user.id}", "account.link", "done") in audit


async def test_code_is_stored_only_as_a_keyed_hash(link: Linking) -> None:
    code = await link.ask_code()
    async with link.app.storage.session() as s:
        rows = list((await s.execute(select(Setting).where(Setting.name.startswith("link-")))).scalars())
    assert len(rows) == 1
    bare = code.replace("-", "")
    assert bare not in rows[0].name and bare not in rows[0].value and code not in rows[0].value
    assert set(__import__("json").loads(rows[0].value)) == {"user", "expires"}
    if link.h.db_url.startswith("sqlite"):
        db = Path(link.h.db_url.split("///", 1)[1])
        assert bare.encode() not in db.read_bytes()


async def test_code_works_once_and_linked_ids_are_refused(link: Linking) -> None:
    code = await link.ask_code()
    assert await link.tg_say(TG_PIA, f"/link {code.lower()}") == [LINKED_HERE]  # case and dash do not matter
    assert await link.tg_say(TG_OTHER, f"/link {code}") == [INVALID]  # used
    assert await link.tg_say(TG_PIA, "/link ABCD-EFGH") == [ALREADY_LINKED]
    assert await link.app.directory.lookup("telegram", TG_OTHER) is None


async def test_telegram_only_user_cannot_link_again(link: Linking) -> None:
    await link.app.directory.add_user(TG_OTHER, role="imo", transport="telegram")
    code = await link.ask_code()
    assert await link.tg_say(TG_OTHER, f"/link {code}") == [ALREADY_LINKED]
    # the code was not spent on it
    assert await link.tg_say(TG_PIA, f"/link {code}") == [LINKED_HERE]


async def test_expired_code_and_sweep(link: Linking) -> None:
    code = await link.ask_code()
    link.h.clock.advance(minutes=10, seconds=1)
    assert await link.tg_say(TG_PIA, f"/link {code}") == [INVALID]
    await link.app.run_sweeps()
    async with link.app.storage.session() as s:
        assert not list((await s.execute(select(Setting).where(Setting.name.startswith("link-code:")))).scalars())
    assert await link.app.directory.lookup("telegram", TG_PIA) is None


async def test_a_new_code_replaces_the_old_one(link: Linking) -> None:
    first = await link.ask_code()
    second = await link.ask_code()
    assert await link.tg_say(TG_PIA, f"/link {first}") == [INVALID]
    assert await link.tg_say(TG_PIA, f"/link {second}") == [LINKED_HERE]


async def test_five_tries_an_hour_per_telegram_account(link: Linking) -> None:
    code = await link.ask_code()
    for guess in ("AAAA-AAAA", "AAAA-AAAB", "nonsense", "AAAA-AAAC", "AAAA-AAAD"):
        assert await link.tg_say(TG_OTHER, f"/link {guess}") == [INVALID]
    assert await link.tg_say(TG_OTHER, f"/link {code}") == [TOO_MANY]  # even the right code now
    assert await link.app.directory.lookup("telegram", TG_OTHER) is None
    assert await link.tg_say(TG_PIA, f"/link {code}") == [LINKED_HERE]  # other accounts are not affected
    link.h.clock.advance(hours=1, seconds=1)
    other = await link.ask_code(Harness.IMO)
    assert await link.tg_say(TG_OTHER, f"/link {other}") == [LINKED_HERE]
    denied = [e for e in await link.app.storage.audit_entries() if e.action == "account.link"]
    assert [e.outcome for e in denied].count("failed") == 5 and [e.outcome for e in denied].count("denied") == 1


async def test_codes_only_in_the_private_encrypted_chat(link: Linking) -> None:
    h = link.h
    assert await h.say(Harness.PARTNER, "!link telegram", chat_id="!plain-room") == [UNENCRYPTED_REFUSAL]
    h.transport.encrypted_chats.add("!group")
    assert await h.say(Harness.PARTNER, "!link telegram", chat_id="!group") == [ONLY_PRIVATE]
    # asking on Telegram gives no code either, and costs no try
    assert await link.tg_say(TG_PIA, "/link telegram") == [TELEGRAM_USAGE]
    assert await link.tg_say(TG_PIA, "/link") == [TELEGRAM_USAGE]
    assert await h.say("@stranger:example.org", "!link telegram") == [UNKNOWN_SENDER]
    denied = [e for e in await link.app.storage.audit_entries() if e.action == "account.link"]
    assert [e.outcome for e in denied] == ["denied", "denied"]
    async with link.app.storage.session() as s:
        assert not list((await s.execute(select(Setting).where(Setting.name.startswith("link-")))).scalars())


async def test_relinking_replaces_the_old_telegram_account(link: Linking) -> None:
    assert await link.tg_say(TG_PIA, f"/link {await link.ask_code()}") == [LINKED_HERE]
    assert await link.tg_say(TG_OTHER, f"/link {await link.ask_code()}") == [LINKED_HERE]
    assert (await link.matrix_texts())[-1] == LINKED_THERE + REPLACED
    assert await link.app.directory.lookup("telegram", TG_PIA) is None
    user = await link.app.directory.lookup("telegram", TG_OTHER)
    assert user is not None and user.matrix_id == Harness.PARTNER


async def test_concurrent_redemptions_use_a_code_once(link: Linking) -> None:
    d = link.app.directory
    partner = await d.lookup("memory", Harness.PARTNER)
    assert partner is not None
    now = link.h.clock.now()
    code = await d.issue_link_code(partner.id, now)
    results = await asyncio.gather(
        *(d.redeem_link_code(code, str(6000 + i), now) for i in range(4)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1, results
    assert all(isinstance(r, LinkError) and r.reason == "invalid" for r in results if isinstance(r, BaseException))


# --------------------------------------------------------------------------- the operator's way


def test_cli_link_telegram_duplicate_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    (site / "secrets" / "matrix_password").write_text("pw\n")
    (site / "secrets" / "matrix_password").chmod(0o600)
    cfg = ["--config", str(site / "clusterbot.toml")]
    assert main(["admin", "user", "add", "@pia:example.org", "--role", "imo", *cfg]) == 0
    assert main(["admin", "user", "add", "@omar:example.org", "--role", "imo", *cfg]) == 0
    assert main(["admin", "user", "link-telegram", "@pia:example.org", TG_PIA, *cfg]) == 0
    capsys.readouterr()
    assert main(["admin", "user", "link-telegram", "@omar:example.org", TG_PIA, *cfg]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "IntegrityError" not in err
    assert err == f"clusterbot: Telegram id {TG_PIA} is already linked to another user (remove that link first)\n"
    assert main(["admin", "user", "link-telegram", "@omar:example.org", "@pia_tg", *cfg]) == 2
    assert "is a number" in capsys.readouterr().err
    assert main(["admin", "user", "link-telegram", "@pia:example.org", TG_PIA, *cfg]) == 0  # unchanged: fine
