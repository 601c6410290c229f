"""Readers of the non-standard bounce formats of particular MTAs and providers.

Each module has NAME and read(message, sections) -> Result | None; None means "not mine".
Each must recognise its own format by something specific (a sender, a subject, a marker
line) before reading it; plaintext, last, reads any mail system's failure notice by the
recipients it names.
"""

from delivery.bounces.formats import (
    amazon,
    dragonfly,
    exim,
    google,
    microsoft,
    opensmtpd,
    plaintext,
    postfix,
    qmail,
    sendmail,
    vendors,
)

# Formats whose own text says more than the delivery-status part they may also carry.
BEFORE_REPORT = [amazon, google, exim]
# Formats without a usable delivery-status part; plaintext, which reads any notice, comes last.
AFTER_REPORT = [qmail, dragonfly, opensmtpd, sendmail, postfix, microsoft, vendors, plaintext]
