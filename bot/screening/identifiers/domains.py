"""Reserved and placeholder e-mail domains (never a person's mailbox)."""

from __future__ import annotations

_RESERVED_TLDS = ("test", "example", "invalid", "localhost")  # RFC 2606 / RFC 6761
_RESERVED_SLD = frozenset({"example.com", "example.net", "example.org", "example.edu"})
#: placeholder domains of templates and documentation; GitHub's no-reply addresses
NON_PERSONAL_DOMAINS = frozenset(
    {
        "domain.com",
        "domain.tld",
        "yourdomain.com",
        "your-domain.com",
        "yourcompany.com",
        "mydomain.com",
        "company.com",
        "email.test",
        "sample.com",
        "test.com",
        "acme.com",
        "users.noreply.github.com",
        "noreply.github.com",
        "xxx.com",
        "abc.com",
    }
)


def reserved_domain(domain: str) -> bool:
    """True for domains that never hold a person's mailbox: RFC 2606 / RFC 6761 reserved names
    (example.com/.net/.org and their subdomains, any ``example.<tld>``, ``*.test``, ``*.example``,
    ``*.invalid``, ``*.localhost``) and template placeholders.  ``*.local`` is *not* reserved
    (internal directory addresses are people's)."""
    d = (domain or "").strip().lower().rstrip(".")
    if "@" in d:
        d = d.rsplit("@", 1)[1]
    if not d:
        return False
    labels = d.split(".")
    if labels[-1] in _RESERVED_TLDS:
        return True
    if any(d == s or d.endswith("." + s) for s in _RESERVED_SLD):
        return True
    if len(labels) >= 2 and labels[0] == "example":  # example.co.uk, example.gov.mm
        return True
    return d in NON_PERSONAL_DOMAINS or any(d.endswith("." + n) for n in NON_PERSONAL_DOMAINS)
