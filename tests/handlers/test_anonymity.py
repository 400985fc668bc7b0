"""What an anonymous incident report leaves for someone holding the database, the logs and the
master key: nothing that names the reporter, and no times that bracket the report with the
reporter's identity-bearing entries. Also: receipt guessing is limited, severity suggestions read
only counts of people.

The attacker in these tests re-does what the bot can do with the database and the master key:
keyed hashes (``Storage.pseudokey``) and opening sealed rows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

import handlers.incidents as incidents_module
from bot.logsetup import setup_logging
from handlers.incidents import suggest_severity
from storage.models import (
    AuditEntry,
    ConversationState,
    DataKey,
    InboxItem,
    Incident,
    IncidentEvent,
    Room,
    User,
)
from tests.conftest import Harness
from tests.handlers.test_incidents import file_report


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# ---------------------------------------------------------------------------- 1. drafts


async def _attacker_chats_and_users(h: Harness) -> tuple[list[str], list[str]]:
    """Every directory user and every room name the attacker can know of."""
    assert h.app is not None
    async with h.app.storage.session() as s:
        users = [u.matrix_id for u in (await s.execute(select(User))).scalars() if u.matrix_id]
        rooms = [r.chat_id for r in (await s.execute(select(Room))).scalars()]
    chats = set(rooms) | {Harness.IMO_ROOM, Harness.COORD_ROOM, Harness.ADMIN_ROOM}
    chats |= {await h.transport.direct_chat(u) for u in users}  # a DM per user, as a homeserver would have
    return sorted(chats), sorted(users)


async def test_open_report_draft_cannot_be_rekeyed_to_the_reporter(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    first = (await h.say(Harness.PARTNER, "!report"))[0]
    assert "memory" in first  # the reporter is told up front where the draft lives
    await h.say(Harness.PARTNER, "our partner's beneficiary list was emailed to the wrong person")
    await h.say(Harness.PARTNER, "yesterday")
    storage = h.app.storage
    chats, users = await _attacker_chats_and_users(h)
    async with storage.session() as s:
        rows = list((await s.execute(select(ConversationState))).scalars())
        # no draft row at all, so neither its keyed hash nor a dialog name in clear
        assert [r.dialog for r in rows if r.dialog == "report"] == []
        for chat in chats:
            for user in users:
                key = await storage.pseudokey("conversation", "memory", chat, user)
                assert await s.get(ConversationState, key) is None, (chat, user)
        # nothing sealed in the database (opened with the master key) names the reporter or their chat
        dm = await h.transport.direct_chat(Harness.PARTNER)
        for row in rows:
            dk = await storage.data_key(s, row.data_key_id)
            plain = storage.open_text(dk, f"conversation:{row.key}", row.data_enc)
            assert Harness.PARTNER not in plain and dm not in plain
        assert (await s.execute(select(InboxItem))).first() is None  # handled events are shredded
        purposes = [k.purpose for k in (await s.execute(select(DataKey))).scalars()]
        assert "conversation" not in purposes  # no data key (with its timestamps) was made for the draft
    # the draft still works
    assert "Is it still happening?" in (await h.say(Harness.PARTNER, "names and phone numbers of 40 people"))[0]


async def test_report_draft_lost_on_restart_and_the_reporter_is_told(harness: Harness) -> None:
    h = harness
    await h.say(Harness.PARTNER, "!report")
    await h.say(Harness.PARTNER, "USB stick with the distribution list lost")
    await h.restart()
    replies = await h.say(Harness.PARTNER, "last week")
    text = "\n".join(replies)
    assert "restarted" in text and "lost" in text and "!report" in text, text
    assert "What data" not in text
    # starting again works, and no other user is disturbed
    assert "What happened?" in (await h.say(Harness.PARTNER, "!report"))[0]
    assert "What happened?" not in "\n".join(await h.say(Harness.PARTNER2, "!help"))


async def test_in_memory_draft_times_out_with_a_notice(harness: Harness) -> None:
    """A guard: the draft timeout (ask once, then destroy) works as before for a draft kept in memory."""
    h = harness
    assert h.app is not None
    await h.say(Harness.PARTNER, "!report")
    await h.say(Harness.PARTNER, "USB stick lost")
    h.clock.advance(minutes=61)
    await h.app.run_sweeps()
    dm = await h.transport.direct_chat(Harness.PARTNER)
    assert "has been waiting" in h.transport.texts(dm)[-1]
    assert "What data" in (await h.say(Harness.PARTNER, "last week"))[0]  # answering continues it
    h.clock.advance(minutes=61)
    await h.app.run_sweeps()
    assert "was destroyed" in h.transport.texts(dm)[-1]
    assert await h.app.conversations.expired() == []
    assert "only understand commands" in (await h.say(Harness.PARTNER, "names"))[0]


# ---------------------------------------------------------------------------- 2. receipt guessing


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = incidents_module.check_receipt

    def counting(secret: str, stored: str) -> bool:
        calls.append(1)
        return real(secret, stored)

    monkeypatch.setattr(incidents_module, "check_receipt", counting)
    return calls


def _wrong(receipt: str, i: int = 0) -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    last = receipt[-1]
    return receipt[:-2] + alphabet[i % 32] + (alphabet[(alphabet.index(last) + 1) % 32])


async def test_receipt_guesses_limited_per_sender(harness: Harness, scrypt_calls: list[int]) -> None:
    h = harness
    receipt = await file_report(h, Harness.PARTNER, anonymous=True)
    for i in range(5):
        assert "can't find a report" in (await h.say(Harness.PARTNER2, f"!status {_wrong(receipt, i)}"))[0]
    assert len(scrypt_calls) == 5
    over = (await h.say(Harness.PARTNER2, f"!status {_wrong(receipt, 9)}"))[0]
    assert "too many" in over.lower() and "can't find" not in over
    # over the limit even the right code is not checked (no scrypt run) until the hour has passed
    assert "too many" in (await h.say(Harness.PARTNER2, f"!status {receipt}"))[0].lower()
    assert len(scrypt_calls) == 5
    # others are not affected
    assert (await h.say(Harness.OTHER_ORG_PARTNER, f"!status {receipt}"))[0].startswith("I-0001: new")
    # coordinators learn about it, with counts only
    notices = [t for t in h.transport.texts(Harness.COORD_ROOM) if "receipt code" in t.lower()]
    assert len(notices) == 1, notices
    assert "5 wrong receipt codes" in notices[0]
    assert "omar" not in notices[0] and "@" not in notices[0]
    h.clock.advance(minutes=61)
    assert (await h.say(Harness.PARTNER2, f"!status {receipt}"))[0].startswith("I-0001: new")


async def test_receipt_guesses_limited_overall(harness: Harness, scrypt_calls: list[int]) -> None:
    h = harness
    assert h.app is not None
    receipt = await file_report(h, Harness.PARTNER, anonymous=True)
    guessers = [f"@guess{i}:example.org" for i in range(11)]
    for g in guessers:
        await h.app.directory.add_user(g, role="partner", org="Water Org")
    n = 0
    for g in guessers[:10]:
        for _ in range(5):
            assert "can't find a report" in (await h.say(g, f"!status {_wrong(receipt, n)}"))[0]
            n += 1
    assert len(scrypt_calls) == 50
    # 50 wrong codes in the hour: nobody's code is checked now, not even a new sender's right one
    assert "too many" in (await h.say(guessers[10], f"!status {_wrong(receipt, 60)}"))[0].lower()
    assert "too many" in (await h.say(Harness.PARTNER, f"!status {receipt}"))[0].lower()
    assert len(scrypt_calls) == 50
    notices = [t for t in h.transport.texts(Harness.COORD_ROOM) if "receipt code" in t.lower()]
    assert len(notices) == 1  # rate-limited: one notice an hour
    assert all("@" not in t and "guess0" not in t for t in notices)
    h.clock.advance(minutes=61)
    assert (await h.say(Harness.PARTNER, f"!status {receipt}"))[0].startswith("I-0001: new")
    assert len(scrypt_calls) == 51


async def test_status_only_for_directory_users(harness: Harness, scrypt_calls: list[int]) -> None:
    h = harness
    receipt = await file_report(h, Harness.PARTNER, anonymous=True)
    replies = await h.say("@someone-else:example.org", f"!status {receipt}", chat_id="!elsewhere")
    assert "don't know you" in replies[0] and "I-0001" not in "\n".join(replies)
    assert scrypt_calls == []
    # a known user, in any chat, still can
    assert (await h.say(Harness.IMO, f"!status {receipt}", chat_id="!elsewhere"))[0].startswith("I-0001: new")


# ---------------------------------------------------------------------------- 3. severity


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"what": "Our laptop was stolen, police reference 2024-118734", "when": "March 2024"}, "LOW"),
        ({"what": "Email to the wrong donor, ticket #5531 from 2023"}, "LOW"),
        ({"what": "Wrong attachment sent", "data": "case number 19283746"}, "LOW"),
        ({"what": "In 2024 the people in the camp were photographed"}, "LOW"),
        ({"what": "A phone with contacts was lost", "data": "file ref 88213"}, "MEDIUM"),
        ({"what": "Spreadsheet shared", "data": "names of 40 individuals"}, "MEDIUM"),
        ({"what": "Export left on a shared drive", "data": "12 records"}, "MEDIUM"),
        ({"what": "List sent to the wrong group", "data": "about 240 people"}, "HIGH"),
        ({"what": "List sent to the wrong group", "data": "300 displaced families"}, "HIGH"),
        ({"what": "List sent to the wrong group", "data": "hundreds of households"}, "HIGH"),
        ({"what": "Database copied", "data": "1,200 beneficiaries, reference 2023"}, "CRITICAL"),
        ({"what": "Database copied", "data": "thousands of people"}, "CRITICAL"),
        ({"what": "Registration export posted online", "data": "5000 persons", "ongoing": "no"}, "CRITICAL"),
        ({"what": "Still visible online", "data": "150 people", "ongoing": "yes"}, "CRITICAL"),
        ({"what": "Still visible online", "data": "version 3000 of the form", "ongoing": "yes"}, "HIGH"),
        ({"what": "List of 240 GBV survivors sent to the wrong group"}, "HIGH"),
    ],
)
def test_severity_reads_only_counts_of_people(body: dict[str, Any], expected: str) -> None:
    assert suggest_severity(body) == expected


# ---------------------------------------------------------------------------- 4. logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: lg.level for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lg in logging.root.manager.loggerDict.items():
        if isinstance(lg, logging.Logger):
            lg.setLevel(levels.get(name, logging.NOTSET))


async def test_debug_logs_of_a_report_name_nobody(
    harness: Harness, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    setup_logging("DEBUG")
    logging.getLogger("bot.selftest").debug("own debug line")  # the handler is live at DEBUG
    h = harness
    receipt = await file_report(h, Harness.PARTNER, anonymous=True)
    await h.say(Harness.PARTNER, f"!status {receipt} add the admin deleted it")
    await h.say(Harness.COORDINATOR, "!incident I-0001 ack", chat_id=Harness.COORD_ROOM)
    err = capsys.readouterr().err
    assert "own debug line" in err
    for needle in ("pia", "@pia:example.org", "example.org", await h.transport.direct_chat(Harness.PARTNER)):
        assert needle not in err, needle
    assert "aiosqlite" not in err and "sqlalchemy" not in err and "asyncpg" not in err


def test_third_party_loggers_held_at_warning_whatever_their_own_level(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    setup_logging("DEBUG", json_lines=True)
    # SQLAlchemy's echo=True sets this logger's own level to INFO; a library may set DEBUG on itself
    logging.getLogger("sqlalchemy.engine.Engine").setLevel(logging.INFO)
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT users.id WHERE users.matrix_id = '@pia:example.org'")
    logging.getLogger("some_new_library.sub").setLevel(logging.DEBUG)
    logging.getLogger("some_new_library.sub").debug("payload from @pia:example.org")
    logging.getLogger("aiosqlite").debug("executing ... '@pia:example.org'")
    logging.getLogger("asyncpg").info("@pia:example.org")
    logging.getLogger().debug("root debug from a library: @pia:example.org")
    logging.getLogger("handlers.selftest").debug("own line")
    logging.getLogger("some_new_library").warning("a warning passes")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert [entry["msg"] for entry in lines] == ["own line", "a warning passes"]


# ---------------------------------------------------------------------------- 5. times


async def test_anonymous_report_times_do_not_bracket_it_with_the_reporter(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    h.clock.advance(minutes=17, seconds=23, microseconds=500)  # 08:17:23.0005
    await h.say(Harness.PARTNER, "!incidents")  # an identity-bearing entry (user:N, denied)
    receipt = await file_report(h, Harness.PARTNER, anonymous=True)
    h.clock.advance(seconds=2)
    await h.say(Harness.PARTNER, f"!status {receipt}")
    await h.say(Harness.PARTNER, f"!status {receipt} add the admin deleted it")
    await h.say(Harness.PARTNER, "!incidents")  # identity-bearing again, right after
    storage = h.app.storage
    partner = await h.app.directory.lookup("memory", Harness.PARTNER)
    assert partner is not None

    def anonymous_entries(entries: list[AuditEntry]) -> list[AuditEntry]:
        return [a for a in entries if a.actor_id == "anonymous"]

    # nothing anonymous is written while the hour is running
    assert anonymous_entries(await storage.audit_entries()) == []
    async with storage.session() as s:
        inc = (await s.execute(select(Incident))).scalar_one()
        assert _utc(inc.created_at) == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
        key = await s.get(DataKey, inc.data_key_id)
        assert key is not None and _utc(key.created_at) == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
        for ev in (await s.execute(select(IncidentEvent))).scalars():
            assert _utc(ev.created_at) == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
            ek = await s.get(DataKey, ev.data_key_id)
            assert ek is not None and _utc(ek.created_at) == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)

    # a restart loses nothing of the report's own entry (it is derived from the incidents table)
    await h.restart()
    assert h.app is not None
    await h.say(Harness.PARTNER, "!incidents")
    h.clock.advance(minutes=15)  # 08:32: the hour is not over
    await h.app.run_sweeps()
    assert anonymous_entries(await h.app.storage.audit_entries()) == []
    h.clock.advance(minutes=28, seconds=40)  # 09:00:43
    await h.app.run_sweeps()
    await h.app.run_sweeps()  # idempotent
    entries = await h.app.storage.audit_entries()
    anon = anonymous_entries(entries)
    assert sorted((a.action, a.object_id) for a in anon) == [
        ("incident.add_info", "I-0001"),
        ("incident.report", "I-0001"),
    ]
    last_identity = max(a.seq for a in entries if a.actor_id == partner.audit_id)
    for a in anon:
        assert a.seq > last_identity  # after every entry of that hour, not between the reporter's
        assert _utc(a.ts) >= datetime(2026, 1, 1, 9, 0, tzinfo=UTC)  # says the hour, not the minute
    assert await h.app.storage.verify_audit() is None
    # what the coordinators see is kept to the hour too
    shown = (await h.say(Harness.COORDINATOR, "!incident I-0001", chat_id=Harness.COORD_ROOM))[0]
    assert "08:17" not in shown and "08:00" in shown


async def test_status_reads_are_audited_after_the_hour(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    receipt = await file_report(h, Harness.PARTNER, anonymous=True)
    h.clock.advance(minutes=40)
    await h.say(Harness.PARTNER2, f"!status {receipt}")
    await h.say(Harness.PARTNER2, f"!status {_wrong(receipt)}")
    assert [a for a in await h.app.storage.audit_entries() if a.action == "incident.status"] == []
    h.clock.advance(minutes=21)
    await h.app.run_sweeps()
    status = [
        (a.actor_id, a.object_id, a.outcome)
        for a in await h.app.storage.audit_entries()
        if a.action == "incident.status"
    ]
    assert sorted(status, key=str) == sorted(
        [("anonymous", "I-0001", "allowed"), ("anonymous", None, "denied")], key=str
    )
    h.clock.advance(hours=1)
    await h.app.run_sweeps()
    assert len([a for a in await h.app.storage.audit_entries() if a.action == "incident.status"]) == 2


async def test_processed_event_records_cannot_be_brute_forced_to_a_telegram_chat(harness) -> None:
    """The operator's attack: HMAC every directory Telegram id x small message ids (key in the DB)."""
    from sqlalchemy import select

    from bot.events import IncomingMessage
    from storage.models import ProcessedEvent

    h = harness
    assert h.app is not None
    chat = "4242"  # the reporter's Telegram chat id, known to the directory
    msg = IncomingMessage(
        transport="memory",
        chat_id=chat,
        sender_id="tg-reporter",
        event_id=f"{chat}:7",
        text="!status K12-AAAA-BBBB-CCCC-DDDD-EEEE",
        dedupe_id="update:918273",
    )
    task = await h.app.dispatch(msg)
    if task is not None:
        await task
    async with h.app.storage.session() as s:
        rows = (await s.execute(select(ProcessedEvent))).scalars().all()
    stored = {r.key for r in rows}
    guesses = {
        await h.app.storage.pseudokey("event", f"memory:{c}:{m}") for c in ("4242", "1001") for m in range(1, 50)
    }
    assert stored and not (stored & guesses)
    assert all(r.processed_at.minute == 0 and r.processed_at.second == 0 for r in rows)  # to the hour
