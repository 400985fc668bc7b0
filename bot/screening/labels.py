"""Recognising the label a submitter gave: file name tokens, markings in the content,
Office sensitivity labels/properties, PDF metadata.  The highest label found wins."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .levels import level_from_words, max_level, parse_level

_SPLIT = re.compile(r"[\W_]+")  # -, _, space and . (and brackets etc.) separate
_MARKING = re.compile(
    r"(?i)\b(?:security\s+|data\s+|information\s+)?(?:classification|sensitivity|classified|label|marking)"
    r"\s*(?:level)?\s*[:=\-]\s*\W*\s*((?:highly|strictly)?[\s_\-]*confidential|restricted|public)"
)
#: handling caveats that often follow a marking on its line ("HIGHLY CONFIDENTIAL - DO NOT SHARE")
_CAVEAT = (
    r"(?:do not (?:share|distribute|forward|copy|circulate)(?: (?:further|outside [\w ]{1,30}))?"
    r"|not (?:to be shared|for (?:distribution|circulation|sharing|public(?:ation| release)?))(?: [\w ]{1,30})?"
    r"|(?:for )?(?:internal|cluster|official|partner|partners'?|authori[sz]ed|restricted)(?: use| distribution)?"
    r"(?: only)?(?: [\w ]{1,30})?"
    r"|for (?:internal|cluster|official|authori[sz]ed|partner|partners'?|[\w ]{1,20}) (?:use|distribution)(?: only)?"
    r"|need[\s\-]to[\s\-]know(?: basis)?(?: only)?|when filled(?: in)?|once filled(?: in)?)"
)
_ONLY_LEVEL = re.compile(
    r"(?i)^[\W_]*((?:highly|strictly)[\s_\-]*confidential|confidential|restricted|public)"
    r"(?:[\W_]*(?:data|information|document|file))?"
    r"(?:[\s\-:;,/|(\[\u2013\u2014]+" + _CAVEAT + r")?[\W_]*$"
)


def label_from_filename(name: str) -> str | None:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    words = [w.lower() for w in _SPLIT.split(base) if w]
    return level_from_words(words)


def label_from_line(line: str) -> str | None:
    """`Classification: X`, `Sensitivity: X`, or the level words alone on a line."""
    if not line or len(line) > 2000:
        return None
    best: str | None = None
    for m in _MARKING.finditer(line):
        best = max_level(best, parse_level(m.group(1)))
    stripped = line.strip().strip('"').strip(",;\t|").strip().strip('"').strip()
    m2 = _ONLY_LEVEL.match(stripped)
    if m2:
        best = max_level(best, parse_level(m2.group(1)))
    return best


_HF_PARTS = re.compile(r"\t|\||\s{3,}|\s[\u2013\u2014\-]\s")


def label_from_hf_line(line: str) -> str | None:
    """A header/footer line: its left/centre/right parts (tabs, '|', wide gaps) are separate
    lines, so 'Highly Confidential<TAB>Page 1' or 'Page 1 of 3 | Strictly Confidential' count."""
    best = label_from_line(line)
    if best is None and line and len(line) <= 2000:
        for part in _HF_PARTS.split(line):
            best = max_level(best, label_from_line(part))
    return best


def label_from_title_rows(rows: list[list[str]], hdr_idx: int, hxl_idx: int | None = None) -> str | None:
    """A table's label sits in the title rows above its header, never in a data cell: a cell
    "Public" in a Public/Private column must not label the file, and a cell "Confidential"
    must not let an unlabelled file through.  With no header row there are no title rows."""
    top = (
        min(hdr_idx, hxl_idx) if hxl_idx is not None and hdr_idx >= 0 else (hxl_idx if hxl_idx is not None else hdr_idx)
    )
    if max((sum(1 for c in r if c and c.strip()) for r in rows[:50]), default=0) <= 1:
        # not a table but lines of text (a cover sheet): its first lines are title lines
        return label_from_lines([c.strip() for r in rows[:10] for c in r if c and c.strip()])
    joined = [" ".join(c.strip() for c in r if c and c.strip()) for r in rows[: max(top, 0) + 1][:11]]
    best = label_from_lines(joined[: max(top, 0)])
    if top >= 0 and top < len(joined):  # "Classification: Confidential" written as a two-cell row
        for m in _MARKING.finditer(joined[top]):
            best = max_level(best, parse_level(m.group(1)))
    return best


def label_from_lines(lines: list[str]) -> str | None:
    best: str | None = None
    for ln in lines:
        best = max_level(best, label_from_line(ln))
    return best


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def label_from_custom_xml(data: bytes) -> str | None:
    """docProps/custom.xml: MSIP_Label_<guid>_Name, or a property named Classification/Sensitivity."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    best: str | None = None
    enabled: dict[str, bool] = {}
    names: dict[str, str] = {}
    for prop in root:
        pname = prop.get("name") or ""
        value = "".join(prop.itertext()).strip()
        low = pname.lower()
        m = re.match(r"(?i)msip_label_([0-9a-f\-]+)_(name|enabled)$", pname)
        if m:
            if m.group(2).lower() == "name":
                names[m.group(1)] = value
            else:
                enabled[m.group(1)] = value.lower() in ("true", "1")
            continue
        if any(k in low for k in ("classification", "sensitivity", "confidentiality", "security")):
            best = max_level(best, parse_level(value))
    for guid, name in names.items():
        if enabled.get(guid, True):
            best = max_level(best, parse_level(name))
    return best


def label_from_labelinfo_xml(data: bytes, known_names: dict[str, str] | None = None) -> str | None:
    """docMetadata/LabelInfo.xml holds label GUIDs (and sometimes names)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    best: str | None = None
    for el in root.iter():
        if _local(el.tag) != "label" or el.get("removed") == "1":
            continue
        for attr in ("name", "labelName"):
            best = max_level(best, parse_level(el.get(attr)))
        gid = (el.get("id") or "").strip("{}").lower()
        if known_names and gid in known_names:
            best = max_level(best, parse_level(known_names[gid]))
    return best


def label_from_core_xml(data: bytes) -> str | None:
    """docProps/core.xml: keywords, category (and subject/contentStatus) naming a level."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    best: str | None = None
    for el in root:
        if _local(el.tag) in ("keywords", "category", "subject", "contentStatus"):
            best = max_level(best, parse_level("".join(el.itertext())))
    return best
