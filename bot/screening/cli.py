"""`clusterbot screen` and `clusterbot pseudonymize`.

register(subparsers) adds both subcommands to the main CLI; `python -m bot.screening.cli`
runs them standalone.  Exit status of screen: 0 when no file is unlabelled_sensitive, 1 when
at least one is, 2 on a usage error, which includes a path that is missing, a folder, a FIFO,
a device, a socket or unreadable (that path still gets its JSON line, verdict "unreadable").
pseudonymize: 0 copy written and clear, 1 copy written but still sensitive (what is left is
listed) or the input cannot be pseudonymised, 2 usage error; see run_pseudonymize."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import stat
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .areas import SensitiveAreas
from .engine import screen_path
from .levels import LEVELS
from .model import Limits, Verdict
from .places import Gazetteer, GazetteerError
from .sanitize import clean_text

if TYPE_CHECKING:
    from .pseudonymise import Pseudonymised

#: the command streams from disk, so it can afford a larger single-file limit than chat uploads
CLI_LIMITS = Limits(max_file_size=4 << 30, max_seconds=3600.0)


def _level(value: str) -> str:
    v = value.strip().lower().replace("-", "_").replace(" ", "_")
    if v == "strictly_confidential":
        v = "highly_confidential"
    if v not in LEVELS:
        raise argparse.ArgumentTypeError(f"invalid level {value!r} (choose from {', '.join(LEVELS)})")
    return v


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_screen(subparsers)
    _register_pseudonymize(subparsers)


def _register_screen(subparsers: argparse._SubParsersAction) -> None:
    sp = subparsers.add_parser(
        "screen",
        help="find unlabelled sensitive data in files",
        description="Decide the sensitivity level each file requires and whether it is sensitive data left unlabelled.",
    )
    sp.add_argument("--json", action="store_true", help="one JSON object per line, one per file")
    sp.add_argument(
        "--label", type=_level, default=None, metavar="LEVEL", help="the label the submitter gave: " + ", ".join(LEVELS)
    )
    sp.add_argument(
        "--sensitive-areas",
        type=Path,
        default=None,
        metavar="FILE",
        help="one area a line (name in any script, or P-code); '#' starts a comment",
    )
    sp.add_argument(
        "--gazetteer",
        type=Path,
        default=None,
        metavar="FILE",
        help="village / village-tract list (e.g. the MIMU P-code list, CSV or XLSX): names from it "
        "found in text next to people are precise locations",
    )
    sp.add_argument("--password", default=None, metavar="PW", help="password for protected files")
    sp.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="clusterbot config (TOML): its [screening] sensitive_areas_file and gazetteer_file",
    )
    sp.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files to screen")
    sp.set_defaults(func=run_screen)


def _register_pseudonymize(subparsers: argparse._SubParsersAction) -> None:
    pp = subparsers.add_parser(
        "pseudonymize", aliases=["pseudonymise"], help="write a pseudonymised copy of a file and screen the result"
    )
    pp.add_argument("input", type=Path, metavar="IN", help="the file to pseudonymise (never changed)")
    pp.add_argument(
        "output",
        type=Path,
        metavar="OUT",
        help="the copy to write (same format as IN), or a folder to write it into under IN's name",
    )
    pp.add_argument(
        "--key-file",
        type=Path,
        default=None,
        metavar="F",
        help="secret key for stable pseudonyms (without it a one-off random key is used)",
    )
    pp.add_argument(
        "--sensitive-areas",
        type=Path,
        default=None,
        metavar="FILE",
        help="one area a line (name in any script, or P-code); '#' starts a comment",
    )
    pp.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="clusterbot config (TOML): its [screening] sensitive_areas_file",
    )
    pp.add_argument("--json", action="store_true", help="the screening of the copy as one JSON object")
    pp.set_defaults(func=run_pseudonymize)


def _areas_from_config(
    config: Path | None,
    keys: tuple[str, ...] = ("sensitive_areas", "sensitive_areas_file", "sensitive_areas_path"),
) -> Path | None:
    if config is None:
        return None
    try:
        with open(config, "rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        raise UsageError(f"cannot read config file {config}") from None
    for section in (data, data.get("screening", {}) or {}):
        if not isinstance(section, dict):
            continue
        for key in keys:
            val = section.get(key)
            if isinstance(val, str) and val:
                p = Path(val)
                return p if p.is_absolute() else config.parent / p
    return None


class UsageError(Exception):
    pass


def _load_areas(args: argparse.Namespace, default: Path | None) -> SensitiveAreas | None:
    path = args.sensitive_areas or _areas_from_config(getattr(args, "config", None)) or default
    if path is None:
        return None
    try:
        return SensitiveAreas.from_file(path)
    except OSError:
        raise UsageError(f"cannot read sensitive-areas file {path}") from None


def _load_gazetteer(args: argparse.Namespace) -> Gazetteer | None:
    path = getattr(args, "gazetteer", None) or _areas_from_config(getattr(args, "config", None), ("gazetteer_file",))
    if path is None:
        return None
    try:
        return Gazetteer.load(path)
    except GazetteerError as exc:
        raise UsageError(str(exc)) from None


def _table(verdicts: list[Verdict]) -> str:
    rows = [("PATH", "VERDICT", "REQUIRED", "LABEL", "CATEGORIES")]
    for v in verdicts:
        rows.append((v.path, v.verdict, v.required_level or "-", v.label or "-", ", ".join(v.categories) or "-"))
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(4)]
    out: list[str] = []
    for n, r in enumerate(rows):
        out.append("  ".join(clean_text(c)[:60].ljust(widths[i]) for i, c in enumerate(r[:4])) + "  " + r[4])
        if n == 0:
            continue
        v = verdicts[n - 1]
        for f in v.findings:
            out.append(clean_text(f"    - {f.category}: {f.where} ({f.count}x, e.g. {f.example})"))
        if v.risk:
            out.append(
                f"    - re-identification risk: k={v.risk.get('k_min')}, global risk "
                f"{v.risk.get('global_risk', 0):.1%} (threshold {v.risk.get('threshold', 0.03):.0%}) over "
                + ", ".join(v.risk.get("quasi_identifiers", []))
            )
        if v.error:
            out.append(clean_text(f"    ! {v.error}"))
    return "\n".join(out)


def _path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be screened at all (a usage error), or None for a readable regular file.

    Checked with stat, which never blocks (a FIFO or device is never opened)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "the file does not exist"
    except NotADirectoryError:
        return "the file does not exist (a parent is not a folder)"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return f"cannot access the file ({exc.strerror or type(exc).__name__})"
    if stat.S_ISDIR(mode):
        return "this is a folder, not a file (give the files inside it)"
    if not stat.S_ISREG(mode):
        return (
            "not a regular file, refused ("
            + (
                "a FIFO / named pipe"
                if stat.S_ISFIFO(mode)
                else "a device"
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket"
                if stat.S_ISSOCK(mode)
                else "not a file"
            )
            + ")"
        )
    if not os.access(path, os.R_OK):
        return "permission denied"
    return None


def run_screen(args: argparse.Namespace, default_sensitive_areas: Path | None = None) -> int:
    """Exit 0: no file is unlabelled_sensitive; 1: at least one is; 2: a usage error, which includes
    a path that is missing, a folder, a FIFO, a device, a socket or not readable (each still gets its
    verdict "unreadable" line, and one error line on stderr names it and the problem)."""
    try:
        areas = _load_areas(args, default_sensitive_areas)
        gazetteer = _load_gazetteer(args)
    except UsageError as exc:
        print(f"clusterbot screen: error: {exc}", file=sys.stderr)
        return 2
    verdicts: list[Verdict] = []
    problems: list[str] = []
    for p in args.paths:
        problem = _path_problem(p)
        if problem is not None:
            problems.append(f"{clean_text(str(p))}: {problem}")
            v = Verdict(clean_text(str(p)), "unreadable", None, args.label, error=problem)
        else:
            v = screen_path(
                p,
                label=args.label,
                sensitive_areas=areas,
                password=args.password,
                limits=CLI_LIMITS,
                gazetteer=gazetteer,
            )
        verdicts.append(v)
        if args.json:
            print(json.dumps(v.to_json(), ensure_ascii=False), flush=True)
    if not args.json:
        print(_table(verdicts))
    for line in problems:
        print(f"clusterbot screen: error: {line}", file=sys.stderr)
    if problems:
        return 2
    return 1 if any(v.verdict == "unlabelled_sensitive" for v in verdicts) else 0


def _write_atomically(target: Path, content: bytes) -> None:
    """Write to a temporary file beside ``target`` (0600), fsync, rename over it: a failure leaves
    no half-written file, and the copy is never readable by other users while it is written."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):
        pass
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run_pseudonymize(args: argparse.Namespace, default_sensitive_areas: Path | None = None) -> int:
    """Exit 0: the copy was written and screens without unlabelled sensitive data; 1: the copy was
    written but still holds what is listed (or the input cannot be pseudonymised: password
    protected, unsupported, damaged); 2: a usage error (missing input, missing output folder,
    OUT equal to IN, OUT in a format that cannot hold the input, bad key file). One line on
    stderr, never a traceback; nothing is written unless the whole copy is."""

    def fail(msg: str, code: int = 2) -> int:
        print(f"clusterbot pseudonymize: error: {clean_text(msg)}", file=sys.stderr)
        return code

    try:
        return _pseudonymize_cmd(args, default_sensitive_areas, fail)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one line for the operator, never a traceback
        return fail(f"unexpected error ({type(exc).__name__}); nothing was written", 1)


