"""Failure notices in plain text that no reader of a particular MTA knows (GroupWise, iPlanet,
Exchange 2007's text-only NDRs, providers' own wordings in English, Chinese or Russian, and MTAs
not yet seen): the recipients the notice itself names.

The returned message's headers are never asked here: its To is often a mailing list, its From
is our own sender. A notice names the failed recipient in one of four ways, tried in order: a
label ("Recipient address: x", "收件人：x"); a line that starts with the address ("<x>: 550 ...",
"x (user not found)", "  x"); a transcript's "RCPT TO:<x>"; or, last, an address in a sentence
about the failure ("Your mail to x could not be delivered").
"""

from __future__ import annotations

import re
from email.message import Message

from delivery.bounces import addresses, autoreply, mime, phrases, rfc3464, status
from delivery.bounces.formats.common import ALIAS, Result, bounce, sender, subject
from delivery.bounces.mime import Sections
from delivery.bounces.reasons import Reason
from delivery.bounces.report import Finding

NAME = "plaintext"

ADDRESS = addresses.ADDRESS.pattern
# Senders that are mail systems, by address or display name ("Mail Delivery System").
DAEMON = re.compile(
    r"mailer-daemon|mailer_daemon|mail-daemon|mailer daemon|postmaster|mail delivery"
    r"|delivery subsystem|mail administrator|system administrator|mail system|mail router"
    r"|mdaemon|\bmailer@|邮件系统|系统管理员|почтов",
    re.I,
)
FAILURE_SUBJECT = re.compile(
    r"undeliver|returned mail|returned to sender|delivery (?:status|fail|notification|problem)"
    r"|failure notice|mail delivery failed|non-?deliver|could not be delivered|not delivered"
    r"|could not send|delayed mail|delivery delay|not (?:yet )?been delivered"
    r"|delivery failure|failed delivery|mail failure|bounced"
    r"|non remis|non recapitabile|unzustellbar|no se puede entregar|onbestelbaar"
    r"|退信|退回|投递失败|发送失败|未送达|无法送达|не доставлен|недоставлен|возврат",
    re.I,
)
FAILURE_TEXT = re.compile(
    r"could ?n[o']t be delivered|was not delivered|were not delivered|not be delivered"
    r"|cannot be delivered|was undeliverable|undeliverable to|unable to deliver|could not send"
    r"|not yet been delivered"
    r"|could not deliver|couldn't deliver|delivery (?:has )?failed|failed permanently"
    r"|permanent (?:fatal )?error|fatal (?:delivery )?errors?|did not reach|cannot be reached"
    r"|could not be reached"
    r"|delivery to the following|following (?:recipients?|address(?:es)?) (?:failed|had)"
    r"|[ée]chec de (?:la )?remise|konnte nicht zugestellt werden|no se (?:pudo|puede) entregar"
    r"|non (?:è stato possibile|può essere) recapitat"
    r"|无法投递|无法送达|投递失败|发送失败|没有发送成功|未能(?:成功)?(?:发送|送达|投递)|被退回"
    r"|не может быть доставлено|не удалось доставить|не было доставлено",
    re.I,
)
# Success notices in plain text (a DSN's "(Success)" or "(Relay)" without its report part).
SUCCESS = re.compile(
    r"\((?:success|relay(?:ed)?|delivered)\)|(?:was|been) (?:successfully )?delivered to"
    r"|delivered successfully|delivery (?:was )?successful|已成功(?:投递|送达)",
    re.I,
)
# Replies, forwards and delay warnings say "undeliverable" as well; only a warning is temporary.
REPLY_SUBJECT = re.compile(r"^\s*(?:re|fwd?|aw|wg|sv|回复|转发)\s*[:：]", re.I)
DELAYED = re.compile(
    r"\bdelay(?:ed)?\b|\bwarning\b|not yet been delivered|will (?:be )?retr(?:y|ied)|延迟|延时"
    r"|задерж",
    re.I,
)
# A notice's own words that the server still holds the message and keeps trying.
STILL_TRYING = re.compile(
    r"this is a warning (?:message )?only|(?:do not|don't) need to resend"
    r"|will (?:keep|continue) (?:trying|to try)|delivery attempts will continue"
    r"|still being retried|has not yet been delivered|仍在(?:重试|尝试)|будут продолжены",
    re.I,
)
LABELLED = re.compile(
    rf"^[ \t]*(?:original |final |failed |intended |invalid |unknown |undeliverable |rejected )?"
    rf"(?:recipient(?:'s)?(?: address)?|rcpt(?: to)?|address|e-?mail address|undeliverable to"
    rf"|收件人(?:地址)?|收信人(?:地址)?|получатель|адресат|адрес)"
    rf"[ \t]*[:：][ \t]*<?(?P<address>{ADDRESS})>?(?P<rest>.*)$",
    re.I | re.M,
)
# A line that starts with an address, then nothing, a colon, a bracket or the reason.
LEADING = re.compile(
    rf"^[ \t]*[\"'<]?(?P<address>{ADDRESS})[\"'>]?(?P<rest>(?:[:(,.\[<; \t].*)?)$", re.M
)
# An SMTP transcript's command for the recipient (MDaemon, InterScan, Domino's logs): the reply
# follows it.
TRANSCRIBED = re.compile(rf"\bRCPT TO:[ \t]*<?(?P<address>{ADDRESS})>?(?P<rest>.*)$", re.I | re.M)
# Lines that quote the returned message's headers rather than name a failed recipient.
ECHOED_HEADER = re.compile(
    r"^[ \t]*(?:from|to|cc|bcc|reply-to|sender|return-path|message-id|in-reply-to|references"
    r"|received|subject|date|delivered-to|envelope-to|errors-to|x-[\w-]+|list-[\w-]+"
    r"|发件人|收件人信息|отправитель)[ \t]*[:：]",
    re.I,
)
PARAGRAPH_END = re.compile(r"\n[ \t]*\n")
# The words just before an address that make it the one a message was sent to.
ADDRESSED = re.compile(
    r"(?:\bto|\bfor|recipients?|addressee|收件人|收信人|发送到|发给|получател\w*|адресат\w*)"
    r"\W{0,3}$",
    re.I,
)


