"""The operator's gazetteer (`[screening] gazetteer_file`) through the engine: village names
found in prose next to people become precise locations; without the gazetteer they do not."""

from __future__ import annotations

from pathlib import Path

from bot.screening import screen_bytes
from bot.screening.places import Gazetteer

ROWS = [
    ("MMR012001501", "Thit Seint Gyi", "150123", "Thit Seint Gyi"),
    ("MMR012001502", "Kan Nyin Taw", "150124", "Shwe Hlay Kone"),
    ("MMR012001503", "Nga Pyaw Kyun", "150125", "Zee Pin Chaung"),
]
TEXT = b"Case 14: the family of a girl in Shwe Hlay Kone received cash after the fire.\n"


def _gazetteer(tmp_path: Path) -> Gazetteer:
    path = tmp_path / "mimu.csv"
    lines = ["VT_Pcode,Village_Tract,Village_Pcode,Village"] + [",".join(r) for r in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Gazetteer.load(path)


def test_a_gazetteer_village_in_prose_next_to_people_is_precise(tmp_path: Path) -> None:
    gaz = _gazetteer(tmp_path)
    assert screen_bytes(TEXT, "notes.txt").verdict == "clear"
    v = screen_bytes(TEXT, "notes.txt", gazetteer=gaz)
    assert "precise_location" in v.categories, v.to_json()
    assert not any("Shwe Hlay" in f.example for f in v.findings)


def test_a_gazetteer_alone_does_not_make_lists_of_places_sensitive(tmp_path: Path) -> None:
    gaz = _gazetteer(tmp_path)
    v = screen_bytes(
        b"Villages covered by the assessment: Shwe Hlay Kone, Zee Pin Chaung.\n", "scope.txt", gazetteer=gaz
    )
    assert v.verdict == "clear", v.to_json()


def test_workers_are_given_the_path(tmp_path: Path) -> None:
    _gazetteer(tmp_path)
    v = screen_bytes(TEXT, "notes.txt", gazetteer=str(tmp_path / "mimu.csv"))
    assert "precise_location" in v.categories
    # a file gone since start leaves screening without it, never a failed submission
    v = screen_bytes(TEXT, "notes.txt", gazetteer=str(tmp_path / "gone.csv"))
    assert v.verdict == "clear"


def test_screen_command_takes_the_gazetteer_and_refuses_a_bad_one(tmp_path: Path, capsys) -> None:
    from bot.screening.cli import main

    _gazetteer(tmp_path)
    note = tmp_path / "notes.txt"
    note.write_bytes(TEXT)
    assert main(["screen", str(note)]) == 0
    assert main(["screen", "--gazetteer", str(tmp_path / "mimu.csv"), str(note)]) == 1
    capsys.readouterr()
    assert main(["screen", "--gazetteer", str(tmp_path / "none.csv"), str(note)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(tmp_path / "none.csv") in err[0]
