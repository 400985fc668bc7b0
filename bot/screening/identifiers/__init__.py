"""Phones outside Myanmar, identity numbers other than the NRC, reserved e-mail domains and
real coordinate columns.

Pure and synchronous, like the rest of ``bot.screening``.  Two layers, as in ``patterns``:

* **RE2 trigger patterns** (``INTL_PHONE``, ``ID_TRIGGER``) over UTF-8 *bytes*, meant to be added
  to the bulk scanner's combined program.  They are selective on purpose: a numeric CSV full of
  long digit runs yields (almost) no candidates, so Python only runs on the rare hits.
* **Python validators** run on a candidate and a little context around it (``phonenumbers``,
  ``python-stdnum`` checksums, keyword windows).

Decisions (documented here because the integrator and reviewers need them):

* NANP numbers 555-0100 … 555-0199 are reserved for fiction (North American Numbering Plan
  Administrator); they are **not** reported.  Other 555 numbers (``+1 415 555 2671``) are valid,
  assignable numbers for ``phonenumbers`` and are reported.
* National (no ``+``/``00``) numbers of a region other than Myanmar are only accepted with a phone
  keyword just before them: a 10-digit Indian mobile or an 11-digit Chinese mobile is
  indistinguishable from a row id otherwise.  Myanmar *mobile* numbers need no keyword (the
  existing ``patterns.PHONE`` already finds them); Myanmar fixed lines do.
* A number introduced by a service-line word (hotline, helpline, toll-free, call centre, fax …)
  is an organisation's, not a person's.
* A ``household_id`` (or ``hh_id``) column is a survey's pseudonymous key (a UUID, ``HH-0012``),
  not an identity number: it only counts when its values carry a registration number format
  (UNHCR proGres or Cox's Bazar FCN/MOHA family numbers).  UUIDs never count as identity numbers.
* ``.local`` (mDNS, RFC 6762) is **not** treated as reserved: ``jdoe@agency.local`` is a real
  internal (Active Directory) address of a person.  RFC 2606 / RFC 6761 names are.
* UNHCR proGres numbers have no published checksum.  Formats accepted (keyword required):
  proGres v3/v4 individual and registration-group (case) ids ``XXX-YYC#####`` (3-character office
  code, 2-digit year, one letter, 5–8 digits, e.g. ``KKP-12C00123``), ``###-########`` (v4
  individual id, e.g. ``338-00012345``) and ``MMR-``/``BGD-``/``THA-``… country-prefixed ids with
  6–12 digits.  FCN/MOHA family numbers (Rohingya family counting exercise in Cox's Bazar): an
  optional short letter prefix then 5–12 digits, only after the FCN / 'MOHA no.' / family-counting
  keyword ('MoHA' alone is the Ministry of Home Affairs, not a number's label).

Layout: ``phones`` (international / national phone numbers), ``id_rules`` (the ``KEYWORD_IDS``
table and its validators), ``id_headers`` (identity column headers), ``id_numbers`` (identity
numbers in text and columns), ``domains`` (reserved e-mail domains), ``coordinates`` (coordinate
columns); this package re-exports their public names.
"""

from __future__ import annotations

from .common import DIG, MM_DIGITS, to_ascii_digits
from .coordinates import coordinate_pair_ok, looks_like_coordinate_column, parse_point
from .domains import NON_PERSONAL_DOMAINS, reserved_domain
from .id_headers import IDENTIFIER_HEADERS
from .id_numbers import (
    ID_TRIGGER,
    check_id_candidate,
    detect_identifier,
    find_identifiers,
    header_id_kind,
    valid_id_cell,
)
from .id_rules import KEYWORD_IDS, IdRule
from .phones import (
    INTL_PHONE,
    NATIONAL_REGIONS_DEFAULT,
    PHONE_KEYWORDS,
    SERVICE_LINE,
    check_intl_candidate,
    detect_intl_phone,
    find_phones,
    phone_context_re,
    valid_intl_phone,
    valid_phone_cell_any,
)

__all__ = [
    "MM_DIGITS",
    "DIG",
    "to_ascii_digits",
    "INTL_PHONE",
    "PHONE_KEYWORDS",
    "phone_context_re",
    "SERVICE_LINE",
    "valid_intl_phone",
    "check_intl_candidate",
    "detect_intl_phone",
    "NATIONAL_REGIONS_DEFAULT",
    "find_phones",
    "valid_phone_cell_any",
    "IdRule",
    "KEYWORD_IDS",
    "ID_TRIGGER",
    "find_identifiers",
    "check_id_candidate",
    "detect_identifier",
    "IDENTIFIER_HEADERS",
    "header_id_kind",
    "valid_id_cell",
    "NON_PERSONAL_DOMAINS",
    "reserved_domain",
    "parse_point",
    "looks_like_coordinate_column",
    "coordinate_pair_ok",
]
