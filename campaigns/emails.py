"""Email address syntax check and normalization: email-validator's rules, no DNS.

email-validator costs ~80 µs an address, which alone would cap an import near 12,000 rows/s.
Almost every address in a contact file is plain ASCII (`john.smith@example.com`), and for
those the outcome of email-validator is known without calling it: accepted, with the domain
lower-cased. `normalize_email` takes that fast path only for addresses that certainly pass
unchanged except for the domain's case, and asks email-validator about everything else
(IDN domains, quoted local parts, special-use domains, RFC 2142 mailbox names, errors).
`tests/campaigns/test_emails.py` checks that both paths agree on thousands of addresses.

Providers ignore the case of the local part (Gmail, QQ, 163 and Sina deliver `USER7@Sina.com`
and `user7@sina.com` to one mailbox), so contacts and suppressions compare addresses by
`email_key`: the normalized address with its local part lower-cased by `str.lower()`. Not
`casefold()`: it maps `ß` to `ss` and ligatures to letters, merging mailboxes that SMTPUTF8
providers keep apart; `lower()` is what listmonk (Go's `strings.ToLower`) does too. The key is
made here, in Python, and nowhere in SQL: SQLite's `lower()` and PostgreSQL's under "C" only
change ASCII letters, and one spelling of the rule keeps imports and lookups in agreement.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(
    rf"(?P<local>[{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{1,63}})"
)
_SPECIAL_TLDS = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_MAILBOX_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
_MAX_LENGTH = 254


class InvalidEmailError(ValueError):
    """The text is not a usable email address; the message says why, for a person."""


class Address(NamedTuple):
    email: str  # normalized: local part as written, domain lower-cased (Unicode for IDN)
    domain: str

    @property
    def key(self) -> str:
        """What two spellings of this address have in common (see the module docstring)."""
        return email_key(self.email)


def email_key(email: str) -> str:
    """The comparison key of a normalized address: its local part lower-cased."""
    local, _, domain = email.rpartition("@")
    return f"{local.lower()}@{domain}"


def normalize_email(text: str) -> Address:
    """The normalized address in `text` (surrounding spaces ignored), or InvalidEmailError."""
    text = text.strip()
    plain = _PLAIN.fullmatch(text) if len(text) <= _MAX_LENGTH else None
    if plain is not None:
        local, domain = plain.groups()
        lowered = _plain_domains.get(domain)
        if lowered is None:
            lowered = _plain_domain(domain)
        if lowered and local.lower() not in _MAILBOX_NAMES:
            return Address(f"{local}@{lowered}", lowered)
    if not text:
        raise InvalidEmailError("no email address")
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmailError(str(exc)) from None
    return Address(valid.normalized, valid.domain)


# Files hold many addresses at few domains: each domain's fast-path verdict is kept.
_plain_domains: dict[str, str] = {}


def _plain_domain(domain: str) -> str:
    """The domain lower-cased if the fast path may take it, else "" (ask email-validator)."""
    lowered = domain.lower()
    # "xn--" labels are IDNA and need checking; special-use names are refused.
    if "--" in lowered or lowered.rpartition(".")[2] in _SPECIAL_TLDS:
        lowered = ""
    if len(_plain_domains) > 100_000:
        _plain_domains.clear()
    _plain_domains[domain] = lowered
    return lowered


def normalize_domain(text: str) -> str:
    """A domain lower-cased and in Unicode, as in normalized addresses; or InvalidEmailError."""
    text = text.strip().lstrip("@").rstrip(".")
    if not text or "@" in text:
        raise InvalidEmailError("not a domain name")
    return normalize_email(f"postmaster@{text}").domain