def _pseudonymize_cmd(args: argparse.Namespace, default_sensitive_areas: Path | None, fail: Any) -> int:
    from .pseudonymise import CannotPseudonymise, FormatMismatch, pseudonymise

    try:
        areas = _load_areas(args, default_sensitive_areas)
    except UsageError as exc:
        return fail(str(exc))
    src: Path = args.input
    problem = _path_problem(src)
    if problem is not None:
        return fail(f"cannot read {src}: {problem}")
    target: Path = args.output
    try:
        out_format = _output_format(src, target)
        key = _pseudonym_key(args)
    except UsageError as exc:
        return fail(str(exc))
    random_key = not key
    key = key or secrets.token_bytes(32)
    try:
        data = src.read_bytes()
    except OSError as exc:
        return fail(f"cannot read {src} ({exc.strerror or type(exc).__name__})")
    try:
        res = pseudonymise(data, src.name, key, out_format=out_format, sensitive_areas=areas)
    except FormatMismatch as exc:
        return fail(f"{src.name}: {exc}")
    except CannotPseudonymise as exc:
        return fail(f"cannot pseudonymise {src.name}: {exc}; nothing was written", 1)
    if target.is_dir():
        target = target / res.name
        if _same_file(target, src):
            return fail(f"the copy would overwrite the input ({target}); give an output file name")
    try:
        _write_atomically(target, res.content)
    except OSError as exc:
        return fail(f"cannot write {target} ({exc.strerror or type(exc).__name__}); nothing was written")
    if random_key:
        print(
            "note: no --key-file given; a one-off random key was used, so pseudonyms will not match other runs",
            file=sys.stderr,
        )
    return _report_copy(args, target, res)


