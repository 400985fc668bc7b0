"""One public-id formatter/parser (storage/ids.py) and one yes/no (handlers/common.py)."""

from __future__ import annotations

import pytest

from handlers.common import yes_no
from storage import ids


def test_public_ids_format_and_parse() -> None:
    assert ids.sub_id(42) == "S-0042" and ids.ticket_id(7) == "Q-0007" and ids.join_id(12345) == "J-12345"
    assert ids.product_id(3) == "P-0003" and ids.incident_id(5) == "I-0005"
    for text in ("S-0042", "s-42", " 42 "):
        assert ids.parse_public_id(ids.SUBMISSION, text) == 42
    for bad in ("Q-0042", "S-", "S-0", "S-12a", "-3", "", "S-" + "9" * 10):
        assert ids.parse_public_id(ids.SUBMISSION, bad) is None, bad


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("yes", True),
        ("Y", True),
        ("Yes.", True),
        ("ok", True),
        ("\u101f\u102f\u1010\u103a\u1000\u1032\u1037", True),
        ("no", False),
        ("N!", False),
        ("nope", False),
        ("\u1019\u101f\u102f\u1010\u103a", False),
        ("maybe", None),
        ("", None),
        ("yes please do it", None),
    ],
)
def test_yes_no(text: str, answer: bool | None) -> None:
    assert yes_no(text) is answer


def test_a_question_may_accept_more_words() -> None:
    assert yes_no("send", yes={"send"}) is True and yes_no("send") is None
    assert yes_no("revoke", no={"revoke"}) is False
