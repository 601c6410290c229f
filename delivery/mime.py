"""The pieces of an RFC 5322 / MIME message, encoded straight to bytes with CRLF line ends.

Every header value a user or a contact list supplies goes through `one_line()` first, so a
CR or LF in a subject, a name or an address can never start a header of its own. Non-ASCII
text is written as RFC 2047 encoded words (`email.header`), folded below 78 characters; bodies
are base64 in lines of 76 characters.
"""

from __future__ import annotations

import binascii
import functools
import re
import struct
from email.header import Header
from email.utils import formataddr

CRLF = b"\r\n"
# C0 controls, DEL, and the Unicode line breaks some software treats as newlines.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
# dot-atom@domain, the only address form we write (RFC 5322 §3.4.1, no quoted local parts).
_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
# Atoms (RFC 5322 §3.2.3 atext) one space apart: a phrase that needs no quoting.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_FOLD_AT = 76


class InvalidAddressError(ValueError):
    """An email address that cannot be written into a header (or smuggles another one in)."""


def one_line(value: str) -> str:
    """The value with every line break and control character turned into one space."""
    return _LINE_BREAKING.sub(" ", value).strip()


def address(value: str) -> str:
    """An address checked for header use, its domain in IDNA (A-label) form."""
    local_part, at, domain = value.strip().rpartition("@")
    if not at:
        raise InvalidAddressError(f"{value!r} is not an email address")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidAddressError(f"{value!r} has an invalid domain") from exc
    written = f"{local_part}@{domain}"
    if not _ADDRESS.fullmatch(written) or ".." in written:
        # Non-ASCII local parts need SMTPUTF8, which this builder does not speak.
        raise InvalidAddressError(f"{value!r} cannot be written as a plain address")
    return written


@functools.lru_cache(maxsize=4096)
def header_text(name: str, value: str) -> bytes:
    """An unstructured header value (Subject, List-Id's phrase…): encoded words when not ASCII."""
    value = one_line(value)
    if value.isascii() and "=?" not in value:
        if len(name) + len(": ") + len(value) <= 78:
            return value.encode("ascii")
        # Plain ASCII folds at its spaces; a word too long to fit in 998 octets is encoded.
        folded = Header(value, "us-ascii", maxlinelen=_FOLD_AT, header_name=name)
        text = folded.encode(linesep="\r\n")
        if max(len(line) for line in text.split("\r\n")) <= 998 - len(name) - len(": "):
            return text.encode("ascii")
    header = Header(value, "utf-8", maxlinelen=_FOLD_AT, header_name=name)
    return header.encode(linesep="\r\n").encode("ascii")


def phrase(name: str, header_name: str) -> bytes:
    """A phrase (RFC 5322 §3.2.5), e.g. List-Id's description (RFC 2919 §3): atoms as written,
    a quoted string when it holds specials such as `<`, encoded words when it is not ASCII.

    Written as unstructured text, "Spring <sale>" would make `<sale>` read as the list's id.
    """
    name = one_line(name)
    if name.isascii() and "=?" not in name:
        written = name
        if not _ATOMS.fullmatch(name):
            written = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if len(header_name) + len(": ") + len(written) <= 78:
            return written.encode("ascii")
        # Folding whitespace may sit between atoms and inside a quoted string (§3.2.4).
        folded = Header(written, "us-ascii", maxlinelen=_FOLD_AT, header_name=header_name)
        text = folded.encode(splitchars=" ", linesep="\r\n")
        if max(len(line) for line in text.split("\r\n")) <= 998 - len(header_name) - len(": "):
            return text.encode("ascii")
    # Encoded words are a phrase's words themselves (RFC 2047 §5(3)); Python's Q encoding
    # keeps to the characters allowed there.
    header = Header(name, "utf-8", maxlinelen=_FOLD_AT, header_name=header_name)
    return header.encode(linesep="\r\n").encode("ascii")


def mailbox(name: str, email: str, header_name: str = "To") -> bytes:
    """`Display Name <address>`, the name quoted or RFC 2047-encoded as it needs."""
    written = address(email)
    name = one_line(name)
    if not name:
        return written.encode("ascii")
    if name.isascii() and "=?" not in name:
        return formataddr((name, written)).encode("ascii")
    phrase = Header(name, "utf-8", maxlinelen=_FOLD_AT, header_name=header_name)
    return with_id(phrase.encode(linesep="\r\n").encode("ascii"), written, len(header_name))


def with_id(phrase: bytes, angle_addr: str, name_length: int) -> bytes:
    """`phrase <angle_addr>`, folded before the `<` when the line would pass 78 characters."""
    _, folded, last_line = phrase.rpartition(CRLF)
    used = len(last_line) + (0 if folded else name_length + len(": "))
    fits = used + len(" <") + len(angle_addr) + len(">") <= 78
    separator = b" " if fits else b"\r\n "
    return phrase + separator + b"<" + angle_addr.encode("ascii") + b">"


def base64_body(data: bytes) -> bytes:
    """Base64 in 76-character lines joined by CRLF (RFC 2045 §6.8), without a final CRLF."""
    encoded = binascii.b2a_base64(data, newline=False)
    full_lines, rest = divmod(len(encoded), _FOLD_AT)
    # struct cuts the lines in C: three times faster than slicing in a Python loop.
    lines = _lines_of(full_lines).unpack_from(encoded)
    if rest:
        lines += (encoded[full_lines * _FOLD_AT :],)
    return CRLF.join(lines)


@functools.lru_cache(maxsize=256)
def _lines_of(count: int) -> struct.Struct:
    return struct.Struct(f"{_FOLD_AT}s" * count)


def field(name: str, value: bytes) -> bytes:
    """One header field, ending in CRLF."""
    return name.encode("ascii") + b": " + value + CRLF