def read(message: Message, parts: Sections) -> Result | None:
    """The failed recipients a plain-text failure notice names; None when it is not one."""
    if parts.reports or parts.feedback is not None:
        return None
    if rfc3464.has_inline_report("\n".join([parts.notice, *parts.attachments])):
        return None  # the delivery-status reader knows those fields better
    gone = says_gone(message, parts.notice)
    if not gone and not is_failure_notice(message, parts):
        return None
    if parts.original is not None and is_returned_bounce(parts.original):
        return None  # a notice about a bounce it returns: the parser reads the one inside
    ours = own_addresses(message, parts.original)
    findings = named(parts.notice, ours)
    if not findings:
        # "Undeliverable: kijitora@example.org", Domino's "DELIVERY FAILURE: User x (address)
        # not listed...": some notices name the recipient only in their subject.
        titled = addresses.find_all(subject(message))
        findings = [Finding(address=a) for a in titled if candidate(a, ours)]
    if not findings and gone:
        author = addresses.from_header(mime.header(message, "From"))
        # the dead mailbox answering as itself: the one address ours would otherwise skip
        findings = [Finding(address=a) for a in author if not addresses.is_daemon(a)]
    delayed = bool(DELAYED.search(subject(message)) or STILL_TRYING.search(parts.notice))
    for found in findings:
        if delayed:
            found.action = "delayed"
        own_words(found)
    return bounce(findings)


def is_failure_notice(message: Message, parts: Sections) -> bool:
    """A mail system's notice with a failure subject or sentence, or a machine's notice with
    both (providers' own robots, gateways) that is not a reply."""
    title = subject(message)
    if REPLY_SUBJECT.match(title) or autoreply.SUBJECT.match(title) or SUCCESS.search(title):
        return False
    said = bool(FAILURE_TEXT.search(parts.notice))
    titled = bool(FAILURE_SUBJECT.search(title))
    if DAEMON.search(sender(message)):
        return said or titled
    return said and titled and (machine_sent(message) or parts.original is not None)


def says_gone(message: Message, notice: str) -> bool:
    """An automatic reply that says the mailbox is not there ("This address does not exist",
    "no mailbox here by that name"): some servers answer a dead address with an auto-reply
    instead of a bounce, and the address is as dead."""
    if not (machine_sent(message) or autoreply.detect(message)):
        return False
    return bool(phrases.SURELY_GONE.search(phrases.normalize(notice)))


def is_returned_bounce(original: Message) -> bool:
    """Whether the returned message is itself a mail system's failure notice."""
    return bool(DAEMON.search(sender(original)) and FAILURE_SUBJECT.search(subject(original)))


def machine_sent(message: Message) -> bool:
    """Signs that no person wrote it: the null reverse path that RFC 5321 section 4.5.5 gives
    every notification, or an Auto-Submitted value other than "no" (RFC 3834 section 5)."""
    if mime.header(message, "Return-Path").replace(" ", "") == "<>":
        return True
    auto = mime.header(message, "Auto-Submitted").strip().lower()
    return bool(auto) and auto != "no"


