"""Domain names: their DNS (A-label) form and their registrable domain.

The registrable domain comes from the Public Suffix List bundled with the `publicsuffixlist`
package (a snapshot shipped in each release; nothing is fetched at run time). Both the ICANN
and the private sections count, so a host under a private suffix such as `dyndns.org`
belongs to its own owner rather than to the suffix's operator.
"""

from __future__ import annotations

import re
from functools import cache

import idna
from publicsuffixlist import PublicSuffixList

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class InvalidDomainError(ValueError):
    """The text is not a domain name that DNS can be asked about."""


def a_label(domain: str) -> str:
    """`domain` in the ASCII form DNS is asked in, lower-cased, without a trailing dot.

    Internationalised names are converted with IDNA 2008 and the UTS #46 mapping
    ("Bücher.example" -> "xn--bcher-kva.example"). ASCII names only need RFC 5321's letters,
    digits and hyphens: IDNA's stricter rules (no "--" in the third and fourth position)
    would refuse names that exist.
    """
    name = domain.strip().rstrip(".")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidDomainError(f"{domain!r} is not a valid domain name: {exc}") from exc
    name = name.lower()
    # RFC 5321 §4.1.2 sub-domain syntax; this also refuses "[192.0.2.1]" address literals.
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise InvalidDomainError(f"{domain!r} is not a valid domain name.")
    return name


def registrable_domain(name: str) -> str:
    """The public suffix of `name` plus one label ("mx1.mail.qq.com" -> "qq.com").

    A name that is itself a public suffix, or has a single label, is its own answer.
    """
    name = name.lower().rstrip(".")
    return _public_suffix_list().privatesuffix(name) or name


@cache
def _public_suffix_list() -> PublicSuffixList:
    return PublicSuffixList()
