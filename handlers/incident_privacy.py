"""The anonymity machinery of incident reporting (handlers/incidents.py).

* ``ReceiptGuard``: wrong receipt codes are limited per sender and overall, in memory;
* ``AnonymousAudit``: audit entries about anonymous acts are written after the hour they
  happened in, sorted, so neither their time nor their place in the chain sits next to
  the reporter's own entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from storage import ids
from storage.incidents import IncidentRepo, to_the_hour

if TYPE_CHECKING:
    from bot.app import Application

# ---------------------------------------------------------------------------- receipt guessing

RECEIPT_TRIES_PER_SENDER = 5  # wrong receipt codes a sender may try an hour
RECEIPT_TRIES_OVERALL = 50  # wrong receipt codes everybody together may try an hour
RECEIPT_ALERT_AFTER = 10  # the coordinators are told from this many an hour (or a sender at the limit)
RECEIPT_WINDOW = timedelta(hours=1)


class ReceiptGuard:
    """Wrong receipt codes in the last hour, per sender and overall, in memory only.

    A try is counted *before* its slow hash runs (so concurrent guesses cannot overtake the
    limit) and forgiven when the code was right. Over a limit, a code is not checked at all.
    Nothing here is stored or logged; a restart starts the counts afresh.
    """

    def __init__(self) -> None:
        self.by_sender: dict[str, list[datetime]] = {}
        self.overall: list[datetime] = []

    def _trim(self, now: datetime) -> None:
        cutoff = now - RECEIPT_WINDOW
        self.overall = [t for t in self.overall if t > cutoff]
        for sender in list(self.by_sender):
            kept = [t for t in self.by_sender[sender] if t > cutoff]
            if kept:
                self.by_sender[sender] = kept
            else:
                del self.by_sender[sender]

    def refusal(self, sender: str, now: datetime) -> str | None:
        """'sender' or 'overall' when this try must not be checked; None when it may."""
        self._trim(now)
        if len(self.by_sender.get(sender, ())) >= RECEIPT_TRIES_PER_SENDER:
            return "sender"
        if len(self.overall) >= RECEIPT_TRIES_OVERALL:
            return "overall"
        return None

    def attempt(self, sender: str, now: datetime) -> datetime:
        self.by_sender.setdefault(sender, []).append(now)
        self.overall.append(now)
        return now

    def forgive(self, sender: str, token: datetime) -> None:
        """The code was right: the try does not count."""
        for tries in (self.by_sender.get(sender), self.overall):
            if tries is not None and token in tries:
                tries.remove(token)
        if not self.by_sender.get(sender, True):
            del self.by_sender[sender]

    def worrying(self) -> bool:
        return len(self.overall) >= RECEIPT_ALERT_AFTER or any(
            len(t) >= RECEIPT_TRIES_PER_SENDER for t in self.by_sender.values()
        )


# ---------------------------------------------------------------------------- deferred audit entries


@dataclass(frozen=True, order=True)
class _Deferred:
    hour: datetime
    action: str
    object_id: str
    outcome: str
    actor_role: str


class AnonymousAudit:
    """Audit entries about anonymous acts, written after the hour they happened in.

    Written at once, an anonymous entry sits in the chain right next to the reporter's
    identity-bearing entries (e.g. the Matrix invitation of the direct chat), with a time
    to the millisecond. Instead the sweep writes, once the hour has ended, all of that
    hour's anonymous entries together, sorted by what they are (not by when): their time
    and their place in the chain then say only "in that hour".

    The report itself and what a reporter adds are derived from the incident tables (so a
    crash or restart loses none of them: whatever has no entry yet gets one); the reads and
    refusals of ``!status`` are held in memory until then (a restart loses those of the
    running hour).
    """

    def __init__(self, app: Application, repo: IncidentRepo) -> None:
        self.app = app
        self.repo = repo
        self.pending: list[_Deferred] = []
        self._derived_for: datetime | None = None  # the hour whose predecessors were checked

    def later(self, actor_role: str, action: str, object_id: str | None, outcome: str) -> None:
        self.pending.append(_Deferred(to_the_hour(self.app.clock.now()), action, object_id or "", outcome, actor_role))

    async def _derived(self, this_hour: datetime) -> list[_Deferred]:
        due: list[_Deferred] = []
        reported = await self.repo.audited("incident.report")
        for inc_id, when in await self.repo.anonymous_reports():
            case = f"{ids.incident_id(inc_id)}"
            if to_the_hour(when) < this_hour and case not in reported:
                due.append(_Deferred(to_the_hour(when), "incident.report", case, "done", "anonymous"))
        added = await self.repo.audited("incident.add_info")
        for inc_id, hours in (await self.repo.additions()).items():
            case = f"{ids.incident_id(inc_id)}"
            ended = [to_the_hour(h) for h in hours if to_the_hour(h) < this_hour]
            missing = len(ended) - added.get(case, 0)
            for hour in ended[len(ended) - missing :] if missing > 0 else []:
                due.append(_Deferred(hour, "incident.add_info", case, "done", "reporter"))
        return due

    async def flush(self, _app: Application | None = None) -> None:
        this_hour = to_the_hour(self.app.clock.now())
        due = [d for d in self.pending if d.hour < this_hour]
        if self._derived_for != this_hour:
            due += await self._derived(this_hour)
        for entry in sorted(due):
            await self.app.storage.audit(
                "anonymous", entry.actor_role, entry.action, entry.object_id or None, entry.outcome
            )
            if entry in self.pending:
                self.pending.remove(entry)
        self._derived_for = this_hour
