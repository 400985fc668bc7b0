"""Two reproduced consent bypasses in product broadcasts, and the rules that close them.

1. A delivery retry after the source's organisation revoked 'products' consent delivered the
   product anyway: consent and the level/audience rule are now checked before EVERY delivery
   attempt, and a refused attempt marks the delivery refused, tells the coordinators, is audited.
2. Only declared sources were checked: a copy of a partner's beneficiary list went to every
   partner as "Sources: none (consent checked)". A product whose content overlaps a stored
   submission must now declare it, and a product's level must fit its audience.
"""

from __future__ import annotations

import io

from sqlalchemy import select

from bot.events import Attachment
from storage.models import Delivery
from tests.conftest import Harness
from tests.handlers.test_submissions import AGGREGATE, BENEFICIARIES, submit

PRODUCT = (
    b"State,Township,Township Pcode,People reached\nRakhine,Sittwe,MMR012001,5400\nKachin,Myitkyina,MMR001001,2100\n"
)

#: AGGREGATE's two data rows (columns reordered, numbers reformatted) inside a bigger table
AGGREGATE_EXTENDED = (
    b"Township Pcode,State,Township,Budget USD,Households reached\n"
    b'MMR012001,Rakhine,Sittwe,"45,000",1200\n'
    b"MMR001001,Kachin,Myitkyina,30000.00,800\n"
    b"MMR012002,Rakhine,Ponnagyun,12000,310\n"
    b"MMR012003,Rakhine,Mrauk-U,18000,420\n"
    b"MMR001002,Kachin,Waingmaw,9000,150\n"
)


async def coord(h: Harness, text: str) -> list[str]:
    return await h.say(Harness.COORDINATOR, text, chat_id=Harness.COORD_ROOM)


async def upload(
    h: Harness, data: bytes = PRODUCT, name: str = "township_summary.csv", mimetype: str = "text/csv", caption: str = ""
) -> list[str]:
    return await h.say(
        Harness.COORDINATOR, caption, chat_id=Harness.COORD_ROOM, attachments=(Attachment(name, mimetype, data),)
    )


async def files_to(h: Harness, user: str) -> list[bytes]:
    dm = await h.transport.direct_chat(user)
    return [r.file.data for r in h.transport.sent if r.chat_id == dm and r.file]


async def deliveries(h: Harness) -> list[Delivery]:
    assert h.app is not None
    async with h.app.storage.session() as s:
        return list((await s.execute(select(Delivery).order_by(Delivery.id))).scalars())


def xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------- bypass 1: retries


