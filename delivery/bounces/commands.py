"""Which SMTP command a remote server was answering, read from the words around its reply.

It matters: "user unknown" in answer to RCPT TO says the mailbox does not exist, while the same
words after DATA come from a content filter (RFC 5321 section 3.3 puts recipient checks at RCPT).
"""

from __future__ import annotations

import re

from delivery.bounces.report import Command

# Each MTA says it its own way; the first match in the text wins.
STAGES = [
    # Postfix: "(in reply to RCPT TO command)"
    re.compile(r"in reply to (?P<cmd>RCPT TO|MAIL FROM|end of DATA|DATA|HELO|EHLO)\b", re.I),
    # Exim: "SMTP error from remote mail server after RCPT TO:<...>"
    re.compile(
        r"\bafter (?P<cmd>RCPT TO|MAIL FROM|end of data|DATA|initial connection|HELO|EHLO|"
        r"RCPT|MAIL|pipelined \w+)\b",
        re.I,
    ),
    # Sendmail transcripts: ">>> RCPT To:<...>"
    re.compile(r"^\s*>>>\s*(?P<cmd>RCPT|MAIL|DATA|HELO|EHLO|QUIT)\b", re.I | re.M),
    # DragonFly: "did not like our RCPT TO:"; qmail: "does not like recipient"
    re.compile(r"did not like our (?P<cmd>RCPT TO|MAIL FROM|final DATA|DATA|HELO|EHLO)", re.I),
    # qmail: "most progress was RCPT TO response"
    re.compile(r"most progress was (?P<cmd>RCPT TO|MAIL FROM|DATA) response", re.I),
    # Yahoo: "[RCPT_TO]"; GMX and 1&1: "after RCPT command", "for TEXT command"
    re.compile(r"\[(?P<cmd>RCPT_TO|MAIL_FROM|DATA)\]"),
    re.compile(r"\b(?:for|after|following) (?P<cmd>RCPT|MAIL|TEXT|DATA) command", re.I),
    re.compile(r"\bSMTP:(?P<cmd>RCPT|MAIL|DATA)\b"),
    re.compile(r"refused to accept your message \((?P<cmd>DATA|RCPT|MAIL)\)", re.I),
    re.compile(r"-+SMTP command\s+(?P<cmd>RCPT|MAIL|DATA)", re.I),
    # InterScan MSS writes its own commands as "Sent <<< RCPT TO:<...>"
    re.compile(r"Sent <<< (?P<cmd>RCPT|MAIL|DATA)", re.I),
]
QMAIL_STAGES = [
    (re.compile(r"does not like recipient", re.I), Command.RCPT),
    (re.compile(r"sender was rejected", re.I), Command.MAIL),
    (re.compile(r"my name was rejected", re.I), Command.HELO),
    (re.compile(r"failed after I sent the message", re.I), Command.DATA),
    (
        re.compile(r"(?:failed on|refused) (?:the )?greeting|during greeting wait", re.I),
        Command.CONNECT,
    ),
]


def find(text: str) -> Command | None:
    """The SMTP command a diagnostic answers, when the text says."""
    for pattern in STAGES:
        found = pattern.search(text)
        if found:
            return named(found.group("cmd"))
    for pattern, command in QMAIL_STAGES:
        if pattern.search(text):
            return command
    return None


def named(word: str) -> Command | None:
    """Map an MTA's spelling of a command to a Command."""
    word = word.upper().replace("_", " ")
    if word.startswith("RCPT"):
        return Command.RCPT
    if word.startswith("MAIL"):
        return Command.MAIL
    if word in ("HELO", "EHLO"):
        return Command.HELO
    if word.startswith("INITIAL") or word == "CONNECT":
        return Command.CONNECT
    if word.startswith("PIPELINED"):
        return named(word.split()[-1])
    if word in ("DATA", "END OF DATA", "FINAL DATA", "TEXT", "BODY"):
        return Command.DATA
    return None
