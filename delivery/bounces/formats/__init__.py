"""Readers of the non-standard bounce formats of particular MTAs and providers.

Each module has NAME and read(message, sections) -> Result | None; None means "not mine".
They are tried in READERS order before the RFC 3464 report (whose recipients some of them
garble), so each must recognise its own format by something specific (a sender, a subject, a
marker line) before reading it.
"""

from delivery.bounces.formats import (
    amazon,
    dragonfly,
    exim,
    google,
    microsoft,
    opensmtpd,
    postfix,
    qmail,
    sendmail,
    vendors,
)

READERS = [amazon, google, exim, qmail, dragonfly, opensmtpd, sendmail, postfix, microsoft,
           vendors]
