"""The verdict model: plain frozen data, picklable, safe to hand across threads/processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERDICTS = ("clear", "labelled", "unlabelled_sensitive", "encrypted", "unreadable")


@dataclass(frozen=True)
class Limits:
    """Safety limits. Declared sizes in archives are checked *and* actual bytes are counted."""

    max_depth: int = 3  # nested archive depth
    max_members: int = 10_000
    max_total_uncompressed: int = 1 << 30  # 1 GiB over all archive members
    max_ratio: float = 100.0  # uncompressed / compressed per member
    max_file_size: int = 200 * 1024 * 1024  # a single file (or member) size
    sample_rows: int = 1000  # rows per table used to classify columns
    risk_rows: int = 20_000  # rows per table used for the k-anonymity estimate
    max_risk_combinations: int = 1_000_000
    max_pdf_pages: int = 2000
    max_seconds: float = 300.0  # wall-clock budget per file, checked between blocks/pages
    block_size: int = 2 * 1024 * 1024  # raw-scan block size
    max_findings: int = 60


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Finding:
    """One kind of sensitive content in one place. `example` is always masked."""

    category: str
    where: str
    count: int
    example: str

    def to_json(self) -> dict[str, Any]:
        return {"category": self.category, "where": self.where, "count": self.count, "example": self.example}


@dataclass(frozen=True)
class Verdict:
    path: str
    verdict: str
    required_level: str | None
    label: str | None
    categories: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    risk: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    error: str | None = None

    @property
    def filename(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def is_unlabelled_sensitive(self) -> bool:
        return self.verdict == "unlabelled_sensitive"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "verdict": self.verdict,
            "required_level": self.required_level,
            "label": self.label,
            "categories": list(self.categories),
            "findings": [f.to_json() for f in self.findings],
            "risk": dict(self.risk) if self.risk is not None else None,
            "error": self.error,
        }
