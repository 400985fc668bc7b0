"""The submission lifecycle, consent ledger and data rights through the memory transport."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.events import Attachment
from storage.consent import ConsentLedger
from storage.models import Submission, SubmissionVersion
from tests.conftest import Harness

BENEFICIARIES = (
    b"Name,Phone,Village,Household size\n"
    b"Daw Hla Hla Win,09791234567,Kyauk Taw,5\n"
    b"U Kyaw Min,09450012345,Ah Lel,3\n"
    b"Ma Thida,+95 9 420 123 456,Nyaung Pin,4\n"
)
AGGREGATE = (
    b"State,Township,Township Pcode,Households reached,Budget USD\n"
    b"Rakhine,Sittwe,MMR012001,1200,45000\n"
    b"Kachin,Myitkyina,MMR001001,800,30000\n"
)


def csv_file(data: bytes, name: str = "distribution_list.csv") -> tuple[Attachment, ...]:
    return (Attachment(name, "text/csv", data),)


async def submit(
    h: Harness,
    data: bytes = BENEFICIARIES,
    text: str = "",
    name: str = "distribution_list.csv",
    sender: str = Harness.PARTNER,
) -> list[str]:
    return await h.say(sender, text, attachments=csv_file(data, name))


async def test_unlabelled_list_is_held_then_labelled(harness: Harness) -> None:
    h = harness
    replies = await submit(h)
    text = "\n".join(replies)
    assert "S-0001 is held" in text and "highly_confidential" in text
    assert "09*******67" in text and "09791234567" not in text  # masked examples only
    assert "!label S-0001" in text and "!pseudonymize S-0001" in text and "!withdraw S-0001" in text
    assert h.transport.texts(Harness.IMO_ROOM) == []  # nobody else hears of a held file
    assert "not enough" in (await h.say(Harness.PARTNER, "!label S-0001 confidential"))[0]
    accepted = await h.say(Harness.PARTNER, "!label S-0001 highly_confidential")
    assert accepted[0].startswith("S-0001 accepted as highly_confidential")
    notice = h.transport.texts(Harness.IMO_ROOM)[-1]
    assert "S-0001" in notice and "Relief Org" in notice and "highly_confidential" in notice
    assert "distribution_list" not in notice and "Daw" not in notice


async def test_label_in_the_same_message_and_clear_files(harness: Harness) -> None:
    h = harness
    assert "S-0001 accepted as highly_confidential" in (await submit(h, text="highly confidential"))[0]
    assert "S-0002 accepted as public" in (await submit(h, AGGREGATE, name="summary.csv"))[0]
    assert len(h.transport.texts(Harness.IMO_ROOM)) == 2


async def test_stored_encrypted_at_rest(harness: Harness, tmp_path: Path) -> None:
    await submit(harness, name="Daw_Hla_beneficiaries.csv")
    files = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert files
    for p in files:
        raw = p.read_bytes()
        assert b"Daw Hla" not in raw and b"0979" not in raw and "Daw_Hla" not in p.name
    db = tmp_path / "test.sqlite3"
    if db.exists():
        for f in tmp_path.glob("test.sqlite3*"):
            raw = f.read_bytes()
            assert b"Daw_Hla" not in raw and b"Daw Hla" not in raw and b"09791234567" not in raw


async def test_unreadable_file_is_explained_and_not_kept(harness: Harness) -> None:
    h = harness
    replies = await h.say(
        Harness.PARTNER, "", attachments=(Attachment("report.xlsx", "application/vnd.ms-excel", b"PK\x03\x04garbage"),)
    )
    assert "could not read that file" in replies[0]
    assert h.app is not None
    async with h.app.storage.session() as s:
        assert (await s.execute(select(Submission))).first() is None
    assert "Commands you can use" in "\n".join(await h.say(Harness.PARTNER, "!help"))


async def test_too_large_file_refused(harness_factory) -> None:  # type: ignore[no-untyped-def]
    h: Harness = await harness_factory(screening={"max_file_mb": 1})
    replies = await submit(h, b"a,b\n" + b"1,2\n" * 300_000)
    assert "the limit is 1 MB" in replies[0]


async def test_withdraw_shreds(harness: Harness) -> None:
    h = harness
    await submit(h)
    assert "withdrawn and destroyed" in (await h.say(Harness.PARTNER, "!withdraw S-0001"))[0]
    assert h.app is not None
    async with h.app.storage.session() as s:
        v = (await s.execute(select(SubmissionVersion))).scalar_one()
        assert v.state == "shredded" and v.blob_id is None and v.filename_enc is None
    assert not [p for p in h.app.storage.blobs.root.rglob("*") if p.is_file()]


async def test_get_is_authorised_and_audited(harness: Harness) -> None:
    h = harness
    await submit(h)
    # held: the IMO cannot fetch it, and cannot learn that it exists
    assert "can't find a submission S-0001" in (await h.say(Harness.IMO, "!get S-0001", chat_id=Harness.IMO_ROOM))[0]
    await h.say(Harness.PARTNER, "!label S-0001 highly_confidential")
    before = len(h.transport.sent)
    replies = await h.transport.receive(Harness.IMO, "!get S-0001", chat_id=Harness.IMO_ROOM)
    files = [r.file for r in replies if r.file is not None]
    assert len(files) == 1 and files[0].data == BENEFICIARIES and files[0].filename == "distribution_list.csv"
    assert h.transport.sent[before:]
    # another organisation's partner gets nothing; a coordinator neither
    assert "can't find" in (await h.say(Harness.OTHER_ORG_PARTNER, "!get S-0001"))[0]
    assert "cannot use !get" in (await h.say(Harness.COORDINATOR, "!get S-0001"))[0]
    # the same organisation's other partner can fetch it in their encrypted chat
    replies = await h.transport.receive(Harness.PARTNER2, "!get S-0001")
    assert any(r.file is not None for r in replies)
    # never into an unencrypted room, nor into an encrypted group where others read along
    plain = await h.say(Harness.IMO, "!get S-0001", chat_id="!plain-room", encrypted=False)
    assert "not end-to-end encrypted" in plain[0]
    h.transport.encrypted_chats.add("!some-group")
    group = await h.transport.receive(Harness.PARTNER, "!get S-0001", chat_id="!some-group")
    dm = await h.transport.direct_chat(Harness.PARTNER)
    assert not [r for r in group if r.file and r.chat_id != dm]  # asked in a group: sent to the private chat
    assert "I sent the file to our private chat" in " ".join(r.text for r in group if r.chat_id == "!some-group")
    assert h.app is not None
    audit = [
        (a.actor_role, a.action, a.outcome) for a in await h.app.storage.audit_entries() if a.object_id == "S-0001"
    ]
    assert ("imo", "submission.get", "denied") in audit
    assert ("imo", "submission.get", "allowed") in audit
    assert ("partner", "submission.get", "denied") in audit


async def test_consent_ledger_and_revocation(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")
    assert "Usage" in (await h.say(Harness.PARTNER, "!consent S-0001 everyone yes"))[0]
    assert "may now be used for 'products'" in (await h.say(Harness.PARTNER, "!consent S-0001 products yes"))[0]
    await h.say(Harness.PARTNER, "!consent S-0001 cluster no")
    assert h.app is not None
    ledger = ConsentLedger(h.app.storage)
    assert await ledger.allows(1, "products") and not await ledger.allows(1, "cluster")
    assert not await ledger.allows(1, "agencies")  # never answered = no consent
    await h.say(Harness.PARTNER, "!consent S-0001 products no")  # revocation is a new entry
    assert not await ledger.allows(1, "products")
    assert len(await ledger.history()) == 3 and await ledger.verify() is None
    listing = (await h.say(Harness.PARTNER, "!consents"))[0]
    assert "S-0001 products: no" in listing and "S-0001 cluster: no" in listing
    assert "can't find" in (await h.say(Harness.OTHER_ORG_PARTNER, "!consent S-0001 products yes"))[0]


async def test_consent_ledger_tamper_detected(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")
    for scope in ("cluster", "agencies", "products"):
        await h.say(Harness.PARTNER, f"!consent S-0001 {scope} no")
    assert h.app is not None
    from sqlalchemy import update

    from storage.models import ConsentDecision

    async with h.app.storage.session() as s, s.begin():
        await s.execute(update(ConsentDecision).where(ConsentDecision.seq == 2).values(decision=True))
    problem = await ConsentLedger(h.app.storage).verify()
    assert problem is not None and problem.seq == 2


async def test_correct_creates_new_version_and_shreds_old(harness: Harness) -> None:
    h = harness
    await submit(h, AGGREGATE, name="summary.csv")
    assert "Send the corrected file" in (await h.say(Harness.PARTNER, "!correct S-0001"))[0]
    fixed = AGGREGATE + b"Shan,Lashio,MMR014001,300,9000\n"
    replies = await submit(h, fixed, name="summary_v2.csv")
    assert "version 2 accepted" in replies[0]
    assert h.app is not None
    async with h.app.storage.session() as s:
        versions = list((await s.execute(select(SubmissionVersion).order_by(SubmissionVersion.version))).scalars())
    assert [v.state for v in versions] == ["shredded", "active"]
    replies = await h.transport.receive(Harness.IMO, "!get S-0001", chat_id=Harness.IMO_ROOM)
    assert [r.file.data for r in replies if r.file] == [fixed]


async def test_correct_keeps_previous_when_configured(harness_factory) -> None:  # type: ignore[no-untyped-def]
    h: Harness = await harness_factory(retention={"keep_previous_versions": True})
    await submit(h, AGGREGATE, name="summary.csv")
    await h.say(Harness.PARTNER, "!correct S-0001")
    await submit(h, AGGREGATE + b"Shan,Lashio,MMR014001,300,9000\n", name="summary.csv")
    assert h.app is not None
    async with h.app.storage.session() as s:
        states = [
            v.state for v in (await s.execute(select(SubmissionVersion).order_by(SubmissionVersion.version))).scalars()
        ]
    assert states == ["superseded", "active"]


async def test_delete_asks_for_confirmation_then_shreds(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")
    assert "Answer yes or no" in (await h.say(Harness.PARTNER, "!delete S-0001"))[0]
    assert "Nothing was deleted" in (await h.say(Harness.PARTNER, "no"))[0]
    assert "destroyed" in (await h.say(Harness.PARTNER, "yes"))[0]
    assert h.app is not None
    async with h.app.storage.session() as s:
        sub = (await s.execute(select(Submission))).scalar_one()
        assert sub.state == "deleted"
    assert "can't find" not in (await h.say(Harness.PARTNER, "!delete S-0001"))[0]
    assert "already deleted" in (await h.say(Harness.PARTNER, "!delete S-0001"))[0]
    assert ("partner", "submission.delete", "done") in [
        (a.actor_role, a.action, a.outcome) for a in await h.app.storage.audit_entries()
    ]


async def test_mydata_shows_versions_consent_and_accesses(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    await h.transport.receive(Harness.IMO, "!get S-0001", chat_id=Harness.IMO_ROOM)
    text = (await h.say(Harness.PARTNER, "!mydata"))[0]
    assert "S-0001: accepted, level highly_confidential" in text
    assert "v1 (original): active" in text
    assert "consent: products yes" in text
    assert "submission.get by an IMO: allowed" in text and "by a imo" not in text  # issue 13: grammar
    assert "S-0001" not in (await h.say(Harness.OTHER_ORG_PARTNER, "!mydata"))[0]


async def test_retention_warns_then_deletes(harness_factory) -> None:  # type: ignore[no-untyped-def]
    h: Harness = await harness_factory(
        retention={"held_hours": 100, "warn_before_hours": 72, "days": {"highly_confidential": 10}}
    )
    await submit(h)  # held, expires in 100 h
    await submit(h, text="highly_confidential")  # accepted, expires in 10 days
    assert h.app is not None
    dm = await h.transport.direct_chat(Harness.PARTNER)
    h.clock.advance(hours=29)
    await h.app.run_sweeps()
    await h.app.run_sweeps()
    reminders = [t for t in h.transport.texts(dm) if t.startswith("Reminder")]
    assert len(reminders) == 1 and "S-0001 is still held" in reminders[0]
    h.clock.advance(hours=72)
    await h.app.run_sweeps()
    assert any("S-0001 reached the end" in t for t in h.transport.texts(dm))
    h.clock.advance(hours=69)  # t = 170 h: within 72 h of S-0002's end (240 h)
    await h.app.run_sweeps()
    assert any(t.startswith("Reminder: S-0002 will be deleted") for t in h.transport.texts(dm))
    h.clock.advance(hours=71)
    await h.restart()
    await h.app.run_sweeps()  # type: ignore[union-attr]
    async with h.app.storage.session() as s:  # type: ignore[union-attr]
        states = [x.state for x in (await s.execute(select(Submission).order_by(Submission.id))).scalars()]
    assert states == ["expired", "deleted"]
    actions = [a.action for a in await h.app.storage.audit_entries()]  # type: ignore[union-attr]
    assert actions.count("submission.retention_delete") == 2


async def test_replayed_upload_is_stored_once(harness: Harness) -> None:
    h = harness
    await h.transport.receive(Harness.PARTNER, "", attachments=csv_file(BENEFICIARIES), event_id="$upload-1")
    await h.restart()
    await h.transport.receive(Harness.PARTNER, "", attachments=csv_file(BENEFICIARIES), event_id="$upload-1")
    assert h.app is not None
    async with h.app.storage.session() as s:
        assert len(list((await s.execute(select(Submission))).scalars())) == 1


@pytest.mark.parametrize(
    ("who", "command", "allowed_text"),
    [
        (Harness.PARTNER, "!label S-0001 highly_confidential", "accepted"),
        (Harness.PARTNER2, "!withdraw S-0001", "withdrawn"),
        (Harness.OTHER_ORG_PARTNER, "!withdraw S-0001", None),
        (Harness.IMO, "!withdraw S-0001", None),
        (Harness.COORDINATOR, "!label S-0001 highly_confidential", None),
        (Harness.ADMIN, "!pseudonymize S-0001", None),
        (Harness.OTHER_ORG_PARTNER, "!delete S-0001", None),
        (Harness.IMO, "!get S-0001", None),
        (Harness.OTHER_ORG_PARTNER, "!correct S-0001", None),
    ],
)
async def test_role_matrix_on_held_submission(
    harness: Harness, who: str, command: str, allowed_text: str | None
) -> None:
    h = harness
    await submit(h)
    replies = "\n".join(await h.say(who, command))
    if allowed_text:
        assert allowed_text in replies
    else:
        assert "can't find" in replies or "cannot use" in replies
        assert h.app is not None
        assert (await h.app.storage.audit_entries())[-1].outcome == "denied"


def encrypted_xlsx(password: str) -> bytes:
    import io

    import openpyxl
    from msoffcrypto.format.ooxml import OOXMLFile

    wb = openpyxl.Workbook()
    for row in BENEFICIARIES.decode().splitlines():
        wb.active.append(row.split(","))
    plain, enc = io.BytesIO(), io.BytesIO()
    wb.save(plain)
    OOXMLFile(io.BytesIO(plain.getvalue())).encrypt(password, enc)
    return enc.getvalue()


async def test_password_protected_file_screened_with_password_never_stored(harness: Harness, tmp_path: Path) -> None:
    h = harness
    data = encrypted_xlsx("Pw-7431-xyz")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    replies = await h.say(Harness.PARTNER, "", attachments=(Attachment("list.xlsx", xlsx, data),))
    assert "password-protected" in replies[0] and "!password S-0001" in replies[0]
    assert "did not open" in (await h.say(Harness.PARTNER, "!password S-0001 wrong-one", event_id="$pw1"))[0]
    replies = await h.say(Harness.PARTNER, "!password S-0001 Pw-7431-xyz", event_id="$pw2")
    assert "S-0001 is held" in replies[0] and "phone number" in replies[0]
    dm = await h.transport.direct_chat(Harness.PARTNER)
    assert (dm, "$pw1") in h.transport.deleted and (dm, "$pw2") in h.transport.deleted  # removed from the chat
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert b"Pw-7431-xyz" not in f.read_bytes()  # never stored anywhere
    assert "accepted" in (await h.say(Harness.PARTNER, "!label S-0001 highly_confidential"))[0]


TOWNSHIP_LIST = (
    b"Name,Phone,Township,Township Pcode,Household size\n"
    b"Daw Hla Hla Win,09791234567,Sittwe,MMR012001,5\n"
    b"U Kyaw Min,09450012345,Sittwe,MMR012001,3\n"
    b"Ma Thida,09420123456,Pauktaw,MMR012002,4\n"
)


async def test_pseudonymize_then_accept_the_copy(harness: Harness) -> None:
    h = harness
    await submit(h, TOWNSHIP_LIST)
    replies = await h.transport.receive(Harness.PARTNER, "!pseudonymize S-0001")
    files = [r.file for r in replies if r.file is not None]
    assert len(files) == 1
    copy = files[0].data
    assert b"Daw Hla" not in copy and b"09791234567" not in copy and b"Sittwe" in copy
    text = "\n".join(r.text for r in replies if r.file is None)
    assert "The copy screens as clear. Send !accept S-0001" in text
    accepted = (await h.say(Harness.PARTNER, "!accept S-0001"))[0]
    assert "accepted (pseudonymised copy) as public" in accepted and "original was destroyed" in accepted
    assert h.app is not None
    async with h.app.storage.session() as s:
        states = [
            v.state for v in (await s.execute(select(SubmissionVersion).order_by(SubmissionVersion.version))).scalars()
        ]
    assert states == ["shredded", "active"]
    got = await h.transport.receive(Harness.IMO, "!get S-0001", chat_id=Harness.IMO_ROOM)
    assert [r.file.data for r in got if r.file] == [copy]


async def test_pseudonymized_copy_that_still_needs_a_label_cannot_be_accepted(harness: Harness) -> None:
    h = harness
    await submit(h)  # village names: the pseudonymised copy keeps village-level locations
    replies = await h.transport.receive(Harness.PARTNER, "!pseudonymize S-0001")
    text = "\n".join(r.text for r in replies if r.file is None)
    assert "The copy still needs the level confidential" in text
    assert "still needs the level confidential" in (await h.say(Harness.PARTNER, "!accept S-0001"))[0]
    assert "accepted as highly_confidential" in (await h.say(Harness.PARTNER, "!label S-0001 highly_confidential"))[0]


async def test_large_file_gets_a_receipt_before_screening(harness: Harness) -> None:
    big = b"State,Township,People\n" + b"Rakhine,Sittwe,5400\n" * 60_000  # ~1.2 MB, aggregated
    replies = await submit(harness, big, name="totals.csv")
    assert replies[0].startswith("Received 1.") and "screening" in replies[0]
    assert "S-0001 accepted" in replies[1]


# ---------------------------------------------------------------------- issue 13 wording


async def test_get_on_a_held_file_says_what_held_means(harness: Harness) -> None:
    h = harness
    await submit(h)
    replies = await h.transport.receive(Harness.PARTNER, "!get S-0001")
    assert [r.file.data for r in replies if r.file] == [BENEFICIARIES]
    text = "\n".join(r.text for r in replies if r.file is None)
    assert "level held" not in text
    assert "S-0001 version 1: held, not accepted yet" in text
    assert "needs at least highly_confidential" in text and "only your organisation can see it" in text
    assert "!label S-0001 LEVEL" in text
    await h.say(Harness.PARTNER, "!label S-0001 highly_confidential")
    replies = await h.transport.receive(Harness.PARTNER, "!get S-0001")
    assert "S-0001 version 1, level highly_confidential." in [r.text for r in replies if r.file is None]


async def test_refused_label_is_audited_as_denied(harness: Harness) -> None:
    h = harness
    await submit(h)
    assert "not enough" in (await h.say(Harness.PARTNER, "!label S-0001 confidential"))[0]
    assert "Say which level" in (await h.say(Harness.PARTNER, "!label S-0001"))[0]
    assert "accepted as" in (await h.say(Harness.PARTNER, "!label S-0001 highly_confidential"))[0]
    assert "not enough" in (await h.say(Harness.PARTNER, "!label S-0001 public"))[0]
    assert "can't find" in (await h.say(Harness.OTHER_ORG_PARTNER, "!label S-0001 highly_confidential"))[0]
    assert h.app is not None
    audit = [(a.actor_role, a.outcome) for a in await h.app.storage.audit_entries() if a.action == "submission.label"]
    # each refusal "denied" (it was "allowed" before: the access check passed, the label did not)
    assert audit == [
        ("partner", "denied"),
        ("partner", "denied"),
        ("partner", "done"),
        ("partner", "denied"),
        ("partner", "denied"),
    ]


async def test_pseudonymized_xlsx_comes_back_as_xlsx(harness: Harness) -> None:
    import io

    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (
        ["Name", "Phone", "Township", "Households"],
        ["Daw Hla Hla Win", "09791234567", "Sittwe", 5],
        ["U Kyaw Min", "09450012345", "Sittwe", 3],
        ["Ma Thida", "09420123456", "Pauktaw", 4],
    ):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    xl = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    h = harness
    await h.say(Harness.PARTNER, "", attachments=(Attachment("list.xlsx", xl, buf.getvalue()),))
    replies = await h.transport.receive(Harness.PARTNER, "!pseudonymize S-0001")
    (copy,) = [r.file for r in replies if r.file is not None]
    assert copy.filename == "list_pseudonymised.xlsx" and copy.mimetype == xl and copy.data[:4] == b"PK\x03\x04"
    rows = [list(r) for r in openpyxl.load_workbook(io.BytesIO(copy.data)).active.iter_rows(values_only=True)]
    assert rows[0] == ["Township", "Households"] and ["Sittwe", 5] in rows