def own_addresses(message: Message, original: Message | None) -> set[str]:
    """Addresses that are ours, not the recipient's: the returned message's sender and where the
    notice itself was delivered (the VERP return path)."""
    found: set[str] = set()
    for name in ("From", "To", "Delivered-To", "X-Original-To", "Envelope-To"):
        found.update(a.lower() for v in mime.headers(message, name) for a in from_value(v))
    if original is not None:
        for name in ("From", "Sender", "Return-Path", "Reply-To", "Message-ID"):
            found.update(a.lower() for v in mime.headers(original, name) for a in from_value(v))
    return found


def from_value(value: str) -> list[str]:
    """Addresses in a header value, also a bare "<id@host>" Message-ID."""
    return addresses.from_header(value) + addresses.find_all(value)


def named(notice: str, ours: set[str]) -> list[Finding]:
    """Recipients by label, by a leading address, by a transcript's RCPT TO, then anywhere in
    the prose."""
    for pattern in (LABELLED, LEADING, TRANSCRIBED):
        found = [
            finding(notice, m.group("address"), m.group("rest"), m.end())
            for m in pattern.finditer(notice)
            if candidate(m.group("address"), ours) and not ECHOED_HEADER.match(line(notice, m))
        ]
        if found:
            return unique(found)
    prose: list[tuple[bool, Finding]] = []
    for paragraph in PARAGRAPH_END.split(notice):
        said = " ".join(paragraph.split())
        if not FAILURE_TEXT.search(said) and not phrases.SURELY_GONE.search(said.lower()):
            continue  # "for assistance, write to <help@...>" names no failed recipient
        for match in addresses.ADDRESS.finditer(paragraph):
            if candidate(match.group(), ours) and not ECHOED_HEADER.match(line(paragraph, match)):
                address = addresses.normalize(addresses.clean_local(match.group()))
                addressed = bool(
                    ADDRESSED.search(paragraph[max(0, match.start() - 24) : match.start()])
                )
                prose.append((addressed, Finding(address=address)))
    # "Your message from x to y could not be delivered": the address it was sent to, when the
    # sentence says which one that is.
    addressed_to = [f for addressed, f in prose if addressed]
    return unique(addressed_to or [f for _, f in prose])


def candidate(address: str, ours: set[str]) -> bool:
    """Whether an address may be the failed recipient: not a mail system's, not ours."""
    plain = addresses.normalize(addresses.clean_local(address))
    return not addresses.is_daemon(plain) and plain.lower() not in ours


def line(text: str, match: re.Match[str]) -> str:
    """The whole line a match starts on."""
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.start())
    return text[start : end if end >= 0 else len(text)]


def finding(notice: str, address: str, rest: str, end: int) -> Finding:
    """A recipient with what its line says and the lines that follow, up to a blank line."""
    following = PARAGRAPH_END.split(notice[end:], maxsplit=1)[0]
    following = LEADING.split(following, maxsplit=1)[0]  # up to the next recipient
    diagnostic = " ".join(f"{rest.strip(' :<>')} {following}".split())
    found = Finding(address=addresses.normalize(addresses.clean_local(address)))
    alias = ALIAS.search(diagnostic)
    if alias and alias.group(1).lower() != found.address.lower():
        found.alias = addresses.normalize(alias.group(1))
        diagnostic = (diagnostic[: alias.start()] + diagnostic[alias.end() :]).strip()
    found.diagnostic = diagnostic
    return found


def unique(findings: list[Finding]) -> list[Finding]:
    """One finding per address, saying all its paragraphs said (Exchange names a recipient
    once for people, once with the SMTP reply "for administrators")."""
    by_address: dict[str, Finding] = {}
    for found in findings:
        kept = by_address.setdefault(found.address.lower(), found)
        if kept is not found and found.diagnostic not in kept.diagnostic:
            kept.diagnostic = f"{kept.diagnostic} {found.diagnostic}".strip()
    return list(by_address.values())


def own_words(finding: Finding) -> None:
    """A notice's own "user not found", with no SMTP reply quoted, is the verdict of the system
    that holds the mailboxes (GroupWise, Domino, a provider's store), not of a content filter
    answering DATA: the mailbox is not there."""
    if status.find_reply_code(finding.diagnostic) is not None:
        return
    if phrases.match(phrases.normalize(finding.diagnostic)) is Reason.USER_UNKNOWN:
        finding.reason = Reason.USER_UNKNOWN
