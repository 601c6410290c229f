"""classify_reply against the refusals of the big Chinese and Russian mailbox providers (QQ/Tencent,
NetEase 163/126, Sina, Aliyun, Yandex, Mail.ru), in the words and codes their servers use."""

import pytest

from delivery.bounces import SENDER_SIDE, Reason, classify_reply


@pytest.mark.parametrize(
    ("code", "text", "reason"),
    [
        (
            554,
            "DT:SPM 163 mx12,EsCowAD3Jb0,1714 http://mail.163.com/help/help_spam_16.htm?ip=",
            Reason.SPAM_DETECTED,
        ),
        (
            554,
            "HL:IHU 192.0.2.1 is suspended because of spam or abnormal connections",
            Reason.BLOCKED,
        ),
        (451, "DT:RBL 192.0.2.1 is listed", Reason.BLOCKED),
        (421, "HL:ICC 192.0.2.1 too many concurrent connections", Reason.TOO_MANY_CONN),
        (450, "MI:DMC 192.0.2.1 too many messages in this connection", Reason.TOO_MANY_CONN),
        (451, "MI:SFQ sender sent too many mails in 15 minutes", Reason.SPEEDING),
        (550, "RP:QRC recipient receives too many mails from this sender", Reason.SPEEDING),
        (550, "RP:FRL 163.com does not relay anonymous mail", Reason.NO_RELAYING),
    ],
)
def test_netease_refusal_codes_name_their_reason(code, text, reason):
    verdict = classify_reply(code, None, text, "RCPT")
    assert verdict.reason is reason
    assert verdict.reason in SENDER_SIDE
    assert not verdict.hard


def test_netease_user_not_found_at_rcpt_is_a_hard_unknown_user():
    verdict = classify_reply(550, None, "User not found: kijitora@163.example", "RCPT")
    assert verdict.reason is Reason.USER_UNKNOWN and verdict.hard


def test_netease_mail_size_limit_is_a_message_too_big():
    verdict = classify_reply(
        552, None, "Requested mail action aborted: exceeded mailsize limit", "DATA"
    )
    assert verdict.reason is Reason.MESG_TOO_BIG and not verdict.hard


def test_tencent_mailbox_not_found_is_a_hard_unknown_user():
    verdict = classify_reply(
        550, None, "Mailbox not found. http://service.mail.qq.example/", "RCPT"
    )
    assert verdict.reason is Reason.USER_UNKNOWN and verdict.hard


def test_tencent_mailbox_unavailable_or_access_denied_is_sending_too_often_not_a_dead_address():
    # service.mail.qq.com explains it as a limit on the sender, unlike Microsoft's wording.
    verdict = classify_reply(550, None, "Mailbox unavailable or access denied", "RCPT")
    assert verdict.reason is Reason.SPEEDING
    assert not verdict.hard


def test_tencent_frequency_limits_are_about_our_connections_not_the_recipient():
    verdict = classify_reply(550, None, "Ip frequency limited", "RCPT")
    assert verdict.reason is Reason.TOO_MANY_CONN
    assert not verdict.hard


def test_tencent_and_aliyun_content_denied_is_spam_not_a_dead_address():
    verdict = classify_reply(550, None, "Mail content denied", "DATA")
    assert verdict.reason is Reason.SPAM_DETECTED
    assert not verdict.hard


@pytest.mark.parametrize(
    ("text", "reason", "hard"),
    [
        ("该用户不存在", Reason.USER_UNKNOWN, True),
        ("收件人邮箱空间不足", Reason.MAILBOX_FULL, False),
        ("该邮箱已被冻结", Reason.SUSPEND, False),
        ("邮件被识别为垃圾邮件", Reason.SPAM_DETECTED, False),
        ("发件人在黑名单中", Reason.BLOCKED, False),
        ("域名不存在", Reason.HOST_UNKNOWN, True),
        ("邮件大小超过限制", Reason.MESG_TOO_BIG, False),
        ("发信频率过快", Reason.SPEEDING, False),
    ],
)
def test_chinese_providers_own_words_name_their_reason(text, reason, hard):
    verdict = classify_reply(550, None, text)
    assert verdict.reason is reason
    assert verdict.hard is hard


def test_yandex_no_such_user_under_5_7_1_is_a_hard_unknown_user():
    verdict = classify_reply(550, "5.7.1", "No such user!", "RCPT")
    assert verdict.reason is Reason.USER_UNKNOWN and verdict.hard


@pytest.mark.parametrize(
    ("text", "reason", "hard"),
    [
        ("Пользователь не найден", Reason.USER_UNKNOWN, True),
        ("Почтовый ящик переполнен", Reason.MAILBOX_FULL, False),
        ("Сообщение похоже на спам", Reason.SPAM_DETECTED, False),
        (
            "Message was not accepted -- invalid mailbox. Local mailbox is unavailable: user not "
            "found",
            Reason.USER_UNKNOWN,
            True,
        ),
        ("user is terminated", Reason.SUSPEND, False),
    ],
)
def test_russian_providers_replies_name_their_reason(text, reason, hard):
    verdict = classify_reply(550, None, text, "RCPT")
    assert verdict.reason is reason
    assert verdict.hard is hard


def test_chinese_words_about_an_invalid_sender_address_never_make_the_recipient_hard():
    verdict = classify_reply(550, None, "发件人地址无效")  # "the sender's address is invalid"
    assert verdict.reason is not Reason.USER_UNKNOWN
    assert not verdict.hard
