"""RFC 3834 automatic replies (vacation and out-of-office notices): not bounces.

Bounces themselves carry "Auto-Submitted: auto-replied" too, so these signs are only asked
once no reader found a failed delivery in the message.
"""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import addresses, mime
from delivery.bounces.reasons import Reason
from delivery.bounces.report import Finding

# Headers that auto-responders set (RFC 3834 section 5; Exchange, Zimbra, cPanel, Yahoo...).
MARKER_HEADERS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-Autoresponder",
    "X-AutoReply-From",
    "X-Mail-Autoreply",
    "X-Auto-Response-Suppress",
    "X-Vacation",
)
PRECEDENCE = re.compile(r"^auto[_-]?reply$", re.I)
SUBJECT = re.compile(
    r"""^\s*(?:
        auto(?:matic)?[ -]?(?:reply|response|answer|antwort)
      | autoreply | auto: | out\ of\ (?:the\ )?office | away\b | on\ vacation | vacation
      | abwesenheit | r[ée]ponse\ automatique | absence | respuesta\ autom[áa]tica
      | risposta\ automatica | fuori\ sede | automatisch\w*\ antwo?ord?
      | resposta\ autom[áa]tica | автоответ | автоматический\ ответ | 자동\ ?응답
      | 自動返信 | 自動応答 | 自动回复 | 不在
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def detect(message: Message) -> bool:
    """Whether a message says it was sent automatically in reply to another one."""
    if any(addresses.is_daemon(a) for a in addresses.from_header(mime.header(message, "From"))):
        return False  # a bounce no reader understood, not a person's auto-reply
    auto_submitted = mime.header(message, "Auto-Submitted").lower()
    if auto_submitted.startswith("auto-replied"):
        return True
    if any(message.get(h) is not None for h in MARKER_HEADERS):
        return True
    if PRECEDENCE.match(mime.header(message, "Precedence").strip()):
        return True
    return bool(SUBJECT.match(mime.header(message, "Subject")))


def replier(message: Message) -> list[Finding]:
    """The recipient who is away: the author of the auto-reply."""
    sender = addresses.from_header(mime.header(message, "From"))
    return [Finding(address=a, action="replied", reason=Reason.VACATION) for a in sender[:1]]
