"""The incident reporting dialog: its questions, the answers it takes, and the pure helpers
that read a report (severity suggestion, times as shown). Used by ``handlers.incidents``.

Nothing here stores or sends anything; the dialog itself is registered by
``Incidents.dialog`` with the steps from ``report_steps()``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.conversation import END, InvalidAnswer, Step
from handlers.common import yes_no

if TYPE_CHECKING:
    from bot.router import Context


SKIP_WORDS = {"skip", "-", "no idea", "don't know", "dont know", "unknown", "n/a"}

# Plain messages that clearly describe an incident: offered a report, never started silently.
INCIDENT_HINT = re.compile(
    r"\b(leak(ed|ing)?|breach(ed)?|lost (my|the|a) (phone|laptop|usb|device|list)|stolen|hacked|"
    r"sent (it |the list |the file )?to the wrong|wrong (person|group|email)|exposed|disclos(ed|ure))\b",
    re.IGNORECASE,
)

STEPS_TEXT = {
    "what": "What happened? Describe it in your own words (this is the only question you must answer).",
    "when": "When did it happen, or when did you notice? (or 'skip')",
    "data": "What data was involved, and roughly how many people does it concern? (or 'skip')",
    "ongoing": "Is it still happening? (yes / no / skip)",
    "actions": "What has been done about it so far? (or 'skip')",
    "anonymous": (
        "Do you want to report anonymously? (yes / no)\n"
        "Anonymous: coordinators will not see who you are and the bot does not store it. "
        "You follow up with your receipt code."
    ),
    "contact": (
        "How do you want to hear back?\n"
        "• receipt — only when you check with !status and your receipt code\n"
        "• chat — coordinators' replies are also sent to you in this chat (not available anonymously)"
    ),
}


DRAFT_IN_MEMORY = (
    "I keep your draft only in my memory until you finish, not in my database, so nobody with access to the "
    "server can tell that you are writing a report. If I am restarted before you finish, the draft is lost "
    "and you need to start again."
)


def _optional(text: str) -> str | None:
    t = text.strip()
    return None if t.lower() in SKIP_WORDS or not t else t[:4000]


# A count of people is a number right before a word for people (up to two describing words
# in between: "240 GBV survivors", "300 displaced families"), or "hundreds/thousands of ...".
# Any other number (a year, a reference, a phone number) is not a count of people.
PEOPLE = (
    r"(?:people|persons?|individuals?|beneficiar(?:y|ies)|households?|famil(?:y|ies)|records?|"
    r"survivors?|child(?:ren)?|refugees?|idps?|names)"
)
_PEOPLE_COUNT = re.compile(
    r"(?<![\w.,/#+-])(\d{1,3}(?:[.,]\d{3}){1,3}|\d{1,9})\+?\s+((?:[a-z][a-z'-]*\s+){0,2})" + PEOPLE + r"\b"
)
_PEOPLE_MANY = re.compile(r"\b(hundreds|thousands)\s+of\s+(?:[a-z][a-z'-]*\s+){0,2}" + PEOPLE + r"\b")
# words that end a noun phrase: "in 2024 the people" is a year, not 2024 people
_NOT_DESCRIBING = frozenset(
    (
        "the",
        "a",
        "an",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "by",
        "to",
        "for",
        "from",
        "with",
        "about",
        "were",
        "was",
        "are",
        "is",
        "whose",
        "who",
        "that",
        "this",
        "these",
        "those",
        "our",
        "their",
        "its",
        "his",
        "her",
        "my",
        "your",
        "than",
        "since",
        "as",
        "per",
    )
)


def count_people(text: str) -> int:
    """The largest count of people mentioned in the (lower-case) text; 0 when none."""
    counts = [100 if m.group(1) == "hundreds" else 1000 for m in _PEOPLE_MANY.finditer(text)]
    for m in _PEOPLE_COUNT.finditer(text):
        if not _NOT_DESCRIBING.intersection(m.group(2).split()):
            counts.append(int(m.group(1).replace(",", "").replace(".", "")))
    return max(counts, default=0)


def suggest_severity(body: dict[str, Any]) -> str:
    """A starting point for coordinators, never a decision."""
    text = " ".join(str(v) for v in body.values() if v).lower()
    count = count_people(text)
    vulnerable = any(
        w in text for w in ("gbv", "survivor", "child", "children", "detainee", "disab", "protection", "biometric")
    )
    if (body.get("ongoing") == "yes" and (vulnerable or count >= 100)) or count >= 1000:
        return "CRITICAL"
    if vulnerable or count >= 100 or body.get("ongoing") == "yes":
        return "HIGH"
    if count > 0 or "list" in text or "phone" in text:
        return "MEDIUM"
    return "LOW"


def received(when: datetime, coarse: bool) -> str:
    """A stored time as shown to coordinators; a time kept to the hour shows as that hour."""
    if coarse:
        return f"{when:%Y-%m-%d %H}:00-{when + timedelta(hours=1):%H}:00 UTC"
    return f"{when:%Y-%m-%d %H:%M} UTC"


# ---------------------------------------------------------------------------- the reporting dialog


async def _answer_what(ctx: Context, text: str, data: dict[str, Any]) -> str:
    if len(text.strip()) < 3:
        raise InvalidAnswer("Please describe what happened, even briefly.")
    data["what"] = text.strip()[:8000]
    return "when"


def _answer_optional(key: str, nxt: str) -> Any:
    async def handler(ctx: Context, text: str, data: dict[str, Any]) -> str:
        data[key] = _optional(text)
        return nxt

    return handler


async def _answer_ongoing(ctx: Context, text: str, data: dict[str, Any]) -> str:
    t = text.strip().lower()
    answer = yes_no(t)
    if answer is True:
        data["ongoing"] = "yes"
    elif answer is False:
        data["ongoing"] = "no"
    elif t in SKIP_WORDS or t in ("not sure", "unsure", "maybe"):
        data["ongoing"] = "unknown"
    else:
        raise InvalidAnswer("Please answer yes, no or skip.")
    return "actions"


async def _answer_anonymous(ctx: Context, text: str, data: dict[str, Any]) -> str:
    answer = yes_no(text)
    if answer is None:
        raise InvalidAnswer("Please answer yes or no.")
    data["anonymous"] = answer
    if data["anonymous"]:
        data["contact"] = "receipt"
        return END
    return "contact"


async def _answer_contact(ctx: Context, text: str, data: dict[str, Any]) -> str:
    t = text.strip().lower()
    if t not in ("receipt", "chat"):
        raise InvalidAnswer("Please answer receipt or chat.")
    data["contact"] = t
    return END


def report_steps() -> dict[str, Step]:
    """The questions of the report dialog, in order; only "what" must be answered."""
    return {
        "what": Step(STEPS_TEXT["what"], _answer_what),
        "when": Step(STEPS_TEXT["when"], _answer_optional("when", "data")),
        "data": Step(STEPS_TEXT["data"], _answer_optional("data", "ongoing")),
        "ongoing": Step(STEPS_TEXT["ongoing"], _answer_ongoing),
        "actions": Step(STEPS_TEXT["actions"], _answer_optional("actions", "anonymous")),
        "anonymous": Step(STEPS_TEXT["anonymous"], _answer_anonymous),
        "contact": Step(STEPS_TEXT["contact"], _answer_contact),
    }
