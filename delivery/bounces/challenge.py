"""Challenge-response messages: a recipient's anti-spam service holding our message until the
sender proves to be a person or asks for a place on the recipient's whitelist (TMDA, Boxbe,
SpamArrest, Mailblocks, ISPs' "spam blockers").

They are automatic replies, never bounces: the address is alive and the message only waits.
They look like bounces (a robot's From, "has not been delivered", the original attached), so
they are asked for before any text-format reader, though after the delivery-status part: a
report that names a failed recipient is a bounce whatever its prose says.
"""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import mime
from delivery.bounces.formats.common import failed_recipients
from delivery.bounces.mime import Sections

# What only a challenge asks of the sender: to prove being human, to verify or confirm its
# address, to ask to be whitelisted, or to release the held message.
CHALLENGE = re.compile(
    r"""
    (?:verify|prove|confirm)\ (?:that\ )?you(?:'re|\ are)\ (?:a\ )?
        (?:human|real\ person|person|not\ a\ (?:robot|spammer|machine|computer))
  | (?:are\ you|if\ you\ are)\ (?:a\ )?(?:human|real\ person)\b
  | challenge[-\ /]response
  | (?:add|put|place)\ (?:you|yourself|your\ (?:e-?mail\ )?address)\ (?:to|on|in)\ (?:my|the|his
        |her|their)\ (?:guest\ list|approved\ senders?|allowed\ senders?|safe\ senders?
        |white\ ?list|allow\ ?list|list\ of\ approved)
  | (?:request|ask)\ to\ be\ (?:added|put)\ (?:to|on)\ (?:my|the|his|her|their)\ (?:guest\ list
        |approved|white\ ?list|allow\ ?list|list\ of\ approved)
  | (?:only\ )?(?:accept|allow|receive)s?\ (?:incoming\ )?(?:e-?mail|mail|messages)\ (?:only\ )?
        from\ (?:senders\ (?:i|who)\ (?:have|'ve)|approved)
  | (?:message|e-?mail)\ (?:is|has\ been|will\ be)\ (?:being\ )?held\ (?:until|pending|because)
        [^.]{0,80}\b(?:verif|confirm|approv|whitelist|guest\ list)
  | to\ release\ your\ (?:original\ )?(?:message|e-?mail)
  | complete\ the\ (?:verification|confirmation)\ process
  | protect(?:ing)?\ (?:myself|me)\ from\ (?:receiving\ )?(?:junk|spam|unsolicited)
  | (?:click|follow|visit|open)\b[^.]{0,60}\b(?:verify|confirm)\ (?:that\ )?
        (?:you\b|your\ (?:e-?mail|address|message|identity))
  | \bguest\ ?list\b
  | your\ (?:e-?mail\ )?address\ (?:has\ not|hasn't)\ (?:yet\ )?been\ (?:verified|confirmed)
  | \b(?:boxbe|spam\ ?arrest|mailblocks|tmda|choicemail)\b[^.]{0,120}
        \b(?:verif|confirm|guest\ list|approv|whitelist)
    """,
    re.IGNORECASE | re.VERBOSE,
)


def detect(message: Message, parts: Sections) -> bool:
    """Whether a message is a challenge to its sender rather than a report of a failure."""
    if parts.reports or failed_recipients(message):
        return False
    text = " ".join(f"{mime.header(message, 'Subject')}\n{parts.notice}".split())
    return bool(CHALLENGE.search(text))
