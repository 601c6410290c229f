"""What remote servers write when they refuse mail, grouped by reason.

Patterns are matched against the diagnostic text lower-cased with runs of whitespace made one
space. The order of PHRASES is the order of precedence: a reply that says both "mailbox full"
and "user unknown" is about a full mailbox, and the specific sender-side reasons come before
the generic "blocked" and "rejected". A reason may appear twice: its unambiguous phrases early,
its vaguer ones late.
"""

from __future__ import annotations

import re

from delivery.bounces.reasons import Reason


def any_of(*patterns: str) -> re.Pattern[str]:
    """One compiled alternation of the given regular expressions."""
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# "The user does not exist", "the recipient does not exist", "no such mailbox", "the user has
# not opened a mailbox" (QQ, NetEase, Sina, Aliyun) and "no such user", "mailbox not found"
# (Yandex, Mail.ru) in the providers' own languages.
CHINESE_RUSSIAN_ABSENT = (
    # 地址 ("address") only after 收件人/收信人 ("recipient"): 发件人地址无效 is the sender's.
    r"(?:该)?(?:用户|收件人|收信人|邮箱|信箱|帐号|账号|账户)(?:地址|名)?(?:不存在|无效|未找到|找不到)"
    r"|(?:该)?用户未开通|查无此(?:人|用户)"
    r"|нет такого (?:пользователя|ящика|адреса)|(?:пользователь|адресат|ящик|адрес)"
    r" (?:не найден|не существует)|такого (?:пользователя|ящика) нет"
)