async def test_retry_after_revocation_is_refused_reported_and_audited(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    await upload(h)
    assert "Ready to broadcast P-0001" in (await coord(h, '!broadcast org:"Relief Org" sources S-0001'))[0]
    h.transport.fail_sends = 1  # the first recipient's delivery fails and stays pending
    await coord(h, "!confirm")
    assert "1 delivered, 1 pending, 0 failed" in h.transport.texts(Harness.COORD_ROOM)[-1]
    pending = [d for d in await deliveries(h) if d.state == "pending"]
    assert len(pending) == 1
    assert h.app is not None
    waiting = await h.app.directory.by_id(pending[0].user_id)
    assert waiting is not None and waiting.matrix_id is not None
    assert await files_to(h, waiting.matrix_id) == []

    await h.say(Harness.PARTNER, "!consent S-0001 products no")  # revoked while one delivery is pending
    h.clock.advance(minutes=6)
    await h.app.run_sweeps()

    assert await files_to(h, waiting.matrix_id) == []  # the retry did NOT deliver
    row = next(d for d in await deliveries(h) if d.id == pending[0].id)
    assert row.state == "refused" and "S-0001" in (row.last_error or "")
    room = "\n".join(h.transport.texts(Harness.COORD_ROOM)[-2:])
    assert "refused" in room and "S-0001" in room and "products" in room
    assert "1 refused" in h.transport.texts(Harness.COORD_ROOM)[-1]
    denied = [a for a in await h.app.storage.audit_entries() if a.action == "product.deliver" and a.outcome == "denied"]
    assert [a.object_id for a in denied] == ["P-0001"]
    # refused is final: later sweeps try nothing more and say nothing more
    said = len(h.transport.texts(Harness.COORD_ROOM))
    h.clock.advance(hours=6)
    await h.app.run_sweeps()
    assert await files_to(h, waiting.matrix_id) == []
    assert len(h.transport.texts(Harness.COORD_ROOM)) == said
    assert next(d for d in await deliveries(h) if d.id == pending[0].id).attempts == row.attempts


async def test_retry_rechecks_the_audience_rule(harness: Harness) -> None:
    """A confidential product to a named list: the list changes while a delivery is pending."""
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org
    await submit(h, AGGREGATE, name="summary.csv", sender=Harness.OTHER_ORG_PARTNER)  # S-0002, Water Org
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    await h.say(Harness.OTHER_ORG_PARTNER, "!consent S-0002 products yes")
    await coord(h, "!audience create contributors")
    await coord(h, "!audience add contributors Relief Org")
    await coord(h, "!audience add contributors Water Org")
    await upload(h)
    ready = (await coord(h, "!broadcast list:contributors sources S-0001,S-0002 level confidential"))[0]
    assert "Ready to broadcast P-0001 (confidential)" in ready
    h.transport.fail_sends = 1
    await coord(h, "!confirm")
    pending = [d for d in await deliveries(h) if d.state == "pending"]
    assert len(pending) == 1
    assert h.app is not None
    waiting = await h.app.directory.by_id(pending[0].user_id)
    assert waiting is not None and waiting.matrix_id is not None and waiting.org_name is not None
    await coord(h, f"!audience remove contributors {waiting.org_name}")
    h.clock.advance(minutes=6)
    await h.app.run_sweeps()
    assert await files_to(h, waiting.matrix_id) == []
    row = next(d for d in await deliveries(h) if d.id == pending[0].id)
    assert row.state == "refused" and "audience" in (row.last_error or "")


# ---------------------------------------------------------------------------- bypass 2: undeclared copies


async def test_undeclared_copy_of_a_beneficiary_list_is_refused(harness: Harness) -> None:
    """The issue's reproduction: a copy of a partner's list, `!broadcast all level highly_confidential`."""
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org's beneficiary list
    assert "P-0001 received" in (await upload(h, BENEFICIARIES, name="copy.csv"))[0]
    refused = (await coord(h, "!broadcast all level highly_confidential"))[0]
    assert refused.startswith("Refused")
    assert "S-0001" in refused and "sources S-0001" in refused  # names what to declare
    assert "highly_confidential" in refused and "all" in refused  # and the level does not fit 'all'
    assert "no broadcast waiting" in (await coord(h, "!confirm"))[0]
    for p in (Harness.PARTNER, Harness.PARTNER2, Harness.OTHER_ORG_PARTNER):
        assert await files_to(h, p) == []
    assert not any("consent checked" in t for t in h.transport.texts(Harness.COORD_ROOM))


async def test_partial_reordered_copy_must_declare_its_source(harness: Harness) -> None:
    h = harness
    await submit(h, AGGREGATE, name="summary.csv", sender=Harness.OTHER_ORG_PARTNER)  # S-0001, Water Org, public
    await upload(h, AGGREGATE_EXTENDED, name="townships.csv")
    refused = (await coord(h, "!broadcast all"))[0]
    assert refused.startswith("Refused") and "S-0001" in refused and "2 of its 5 data rows" in refused
    # declaring it is not enough without the organisation's consent
    await upload(h, AGGREGATE_EXTENDED, name="townships.csv")
    refused = (await coord(h, "!broadcast all sources S-0001"))[0]
    assert refused.startswith("Refused") and "'products'" in refused
    await h.say(Harness.OTHER_ORG_PARTNER, "!consent S-0001 products yes")
    await upload(h, AGGREGATE_EXTENDED, name="townships.csv")
    ready = (await coord(h, "!broadcast all sources S-0001"))[0]
    assert "Ready to broadcast P-0003" in ready and "S-0001" in ready


async def test_copy_converted_to_xlsx_without_the_phone_column_is_found(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org
    copy = xlsx(
        [
            ["Beneficiaries (extract)"],
            ["Village", "Name", "Household size"],
            ["Kyauk Taw", "Daw Hla Hla Win", 5],
            ["Ah Lel", "U Kyaw Min", 3],
            ["Nyaung Pin", "Ma Thida", 4],
        ]
    )
    xl = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    await upload(h, copy, name="extract.xlsx", mimetype=xl)
    refused = (await coord(h, '!broadcast org:"Water Org" level highly_confidential'))[0]
    assert refused.startswith("Refused") and "S-0001" in refused and "3 of its 3 data rows" in refused


async def test_summary_no_longer_claims_consent_checked_for_nothing(harness: Harness) -> None:
    h = harness
    await submit(h, AGGREGATE, name="summary.csv", sender=Harness.OTHER_ORG_PARTNER)  # unrelated content
    await upload(h)
    ready = (await coord(h, "!broadcast all"))[0]
    assert "Ready to broadcast P-0001" in ready
    assert "consent checked" not in ready and "none declared" in ready and "1 stored submission" in ready


# ---------------------------------------------------------------------------- level vs audience


async def test_level_must_fit_the_audience(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    cases = [
        ("!broadcast all sources S-0001 level confidential", "confidential"),
        ('!broadcast org:"Water Org" sources S-0001 level highly_confidential', "highly_confidential"),
        ("!broadcast sector:wash level restricted", "restricted"),
        ("!broadcast all level restricted", "restricted"),
        ('!broadcast org:"Relief Org" level confidential', "confidential"),  # no source: no organisation fits
    ]
    for command, level in cases:
        await upload(h)
        refused = (await coord(h, command))[0]
        assert refused.startswith("Refused"), command
        assert f"level {level}" in refused, command
        assert "no broadcast waiting" in (await coord(h, "!confirm"))[0]
    # a label inside the file counts too: a file marked CONFIDENTIAL is not broadcast to everyone
    await upload(h, b"CONFIDENTIAL\n" + PRODUCT)
    refused = (await coord(h, "!broadcast all"))[0]
    assert refused.startswith("Refused") and "level confidential" in refused
    for p in (Harness.PARTNER, Harness.PARTNER2, Harness.OTHER_ORG_PARTNER):
        assert await files_to(h, p) == []


async def test_scheduled_broadcast_rechecks_the_level_rule(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    await coord(h, "!audience create relief")
    await coord(h, "!audience add relief Relief Org")
    await upload(h)
    assert (
        "Ready" in (await coord(h, "!broadcast list:relief at 2026-01-01 10:00 sources S-0001 level confidential"))[0]
    )
    assert "scheduled" in (await coord(h, "!confirm"))[0]
    await coord(h, "!audience add relief Water Org")  # the list now reaches beyond the source organisation
    h.clock.advance(hours=3)
    assert h.app is not None
    await h.app.run_sweeps()
    assert "NOT sent" in h.transport.texts(Harness.COORD_ROOM)[-1]
    for p in (Harness.PARTNER, Harness.PARTNER2, Harness.OTHER_ORG_PARTNER):
        assert await files_to(h, p) == []


# ---------------------------------------------------------------------------- the positive case


async def test_declared_consented_fitting_level_is_delivered(harness: Harness) -> None:
    h = harness
    await submit(h, text="highly_confidential")  # S-0001, Relief Org
    await h.say(Harness.PARTNER, "!consent S-0001 products yes")
    await upload(h, BENEFICIARIES, name="relief_followup.csv")  # the partner's own list, back to them
    ready = (await coord(h, '!broadcast org:"Relief Org" sources S-0001 level highly_confidential'))[0]
    assert "Ready to broadcast P-0001 (highly_confidential)" in ready
    assert "S-0001 (consent to 'products' checked)" in ready
    await coord(h, "!confirm")
    assert "2 delivered, 0 pending, 0 failed" in h.transport.texts(Harness.COORD_ROOM)[-1]
    for p in (Harness.PARTNER, Harness.PARTNER2):
        assert await files_to(h, p) == [BENEFICIARIES]
    assert await files_to(h, Harness.OTHER_ORG_PARTNER) == []


# ---------------------------------------------------------------------------- fingerprints (no database)


def test_fingerprints_hold_no_content_and_match_reformatted_rows() -> None:
    from storage.products import fingerprint, overlap

    key = b"k" * 32
    source = fingerprint(BENEFICIARIES, "list.csv", key, index=True)
    assert source.data_rows == 3
    flat = repr(source).encode()
    assert b"Daw" not in flat and b"0979" not in flat
    # tabs, case, spacing, column order: still the same rows
    tsv = (
        b"village\thousehold size\tphone\tname\n"
        b"KYAUK TAW\t5\t09791234567\tdaw hla  hla win\n"
        b"Ah Lel\t3.0\t09450012345\tU Kyaw Min\n"
    )
    assert overlap(fingerprint(tsv, "x.tsv", key), source) == 2
    # an identical file in any format matches as a whole
    pdfish = b"%PDF-1.7 \x00\x01 binary"
    assert overlap(fingerprint(pdfish, "a.pdf", key), fingerprint(pdfish, "b.pdf", key, index=True)) >= 1
    # unrelated aggregates sharing place names do not match
    assert overlap(fingerprint(PRODUCT, "p.csv", key), fingerprint(AGGREGATE, "a.csv", key, index=True)) == 0


def _docx_with_table(rows: list[list[str]]) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    cell = "<w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc>"
    table = "".join("<w:tr>" + "".join(cell.format(c) for c in r) + "</w:tr>" for r in rows)
    doc = (
        f'<w:document xmlns:w="{w}"><w:body><w:p><w:r><w:t>Distribution follow-up, March</w:t></w:r></w:p>'
        f"<w:tbl>{table}</w:tbl></w:body></w:document>"
    )
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", doc)
    return buf.getvalue()


def test_copies_inside_docx_tables_and_zip_archives_are_found() -> None:
    import zipfile

    from storage.products import fingerprint, overlap, substantial

    key = b"k" * 32
    source = fingerprint(BENEFICIARIES, "list.csv", key, index=True)
    docx = _docx_with_table(
        [
            ["Name", "Village", "Household size"],
            ["Daw Hla Hla Win", "Kyauk Taw", "5"],
            ["U Kyaw Min", "Ah Lel", "3"],
        ]
    )
    fp = fingerprint(docx, "report.docx", key)
    assert fp.data_rows == 3 and overlap(fp, source) == 2 and substantial(2, fp.data_rows)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("readme.txt", "Shared by the coordinators")
        z.writestr("data/list.csv", BENEFICIARIES)
    assert overlap(fingerprint(buf.getvalue(), "bundle.zip", key), source) == 3


def test_delivery_errors_never_store_room_ids() -> None:
    from bot.transport import TransportError
    from handlers.broadcasts import delivery_error

    for exc in (
        TransportError("refusing to post to !dm-zaw:example.org: the private chat gained other members"),
        TransportError("matrix: send to !abc:example.org failed: M_FORBIDDEN"),
        RuntimeError("room !x:example.org"),
    ):
        assert "!" not in delivery_error(exc) and "example.org" not in delivery_error(exc)
