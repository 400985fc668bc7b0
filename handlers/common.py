"""Small helpers shared by the workflow modules (no transport imports here)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from bot.screening.levels import rank

if TYPE_CHECKING:
    from bot.app import Application

MB = 1024 * 1024

_LEVEL_ALIASES = {
    "public": "public",
    "restricted": "restricted",
    "confidential": "confidential",
    "highly_confidential": "highly_confidential",
    "highly-confidential": "highly_confidential",
    "highlyconfidential": "highly_confidential",
    "strictly_confidential": "highly_confidential",
    "hc": "highly_confidential",
}


level_rank = rank  # order of a level, -1 for none: bot/screening/levels.py is the one source

#: the answers a yes/no question takes (English and Burmese), one set for every workflow
YES_WORDS = frozenset(
    {
        "yes",
        "y",
        "yeah",
        "yep",
        "true",
        "ok",
        "okay",
        "agree",
        "\u101f\u102f\u1010\u103a",
        "\u101f\u102f\u1010\u103a\u1000\u1032\u1037",
    }
)  # ဟုတ် ဟုတ်ကဲ့
NO_WORDS = frozenset({"no", "n", "nope", "false", "\u1019\u101f\u102f\u1010\u103a"})  # မဟုတ်


def yes_no(
    text: str,
    *,
    yes: frozenset[str] | set[str] = frozenset(),
    no: frozenset[str] | set[str] = frozenset(),
) -> bool | None:
    """True for a yes, False for a no, None for anything else; `yes` / `no` add the words one
    question also accepts ("send", "confirm", "approve" ...)."""
    word = text.strip().lower().rstrip(".!")
    if word in YES_WORDS or word in yes:
        return True
    if word in NO_WORDS or word in no:
        return False
    return None


def parse_level_word(word: str) -> str | None:
    return _LEVEL_ALIASES.get(word.strip().lower())


def level_in_text(text: str) -> str | None:
    """A label given in the same message as a file: the highest level word present."""
    words = text.lower().replace(",", " ").replace(":", " ").split()
    found: str | None = None
    for i, w in enumerate(words):
        lvl = parse_level_word(w)
        if w in ("highly", "strictly") and i + 1 < len(words) and words[i + 1] == "confidential":
            lvl = "highly_confidential"
        if lvl is not None and level_rank(lvl) > level_rank(found):
            found = lvl
    return found


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < MB:
        return f"{n / 1024:.0f} KB"
    return f"{n / MB:.1f} MB"


def sensitive_areas(app: Application) -> Any:
    """Load the configured sensitive-areas list once per process."""
    if "sensitive_areas" not in app.state:
        from bot.screening import SensitiveAreas

        path = app.config.screening.sensitive_areas_file
        app.state["sensitive_areas"] = SensitiveAreas.from_file(path) if path and path.exists() else None
    return app.state["sensitive_areas"]


def screening_limits(app: Application) -> Any:
    from bot.screening import Limits

    sc = app.config.screening
    return Limits(
        max_depth=sc.max_archive_depth,
        max_members=sc.max_archive_members,
        max_total_uncompressed=sc.max_uncompressed_mb * MB,
        max_ratio=float(sc.max_compression_ratio),
        max_file_size=sc.max_file_mb * MB * 4,
    )


async def screen(app: Application, data: bytes, filename: str, label: str | None, password: str | None = None) -> Any:
    """Run the screening engine in the worker pool (never on the event loop)."""
    from bot.screening import screen_bytes

    return await app.run_in_worker(
        screen_bytes,
        data,
        filename,
        label=label,
        sensitive_areas=sensitive_areas(app),
        password=password,
        limits=screening_limits(app),
        gazetteer=str(gaz) if (gaz := app.config.screening.gazetteer_file) else None,
    )


def format_findings(findings: list[dict[str, Any]], limit: int = 8) -> str:
    lines = []
    for f in findings[:limit]:
        lines.append(f"• {f['category'].replace('_', ' ')} — {f['where']} ({f['count']}×, e.g. {f['example']})")
    if len(findings) > limit:
        lines.append(f"• … and {len(findings) - limit} more")
    return "\n".join(lines)


async def org_label(app: Application, org_id: int | None) -> str:
    """The organisation's name, or its pseudonym when the cluster is configured so."""
    if org_id is None:
        return "no organisation"
    org = await app.directory.org(org_id)
    if org is None:
        return "unknown organisation"
    return org.pseudonym if app.config.guidance.pseudonymous_orgs else org.name


def first_word(args: str) -> tuple[str, str]:
    head, _, rest = args.strip().partition(" ")
    return head, rest.strip()


def parse_when(text: str, now: Any) -> Any:
    """A time after ``at``: ``2026-12-01 09:00``, ``2026-12-01T09:00`` or ``09:00`` (next occurrence); UTC.

    Returns an aware datetime, or raises ValueError with a plain explanation.
    """
    from datetime import datetime, timedelta

    t = text.strip().replace("T", " ").removesuffix("UTC").removesuffix("Z").strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            when = datetime.strptime(t, fmt).replace(tzinfo=UTC)
            break
        except ValueError:
            continue
    else:
        try:
            hm = datetime.strptime(t, "%H:%M")
        except ValueError:
            raise ValueError("I could not read that time; use 2026-12-01 09:00 or 09:00 (UTC)") from None
        when = now.replace(hour=hm.hour, minute=hm.minute, second=0, microsecond=0)
        if when <= now:
            when += timedelta(days=1)
    if when <= now:
        raise ValueError("that time is in the past")
    return when