PHRASES: list[tuple[Reason, re.Pattern[str]]] = [
    # NetEase (163.com, 126.com, yeah.net) names each refusal by a code of its own, listed in
    # its help pages on SMTP errors: surer than the words and links around it.
    (Reason.SPAM_DETECTED, any_of(r"\bdt:spm\b")),
    (Reason.BLOCKED, any_of(r"\b(?:dt:rbl|hl:ihu|hl:ipb|hl:mep|hl:rep)\b")),
    (Reason.TOO_MANY_CONN, any_of(r"\b(?:hl:icc|mi:dmc|rp:drc)\b")),
    (Reason.SPEEDING, any_of(r"\b(?:hl:ifc|mi:stc|mi:sfq|rp:trc|rp:qrc)\b")),
    (Reason.NO_RELAYING, any_of(r"\brp:frl\b")),
    (Reason.AUTH_FAILURE, any_of(r"\bmi:(?:spf|dma)\b")),
    # Tencent (QQ) words its refusals its own way and explains each on service.mail.qq.com:
    # "mailbox unavailable or access denied" there means the sender is sending too often, not
    # that the mailbox is gone, so it must come before the unknown-user wordings.
    (Reason.SPEEDING, any_of(r"mailbox unavailable or access deni?n?ed")),
    (Reason.SUSPEND, any_of(r"is a deactivated mailbox")),
    (Reason.BLOCKED, any_of(r"suspected bounce attacks", r"suspected spam ip")),
    (Reason.SPAM_DETECTED, any_of(r"spam is embedded in the email")),
    (
        Reason.MAILBOX_FULL,
        any_of(
            r"mail(?:box|folder|drop)? (?:is )?(?:full|over ?quota)",
            r"mailbox (?:size )?(?:limit )?exceeded",
            r"(?:disk|storage|mailbox|user|account) quota (?:exceeded|full)",
            r"over (?:the )?(?:allowed )?quota",
            r"quota (?:exceed|violation|full|limit)",
            r"exceeds? (?:the )?(?:allowed|his|her|their)? ?(?:mailbox )?(?:size|quota|storage)",
            r"mailbox exceeds allowed size",
            r"mailfolder is full",
            r"not enough (?:storage|disk) space",
            r"account is (?:over|full)",
            r"number of messages in recipient's mailbox exceeded",
            r"recipient(?:'s)? mailbox is full",
            r"inbox is (?:full|out of storage)",
            r"is over (?:its|the|his|her) (?:storage )?(?:limit|quota)",
            r"storage quota exceeded",
            r"has exceeded (?:its|the|his|her|their) (?:storage|mailbox)",
            # Chinese and Russian providers' own words: "mailbox space insufficient", "full"
            r"(?:邮箱|信箱)?空间不足|(?:邮箱|信箱)(?:已满|满了|容量已满)",
            r"(?:почтовый )?ящик (?:переполнен|заполнен)|превышен (?:размер|объ[её]м|квота)",
            r"too much mail data",
            r"mailbox has exceeded",
            r"user has (?:too many messages|exceeded)",
            r"as their mailbox is full",
        ),
    ),
    (
        Reason.NOT_COMPLIANT_RFC,
        any_of(
            r"rfc ?(?:5322|2822|822) (?:compliant|complian|violation|requirement|standard)",
            r"(?:violates|not conform\w* to|does not comply with) rfc",
            r"multiple (?:from|to|date|subject|message-id|sender) headers",
            r"multiple addresses in from",
            r"not (?:rfc[- ]?)?compliant",
            r"duplicate header",
            r"(?:bare|invalid) (?:lf|line feed|line ending)",
        ),
    ),
    (
        Reason.MESG_TOO_BIG,
        any_of(
            r"message (?:is )?too (?:big|large)",
            r"message (?:size|length) exceeds",
            r"exceeded (?:the )?maximum (?:message )?size",
            r"size limit exceeded",
            r"mail size limit",
            r"message size (?:limit|too)",
            r"line limit exceeded",
            r"too big for (?:the )?system",
            r"size of the message exceeds",
            r"larger than (?:the )?(?:max|allowed)",
            r"message exceeds (?:the )?(?:local )?(?:size|maximum)",
            r"exceeds size limit",
            r"mailsize limit",
            r"邮件(?:大小)?(?:过大|太大|超过(?:大小)?限制|超出(?:大小)?限制)",
        ),
    ),
    (
        Reason.EXCEED_LIMIT,
        any_of(
            r"message length exceeds administrative limit", r"exceeds? (?:the )?recipient limit"
        ),
    ),
    (
        Reason.SUSPEND,
        any_of(
            r"account (?:has been |is )?"
            r"(?:disabled|suspended|deactivated|inactive|locked|frozen|blocked)",
            r"(?:disabled|suspended|inactive|locked) (?:recipient|account|user|mailbox)",
            r"mailbox (?:is )?(?:disabled|suspended|inactive|frozen)",
            r"user (?:account )?(?:is )?(?:disabled|suspended|deactivated)",
            r"has been disabled or discontinued",
            r"recipient (?:address )?(?:is )?(?:suspended|disabled)",
            r"account (?:is )?(?:temporarily )?unavailable",
            r"account that you tried to reach is (?:disabled|inactive)",
            r"temporar(?:y|ily) locked",
            r"user is terminated",
            r"email address has been (?:disabled|suspended)",
            r"(?:帐号|账号|账户|邮箱|信箱|用户)(?:已)?(?:被)?(?:冻结|停用|禁用|暂停使用|注销)",
            r"(?:ящик|аккаунт|учетная запись|пользователь) (?:заблокирован|отключен)",
        ),
    ),
    (
        Reason.HAS_MOVED,
        any_of(r"has moved", r"no forwarding address", r"address has changed"),
    ),
    (
        Reason.SECURITY_ERROR,
        any_of(
            r"unauthenticated senders not allowed",
            r"turn on smtp authentication",
            r"authentication (?:is )?required",
        ),
    ),
    (
        Reason.NO_RELAYING,
        any_of(
            r"relay(?:ing)? (?:access )?(?:denied|not permitted|not allowed|prohibited)",
            r"(?:unable|not allowed|not permitted|not configured) to relay",
            r"insecure mail relay",
            r"no relaying",
            r"we do not relay",
            r"relaying mail to .* is not allowed",
            r"relay not (?:permitted|authorized)",
            r"mail server is not a relay",
            r"not local host .*, not a gateway",
            r"email address is not verified",
        ),
    ),
    (
        Reason.AUTH_FAILURE,
        any_of(
            r"\bdmarc\b",
            r"\bspf\b[^.]{0,40}\b(?:fail|check|reject|validation|hardfail|softfail)",
            r"sender policy framework",
            r"bad spf",
            r"\bdkim\b[^.]{0,40}\b(?:fail|invalid|not valid|missing)",
            r"authentication (?:checks? )?failed",
            r"fails? to pass (?:spf|dkim|authentication)",
            r"does not have authentication information",
            r"unauthenticated email",
            r"does not pass (?:dmarc|spf|dkim)",
            r"is not designated as a permitted sender",
            r"sender (?:authentication|verification) (?:failed|is required)",
        ),
    ),
    (
        Reason.REQUIRE_PTR,
        any_of(
            r"reverse dns",
            r"\bptr\b(?: record)?",
            r"\brdns\b",
            r"reverse (?:lookup|name resolution|look-up)",
            r"no reverse",
            r"cannot find your hostname",
            r"client host rejected: cannot find",
            r"ip name lookup failed",
            r"(?:hostname|host name) (?:does not|doesn't) resolve",
            r"unverif(?:i|y)able sending ip",
            r"mismatches client ip",
        ),
    ),
    (
        Reason.HOST_UNKNOWN,
        any_of(
            r"host or domain name not found",
            r"smtpsend\.dns\.nonexistentdomain",  # Exchange 2007 and later
            r"\bhost unknown",
            # Postfix's resolver answer for a name that does not exist (HOST_NOT_FOUND in
            # dns_lookup.c); "try again" is its temporary TRY_AGAIN, left to networkerror below.
            r"name service error for [^:]{1,120}: host not found(?!,? try again)",
            # glibc's gai_strerror(EAI_NONAME), quoted by MTAs that resolve with getaddrinfo
            r"name or service not known",
        ),
    ),
    (Reason.NETWORK_ERROR, any_of(r"name service error", r"host name lookup failure")),
    (
        Reason.USER_UNKNOWN,
        any_of(
            r"user(?:name)? (?:is )?(?:unknown|not (?:found|known|exist|listed|local))",
            r"unknown (?:user|recipient|mailbox|local[ -]?part|address|e-?mail address)",
            r"unknown or illegal (?:user|alias)",
            r"no such (?:user|recipient|mailbox|address|person|account|local user)",
            r"(?:user|recipient|mailbox|address|account) (?:does not|doesn't|did not) exist",
            r"(?:mailbox|recipient|address|user|account) (?:was )?not (?:found|exist)",
            r"invalid (?:recipient|mailbox|address|user|final delivery userid|e-?mail address)",
            r"recipient (?:address )?rejected: "
            r"(?:access denied|undeliverable|user unknown|invalid)",
            r"recipient address rejected\.?$",
            r"not (?:a )?(?:valid|known) (?:user|recipient|mailbox|address)",
            r"is not a valid (?:user|mailbox|recipient)",
            r"mailbox unavailable",
            r"no mailbox (?:here )?by that name",
            r"recipient (?:name )?is not recognized",
            r"doesn't have a .* account",
            r"not listed in (?:domino directory|public name & address book|the directory)",
            r"address (?:is )?(?:unknown|invalid|not valid)",
            r"address couldn't be found",
            r"bad (?:destination mailbox address|recipient)",
            r"no mailbox",
            r"no valid recipients",
            r"recipient not found",
            r"is not a known user",
            r"not our user",
            r"no account by that name",
            r"resolver\.adr\.(?:ex)?recipnotfound",  # Exchange 2007 and later
            r"non-?existent (?:user|recipient|mailbox|address|account)",
            r"badrcptto",
            r"@[a-z0-9.-]+>?:? does not exist",
            r"(?:user|recipient|mailbox|account) <?[^\s<>]+>? (?:does not|doesn't) exist",
            r"(?:address|recipient|mailbox|user)[^.]{0,30} (?:couldn't|could not|can't|cannot) "
            r"be found",
            CHINESE_RUSSIAN_ABSENT,
        ),
    ),
    (
        Reason.FILTERED,
        any_of(
            r"refused by (?:the )?recipient",
            r"domain filter",
            r"rejected by (?:the )?(?:recipient|user|domain) filter",
            r"被(?:对方|收件人|收信人)?拒收",
            r"message filtered",
            r"\bfiltered\b",
        ),
    ),
    (
        Reason.BAD_REPUTATION,
        any_of(
            r"\breputation\b",
            r"unexpected volume or user complaints",
            r"sender score",
        ),
    ),
    (
        Reason.VIRUS_DETECTED,
        any_of(r"\bvirus\b", r"malware", r"infected", r"dangerous attachment"),
    ),
    (
        Reason.POLICY_VIOLATION,
        any_of(
            r"policy (?:violation|reasons|rejection)",
            r"violat(?:es|ion of|ed) (?:our|the|local)? ?polic",
            r"denied by policy",
            r"protocol violation",
            r"header error",
            r"prohibited attachment",
            r"attachment (?:type )?(?:not allowed|is not permitted|blocked)",
            r"content presents a potential security issue",
        ),
    ),
    (
        Reason.BLOCKED,
        any_of(
            r"client host (?:blocked|rejected)",
            r"(?:ip|host|address) (?:\S+ )?(?:is |was |has been )?(?:blocked|bloquee)",
            r"service refus",
            r"refused to talk to me",
            r"not accepting connections",
            r"黑名单|черн(?:ый|ом) списк",
        ),
    ),
    (
        Reason.CONTENT_ERROR,
        any_of(
            r"header (?:syntax|is not|too long|line too long)",
            r"invalid (?:header|content|mime|character)",
            r"media error",
            r"\bmime\b.* (?:error|invalid|not supported)",
            r"message (?:contains|has) (?:invalid|an invalid|illegal)",
            r"improper use of 8-bit data",
        ),
    ),
    (
        Reason.SPAM_DETECTED,
        any_of(
            r"\bspam\b",
            r"\bjunk mail\b",
            r"\bube\b",
            r"unsolicited",
            r"blacklisted (?:url|link|content)",
            r"content rejected",
            r"bulk mail",
            r"mail rejete",
            r"uribl",
            r"surbl",
            r"\bscore\b.*\bthreshold\b",
            r"content denied",  # Tencent and Aliyun: "550 Mail content denied"
            r"垃圾邮件|\bспам\b",
        ),
    ),
    (
        Reason.REJECTED,
        any_of(
            r"sender (?:address )?"
            r"(?:rejected|refused|denied|not allowed|blocked|is blacklisted|unknown)",
            r"(?:sender|from) (?:domain|address) (?:is )?"
            r"(?:invalid|unknown|not found|does not exist|must exist)",
            r"domain (?:of sender|name) .*(?:does not|doesn't|must) (?:exist|resolve)",
            r"unroutable sender",
            r"(?:invalid|bad|illegal|unknown) (?:sender|from)",
            r"envelope sender",
            r"mail from .* rejected",
            r"domain is invalid",
            r"address that has been blacklisted",
            r"sender verify failed",
            r"purported responsible address",
            r"not a member of",
            r"permission to post",
        ),
    ),
    (
        Reason.HOST_UNKNOWN,
        any_of(
            r"host (?:or domain name )?(?:is )?(?:unknown|not found)",
            r"(?:domain|host) (?:name )?(?:does not|doesn't) exist",
            r"unknown (?:host|domain)",
            r"no such (?:domain|host)",
            r"(?:couldn't|could not|cannot|can't|unable to) find (?:any host|the host|host)",
            r"domain (?:is )?(?:not found|unknown|invalid|not exist|not reachable)",
            r"unrouteable (?:mail )?(?:domain|address)",
            r"dns lookup failure",
            r"invalid domain",
            r"domain or user isn't in my list",
            r"(?:account or )?domain may not exist",
            r"(?<![@\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)+ does not exist",
            # Exim's router and transport: the domain has no host to deliver to
            r"all host address lookups failed permanently",
            r"mx records point to non-?existent hosts",
            r"域名(?:不存在|无效|错误)|домен не существует",
        ),
    ),
    (
        Reason.TOO_MANY_CONN,
        any_of(
            r"too many (?:connections|concurrent|simultaneous|sessions)",
            r"connection (?:rate )?limit",
            r"frequency limited",
            r"too many recipients(?! this hour)",
        ),
    ),
    (
        Reason.SPEEDING,
        any_of(
            r"rate limit",
            r"too many (?:messages|emails|mails|recipients this hour)",
            r"sent to too many recipients",
            r"sending (?:too fast|rate)",
            r"receiving mail at a rate",
            r"throttl",
            r"exceeded (?:the )?(?:message )?rate",
            r"daily (?:relay |sending )?quota",
            r"(?:发送|发信|收信)?频率(?:过快|过高|超限|受限|超过限制)",
        ),
    ),
    (
        Reason.BLOCKED,
        any_of(
            r"\bblock(?:ed|list|listed)\b",
            r"\bblacklist",
            r"\bdenylist",
            r"\brbl\b",
            r"\bdnsbl\b",
            r"spamhaus",
            r"spamcop",
            r"sorbs",
            r"(?:connection|client|host|ip)(?: address)? (?:was |is )?"
            r"(?:refused|rejected|denied|not allowed)",
            r"banned",
            r"not (?:allowed|authorized|permitted) to (?:send|connect)",
            r"please use the smtp server of your isp",
            r"use your isp",
            r"messages from [\d.]+ weren't sent",
            r"dynamic (?:ip|address|pool)",
            r"residential",
            r"invalid ip for sending",
            r"listed (?:at|on|in)",
        ),
    ),
    (
        Reason.FAILED_STARTTLS,
        any_of(
            r"starttls",
            r"\btls\b.* (?:required|failed|error)",
            r"encryption required",
            r"does not support tls",
        ),
    ),
    (
        Reason.SECURITY_ERROR,
        any_of(
            r"security (?:policy|error)",
            r"delivery not authorized",
            r"message (?:is )?not authorized",
        ),
    ),
    (
        Reason.SYSTEM_FULL,
        any_of(
            r"(?:mail )?system (?:is )?full",
            r"insufficient (?:system )?(?:disk |storage )?(?:space|storage)",
            r"out of (?:disk|storage) space",
            r"disk (?:is )?full",
        ),
    ),
    (
        Reason.NOT_ACCEPT,
        any_of(
            r"null mx",
            r"does not accept (?:any )?mail",
            r"accepts no mail",
            r"no (?:mx|smtp service)",
            r"indicated no smtp service",
            r"couldn't find a mail exchanger",
            r"no mx record",
            r"not accepting (?:network )?messages",
        ),
    ),
    (
        Reason.SYSTEM_ERROR,
        any_of(
            r"system error",
            r"internal (?:server |system )?error",
            r"server error",
            r"queue file write error",
            r"resources temporarily unavailable",
            r"local error in processing",
            r"unable to contact ldap",
            r"service (?:not available|unavailable|currently unavailable)",
            r"transaction failed",
            r"duplicated message-id",
            r"multiple retries",
        ),
    ),
    (
        Reason.EXPIRED,
        any_of(
            r"retry timeout exceeded",
            r"\bqueue\.expired\b",  # Exchange 2007 and later
            r"delivery (?:time|period) (?:has )?expired",
            r"message expired",
            r"envelope expired",
            r"(?:been|was) in the queue too long",
            r"could not (?:be )?deliver(?:ed)? for (?:the last )?\d+",
            r"have been failing for a long time",
            r"giving up",
            r"did not accept our requests to connect",
            r"cannot send message for \d+ days",
            r"message could not be delivered for \d+",
            r"was not delivered within",
            r"delivery failed \d+ attempts",
            r"timed? ?out",
        ),
    ),
    (
        Reason.NETWORK_ERROR,
        any_of(
            r"network error",
            r"no route to host",
            r"connection (?:refused|reset|timed out|closed|lost)",
            r"could not connect",
            r"unable to connect",
            r"wasn't able to establish an smtp connection",
            r"dns (?:error|failure|problem)",
            r"mail loop|routing loop|too many hops|hop count exceeded|loops? back to myself",
            r"host not reachable",
            r"socket error",
        ),
    ),
    (
        Reason.MAILER_ERROR,
        any_of(
            r"mailer error",
            r"command (?:output|died|failed)",
            r"pipe to \|",
            r"procmail",
            r"exit (?:status|code) \d+",
        ),
    ),
    (
        Reason.SYNTAX_ERROR,
        any_of(
            r"syntax error",
            r"malformed address",
            r"command unrecognized",
            r"(?:improper|bad) sequence of commands",
            r"command parameter not implemented",
        ),
    ),
]


