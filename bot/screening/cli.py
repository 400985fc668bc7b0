"""`clusterbot screen` and `clusterbot pseudonymize`.

register(subparsers) adds both subcommands to the main CLI; `python -m bot.screening.cli`
runs them standalone.  Exit status of screen: 0 when no file is unlabelled_sensitive, 1 when
at least one is, 2 on a usage error."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tomllib
from pathlib import Path
from typing import Any

from .areas import SensitiveAreas
from .engine import is_regular_or_dir, screen_path
from .levels import LEVELS
from .model import Limits, Verdict
from .sanitize import clean_text

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
    sp = subparsers.add_parser("screen", help="find unlabelled sensitive data in files",
                               description="Decide the sensitivity level each file requires and whether "
                                           "it is sensitive data left unlabelled.")
    sp.add_argument("--json", action="store_true", help="one JSON object per line, one per file")
    sp.add_argument("--label", type=_level, default=None, metavar="LEVEL",
                    help="the label the submitter gave: " + ", ".join(LEVELS))
    sp.add_argument("--sensitive-areas", type=Path, default=None, metavar="FILE",
                    help="one area a line (name in any script, or P-code); '#' starts a comment")
    sp.add_argument("--password", default=None, metavar="PW", help="password for protected files")
    sp.add_argument("--config", type=Path, default=None, metavar="FILE", help="clusterbot config (TOML)")
    sp.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    sp.set_defaults(func=run_screen)

    pp = subparsers.add_parser("pseudonymize", aliases=["pseudonymise"],
                               help="write a pseudonymised copy of a file and screen the result")
    pp.add_argument("input", type=Path, metavar="IN")
    pp.add_argument("output", type=Path, metavar="OUT")
    pp.add_argument("--key-file", type=Path, default=None, metavar="F",
                    help="secret key for stable pseudonyms (without it a one-off random key is used)")
    pp.add_argument("--sensitive-areas", type=Path, default=None, metavar="FILE")
    pp.add_argument("--config", type=Path, default=None, metavar="FILE")
    pp.add_argument("--json", action="store_true")
    pp.set_defaults(func=run_pseudonymize)


def _areas_from_config(config: Path | None) -> Path | None:
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
        for key in ("sensitive_areas", "sensitive_areas_file", "sensitive_areas_path"):
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
            out.append(f"    - re-identification risk: k={v.risk.get('k_min')}, global risk "
                       f"{v.risk.get('global_risk', 0):.1%} (threshold {v.risk.get('threshold', 0.03):.0%}) over "
                       + ", ".join(v.risk.get("quasi_identifiers", [])))
        if v.error:
            out.append(clean_text(f"    ! {v.error}"))
    return "\n".join(out)


def run_screen(args: argparse.Namespace, default_sensitive_areas: Path | None = None) -> int:
    try:
        areas = _load_areas(args, default_sensitive_areas)
    except UsageError as exc:
        print(f"clusterbot screen: error: {exc}", file=sys.stderr)
        return 2
    verdicts: list[Verdict] = []
    refused = False
    for p in args.paths:
        if not is_regular_or_dir(str(p)):
            refused = True  # a FIFO, device or socket: refused at once, never opened
        v = screen_path(p, label=args.label, sensitive_areas=areas, password=args.password, limits=CLI_LIMITS)
        verdicts.append(v)
        if args.json:
            print(json.dumps(v.to_json(), ensure_ascii=False), flush=True)
    if not args.json:
        print(_table(verdicts))
    if refused:
        print("clusterbot screen: error: not a regular file (FIFO, device or socket): "
              + ", ".join(clean_text(str(p)) for p in args.paths if not is_regular_or_dir(str(p))),
              file=sys.stderr)
        return 2
    return 1 if any(v.verdict == "unlabelled_sensitive" for v in verdicts) else 0


def run_pseudonymize(args: argparse.Namespace, default_sensitive_areas: Path | None = None) -> int:
    from .pseudonymise import pseudonymize_bytes

    try:
        areas = _load_areas(args, default_sensitive_areas)
    except UsageError as exc:
        print(f"clusterbot pseudonymize: error: {exc}", file=sys.stderr)
        return 2
    if args.key_file is not None:
        try:
            key = args.key_file.read_bytes().strip()
        except OSError:
            print(f"clusterbot pseudonymize: error: cannot read key file {args.key_file}", file=sys.stderr)
            return 2
        if len(key) < 16:
            print("clusterbot pseudonymize: error: the key file must hold at least 16 bytes", file=sys.stderr)
            return 2
    elif os.environ.get("CLUSTERBOT_PSEUDONYM_KEY"):
        key = os.environ["CLUSTERBOT_PSEUDONYM_KEY"].encode()
    else:
        key = secrets.token_bytes(32)
        print("note: no --key-file given; a one-off random key was used, so pseudonyms will not match "
              "other runs", file=sys.stderr)
    try:
        data = args.input.read_bytes()
    except OSError:
        print(f"clusterbot pseudonymize: error: cannot read {args.input}", file=sys.stderr)
        return 2
    out, new_name, verdict = pseudonymize_bytes(data, args.input.name, key, sensitive_areas=areas)
    if not out:
        print(f"clusterbot pseudonymize: cannot pseudonymise: {verdict.error}", file=sys.stderr)
        return 1
    target = args.output
    if target.is_dir():
        target = target / new_name
    target.write_bytes(out)
    verdict = Verdict(str(target), verdict.verdict, verdict.required_level, verdict.label, verdict.categories,
                      verdict.findings, verdict.risk, verdict.error)
    if args.json:
        print(json.dumps(verdict.to_json(), ensure_ascii=False))
    else:
        print(f"wrote {target}; screening of the output:")
        print(_table([verdict]))
    return 1 if verdict.verdict == "unlabelled_sensitive" else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clusterbot")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