def _output_format(src: Path, target: Path) -> str | None:
    """The format OUT asks for by its suffix (None: a folder, or no suffix: IN's own format);
    raises UsageError when OUT cannot be written."""
    from .pseudonymise import FORMATS, format_for_name

    out_format: str | None = None
    if not target.is_dir():  # a folder: the copy goes inside it under its own name
        folder = target.parent
        if not folder.is_dir():
            raise UsageError(
                f"the output folder {folder} does not exist"
                if not folder.exists()
                else f"the output folder {folder} is not a folder"
            )
        if _same_file(target, src):
            raise UsageError(
                f"OUT is the same file as IN ({src}); give another output name, the input is never overwritten"
            )
        if target.suffix:
            out_format = format_for_name(target.name)
            if out_format is None:
                raise UsageError(
                    f"cannot write a {target.suffix} file; OUT must end in one of "
                    + ", ".join(sorted({f[1] for f in FORMATS.values()}))
                )
    return out_format


def _pseudonym_key(args: argparse.Namespace) -> bytes:
    """The key from --key-file or $CLUSTERBOT_PSEUDONYM_KEY; b"" for none (a one-off random key)."""
    if args.key_file is not None:
        try:
            key: bytes = args.key_file.read_bytes().strip()
        except OSError:
            raise UsageError(f"cannot read key file {args.key_file}") from None
        if len(key) < 16:
            raise UsageError("the key file must hold at least 16 bytes")
        return key
    if os.environ.get("CLUSTERBOT_PSEUDONYM_KEY"):
        return os.environ["CLUSTERBOT_PSEUDONYM_KEY"].encode()
    return b""  # a one-off random key, said once the copy is written


def _report_copy(args: argparse.Namespace, target: Path, res: Pseudonymised) -> int:
    """Print the screening of the written copy; the exit status (1: still sensitive)."""
    from .pseudonymise import FORMATS

    v = res.verdict
    verdict = Verdict(str(target), v.verdict, v.required_level, v.label, v.categories, v.findings, v.risk, v.error)
    if args.json:
        print(json.dumps(verdict.to_json(), ensure_ascii=False))
    else:
        removed = f" ({res.removed_lines} identifying line(s) removed)" if res.removed_lines else ""
        print(f"wrote {target} ({FORMATS[res.format][1][1:].upper()}){removed}; screening of the output:")
        print(_table([verdict]))
        if verdict.verdict == "unlabelled_sensitive":
            print(
                "The copy still holds the data listed above, which could not be removed automatically: "
                "edit it, or label it with the level shown."
            )
    return 1 if verdict.verdict == "unlabelled_sensitive" else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clusterbot")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
