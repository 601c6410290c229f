"""Slow-down replies, as the providers word them.

Each text is a real reply: from the bounce corpus (Sisimai's set-of-emails), providers' help
pages (help.163.com's code table, Aliyun's and Tencent's help), MTA rule sets (KumoMTA's
shaping files) and public bug reports quoting what a server said. IP addresses are replaced by
documentation addresses.
"""

from __future__ import annotations

import pytest

from delivery.slowdown import BACKOFF, SlowDownKind, SlowDownSignal, slow_down_signal

CONNECTIONS = SlowDownKind.CONNECTIONS
RATE = SlowDownKind.RATE
REPUTATION = SlowDownKind.REPUTATION
BUSY = SlowDownKind.BUSY
QUOTA = SlowDownKind.QUOTA

SLOW_DOWN_REPLIES = [
    # Gmail (mail-in-a-box#1771; Purelymail#354; nodemailer FAQs; a Google TempFail deferral)
    pytest.param(
        421,
        "4.7.28",
        "[192.0.2.1       4] Our system has detected an unusual rate of\n421-4.7.28 unsolicited "
        "mail originating from your IP address. To protect our\n421-4.7.28 users from spam, mail "
        "sent from your IP address has been temporarily\n421-4.7.28 rate limited. Please visit "
        "https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email "
        "Senders Guidelines. z1si9679476pln.401 - gsmtp",
        REPUTATION,
        id="gmail-4.7.28-ip",
    ),
    pytest.param(
        421,
        None,
        "4.7.28 Gmail has detected an unusual rate of mail originating from your SPF\n"
        "421-4.7.28 domain [example.com]. To protect our users from\n421-4.7.28 spam, mail sent "
        "from your domain has been temporarily rate limited.",
        REPUTATION,
        id="gmail-4.7.28-spf-domain-code-in-text",
    ),
    pytest.param(
        421,
        "4.7.0",
        "Try again later, closing connection. (EHLO)\n421-4.7.0 For more information, go to\n"
        "421 4.7.0 About SMTP error messages - Google Workspace Admin Help "
        "3f1490d57ef6-e7f7352f44csm831688276.30 - gsmtp",
        RATE,
        id="gmail-421-try-again-later",
    ),
    pytest.param(
        451,
        "4.7.1",
        "Try again later, closing connection. Learn more at 4.7.1 "
        "https://support.google.com/mail/?p=TempFail",
        RATE,
        id="gmail-451-tempfail",
    ),
    pytest.param(
        421,
        "4.7.0",
        "Our system has detected an unusual rate of unsolicited mail originating from your IP "
        "address.",
        REPUTATION,
        id="gmail-421-4.7.0-unusual-rate",
    ),
    # Yahoo and AOL (bounce corpus rhost-yahooinc-02; Sisimai's Yahoo rules)
    pytest.param(
        421,
        "4.7.0",
        "[TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user "
        "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        REPUTATION,
        id="yahoo-tss04",
    ),
    pytest.param(
        421,
        None,
        "Max message per connection reached, closing transmission channel",
        RATE,
        id="yahoo-max-message-per-connection",
    ),
    # Microsoft (bounce corpus rhost-microsoft-05; Exchange's own responses; Outlook.com RP-001)
    pytest.param(
        451,
        "4.7.500",
        "Server busy. Please try again later from [192.0.2.2]. (AS761)",
        BUSY,
        id="microsoft-4.7.500-server-busy",
    ),
    pytest.param(
        451,
        "4.7.650",
        "The mail server [192.0.2.25] has been temporarily rate limited due to IP reputation. "
        "For e-mail delivery information, see https://postmaster.live.com (S3113) "
        "[5NY1SSJFSTZJRJBG.eurprd02.prod.outlook.com 2024-05-09T23:34:45.000Z GLXTWVLGZHZNHVXY]",
        REPUTATION,
        id="microsoft-4.7.650-rate-limited",
    ),
    pytest.param(
        421,
        "4.3.2",
        "The maximum number of concurrent server connections has exceeded a limit, closing "
        "transmission channel",
        CONNECTIONS,
        id="exchange-too-many-connections",
    ),
    pytest.param(
        421,
        None,
        "RP-001 (BAY004-MC1F23) Unfortunately, some messages from 192.0.2.3 weren't sent. "
        "Please try again. We have limits for how many messages can be sent per hour and per day.",
        QUOTA,
        id="outlook-rp-001",
    ),
    # Tencent QQ Mail / Exmail (bounce corpus rhost-tencent-01 and -02; KumoMTA's rules)
    pytest.param(
        550,
        None,
        "Ip frequency\n    limited [V2VkIEFwciAgMyAxNjozNjo1OSBKU1QgMjAxOQo=/RkNGMjlFQTVEQ0E "
        "Blocked\n    IP 192.0.2.22].\n    "
        "http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725",
        RATE,
        id="qq-550-ip-frequency-limited",
    ),
    pytest.param(
        550,
        None,
        "Connection frequency limited [Q1YzZ3kxdnRYYnpkbVZ0MAo+QTMzMTMzRjUxNzQ4Cg/MTI3MTY2MDge= "
        "Blocked IP 192.0.2.22]. "
        "http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000722",
        CONNECTIONS,
        id="qq-550-connection-frequency-limited",
    ),
    pytest.param(550, None, "Sender frequency limited", RATE, id="qq-550-sender-frequency"),
    pytest.param(550, None, "Domain frequency limited", RATE, id="qq-550-domain-frequency"),
    # NetEase 163.com / 126.com / yeah.net (help.163.com's code table; a real MI:DMC deferral)
    pytest.param(
        421,
        "4.4.5",
        "HL:ICC 该IP同时并发连接数过大，超过了网易的限制，被临时禁止连接。",
        CONNECTIONS,
        id="netease-hl-icc",
    ),
    pytest.param(
        421,
        "4.5.0",
        "HL:IFC 该IP短期内发送了大量信件，超过了网易的限制，被临时禁止连接。",
        RATE,
        id="netease-hl-ifc",
    ),
    pytest.param(
        451,
        None,
        "MI:DMC 163 gzga-smtp-mtada-g0-3,_____wA3YOjZJEpouIVyHg--.2947S13 1749689566 "
        "http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.8&hostid=gzga-smtp-mtada-g0-3"
        "&time=1749689566",
        RATE,
        id="netease-451-mi-dmc",
    ),
    pytest.param(
        450, None, "MI:CEL 发送方出现过多的错误指令。请检查发信程序；", RATE, id="netease-mi-cel"
    ),
    pytest.param(451, None, "RP:CEL 发件人发送行为异常。", RATE, id="netease-rp-cel"),
    pytest.param(451, None, "MI:SFQ", RATE, id="netease-mi-sfq"),
    pytest.param(450, "4.5.3", "RP:DRC", RATE, id="netease-rp-drc"),
    pytest.param(
        554,
        "5.5.0",
        "MI:STC .For more information, please visit xxxxxx",
        QUOTA,
        id="netease-554-mi-stc-daily",
    ),
    pytest.param(
        554,
        None,
        "HL:ITC 该 IP 短期内发送了大量信件，超过了网易的限制，被临时禁止连接。",
        QUOTA,
        id="netease-554-hl-itc",
    ),
    pytest.param(421, None, "Too many connections", CONNECTIONS, id="netease-too-many-connections"),
    # Alibaba Mail (Aliyun's help pages, inbound and outbound)
    pytest.param(
        454,
        None,
        "Transient reject by behaviour spam at DATA State(Connection IP address:192.0.2.5)"
        "ANTISPAM_BAT[01201311R5167S531, r41g03022]: currently unexpected sending",
        RATE,
        id="aliyun-454-unexpected-sending",
    ),
    pytest.param(
        554,
        None,
        "Reject by behaviour spam ANTISPAM_BAT[01201311R196xxxxx, c01a1xxxxx]: too frequently "
        "sending",
        RATE,
        id="aliyun-too-frequently-sending",
    ),
    # Others (bounce corpus lhost-postfix-09, rhost-godaddy-03; hitobito#953; PHPMailer#2070;
    # maildev#96)
    pytest.param(
        452, "4.3.2", "Connection rate limit exceeded.", CONNECTIONS, id="postfix-connection-rate"
    ),
    pytest.param(
        550,
        "5.1.1",
        "<kijitora@example.com>  - 198.51.100.225 has sent to too many recipients this hour. "
        "IB607  <http://x.co/rlbounce>",
        QUOTA,
        id="godaddy-ib607",
    ),
    pytest.param(
        554,
        "5.2.0",
        "sc969: IP reputation ratelimit in effect - https://support.bluewin.ch/provider/bounce/x",
        RATE,
        id="bluewin-554-ratelimit",
    ),
    pytest.param(
        421,
        None,
        "Too many concurrent SMTP connections from this IP address; please try again later.",
        CONNECTIONS,
        id="exim-too-many-concurrent",
    ),
    pytest.param(
        451,
        None,
        "ESMTP MailEnable Service temporarily refused connection at 11/27/15 11:25:27 from IP "
        "(192.0.2.1) because the server is too busy.",
        BUSY,
        id="mailenable-too-busy",
    ),
]