# Wordings that say the mailbox does not exist whatever the SMTP stage or the status code:
# each is written only by a recipient lookup, never by a content filter.
SURELY_GONE = any_of(
    r"address couldn't be found",
    # Microsoft's IIS, Exchange and Outlook.com refusal at RCPT TO (RFC 5321 4.2.2's 550 text)
    r"requested action not taken: mailbox unavailable",
    # qmail-local, vpopmail and qmail's chkuser and badrcptto patches
    r"no mailbox here by that name",
    r"no account by that name",
    r"not a valid user here",
    r"badrcptto",
    r"non-?existent (?:user|recipient|mailbox|address|account)",
    r"(?:user|mailbox|recipient|account|e-?mail address) (?:does not|doesn't) exist",
    r"(?:user|recipient|mailbox|account) <?[^\s<>]+>? (?:does not|doesn't) exist",
    r"@[a-z0-9.-]+>?:? does not exist",
    r"(?:address|recipient|mailbox|user)[^.]{0,30} (?:couldn't|could not|can't|cannot) be found",
    r"the email account that you tried to reach does not exist",
    r"recipient (?:name )?is not recognized",
    r"mail\.local: unknown user",
    r"not listed in (?:domino directory|public name & address book)",
    r"recipientnotfound|recipient not found by smtp address lookup",
    r"delivery error: dd this user doesn't have",
    r"adresse destinataire invalide",
    r"resolver\.adr\.(?:ex)?recipnotfound",
    CHINESE_RUSSIAN_ABSENT,
)

# Recipient lookups that answer with a policy code, x.7.1 "delivery not authorized" (qmail's
# badrcptto and validrcptto patches, "553 sorry, no such user (#5.7.1)"): the status says only
# that the server refused, these words say the mailbox is not there.
REFUSED_AS_ABSENT = any_of(
    r"no such (?:user|recipient|mailbox)",
    r"invalid (?:recipient|mailbox)",
    r"not a valid (?:user|recipient|mailbox)",
)


def match(text: str, only: tuple[Reason, ...] | None = None) -> Reason | None:
    """The first reason (of `only`, when given) whose phrases occur in a normalised text."""
    for reason, pattern in PHRASES:
        if (only is None or reason in only) and pattern.search(text):
            return reason
    return None


def normalize(text: str) -> str:
    """Lower-case, collapse whitespace and drop the code prefixes that continue a multi-line
    reply ("... multiple 550-5.7.1 addresses"), the form PHRASES are written for."""
    text = " ".join(text.lower().split())
    return text[:4] + CONTINUATION.sub(" ", text[4:])


# The "550-5.7.1 " (or "550 5.7.1 ") that starts each line of a multi-line reply.
CONTINUATION = re.compile(r" [245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3} )?")