NOT_SLOW_DOWN_REPLIES = [
    # One recipient receiving too fast (Sisimai#466; bounce corpus lhost-postfix-59)
    pytest.param(
        450,
        "4.2.1",
        "The user you are trying to contact is receiving mail at a rate that prevents additional "
        "messages from being delivered. Please resend your message at a later time.",
        id="gmail-recipient-receiving-rate",
    ),
    pytest.param(
        550,
        "5.2.1",
        "The user you are trying to contact is receiving mail at a rate that 550-5.2.1 prevents "
        "additional messages from being delivered. For more 550-5.2.1 information, please visit "
        "550 5.2.1 https://support.google.com/mail/?p=ReceivingRatePerm",
        id="gmail-recipient-receiving-rate-perm",
    ),
    # Too many recipients of one message; protocol errors (bounce corpus; Exchange)
    pytest.param(552, None, "Too many recipients", id="too-many-recipients"),
    pytest.param(452, "4.5.3", "Too many recipients", id="exchange-too-many-recipients"),
    pytest.param(
        421,
        "4.7.0",
        "Too many errors on this connection, closing transmission channel",
        id="exchange-too-many-errors",
    ),
    # Greylisting (postgrey)
    pytest.param(
        450,
        "4.2.0",
        "<x@example.com>: Recipient address rejected: Greylisted, see "
        "http://postgrey.schweikert.ch/help/example.com.html",
        id="postgrey",
    ),
    # Blocks: the same words with a 5xx are not deferrals (docker-mailman#303; Yahoo TS03)
    pytest.param(
        550,
        "5.7.1",
        "Our system has detected an unusual rate of unsolicited mail originating from your IP "
        "address. To protect our users from spam, mail sent from your IP address has been "
        "blocked. Please visit https://support.google.com/mail/?p=UnsolicitedIPError",
        id="gmail-550-block",
    ),
    pytest.param(
        553,
        "5.7.1",
        "[TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT "
        "succeed. See https://postmaster.yahooinc.com/error-codes",
        id="yahoo-553-ts03",
    ),
    # Content, accounts, mailboxes
    pytest.param(
        554,
        None,
        "DT:SPM 163 gzga-smtp-mtada-g0-3,_____wA3YOjZJEpouIVyHg--.2947S13 1749689566 "
        "http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.8",
        id="netease-content-spam",
    ),
    pytest.param(
        451,
        None,
        "Requested mail action not taken: too much fail authentication",
        id="netease-login-failures",
    ),
    pytest.param(
        535,
        None,
        "Login fail. Account is abnormal, service is not open, password is incorrect, login "
        "frequency limited, or system is busy.",
        id="qq-535-login-fail",
    ),
    pytest.param(
        452, "4.2.2", "The email account that you tried to reach is over quota.", id="mailbox-full"
    ),
    pytest.param(
        550, "5.1.1", "The email account that you tried to reach does not exist.", id="no-user"
    ),
    pytest.param(421, "4.3.2", "System not accepting network messages", id="shutting-down"),
    pytest.param(250, "2.0.0", "OK rate limited? no, accepted", id="success"),
]


@pytest.mark.parametrize(("code", "enhanced", "text", "kind"), SLOW_DOWN_REPLIES)
def test_provider_slow_down_reply_is_recognised(code, enhanced, text, kind):
    assert slow_down_signal(code, enhanced, text) == SlowDownSignal(kind, BACKOFF[kind])


@pytest.mark.parametrize(("code", "enhanced", "text"), NOT_SLOW_DOWN_REPLIES)
def test_look_alike_reply_is_not_a_slow_down(code, enhanced, text):
    assert slow_down_signal(code, enhanced, text) is None


def test_reputation_and_quota_signals_suggest_a_longer_recovery_than_a_momentary_excess():
    rate = slow_down_signal(421, None, "Too many connections")
    reputation = slow_down_signal(421, "4.7.0", "[TSS04] Messages from 192.0.2.1 deferred")
    quota = slow_down_signal(554, None, "MI:STC")
    assert rate.backoff < reputation.backoff < quota.backoff
