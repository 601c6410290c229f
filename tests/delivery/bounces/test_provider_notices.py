"""Bounce notices of the big Chinese and Russian providers (NetEase, QQ, Yandex, Mail.ru), written
from the wordings their help pages and servers use."""

from delivery.bounces import Reason, parse
from tests.delivery.bounces.messages import LIST_ORIGINAL, dsn, plain, recipients


def test_mail_ru_russian_exim_notice_names_its_recipient_without_x_failed_recipients():
    report = parse(
        plain(
            "Это письмо создано автоматически сервером Mail.Ru,\n"
            "отвечать на него не нужно.\n\n"
            "К сожалению, Ваше письмо не может быть доставлено одному или нескольким\n"
            "получателям:\n\n"
            "  kijitora@example.org\n"
            "    SMTP error from remote mail server after RCPT TO:<kijitora@example.org>:\n"
            "    host mx.example.org [192.0.2.1]: 550 5.1.1 <kijitora@example.org>:\n"
            "    User unknown\n\n"
            "Рекомендуем Вам проверить корректность указания адресов получателей.\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n"
            + LIST_ORIGINAL,
            From="Mail Delivery System <MAILER-DAEMON@corp.mail.ru>",
            Subject="Mail failure.",
            **{"Content-Type": "text/plain; charset=utf-8"},
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_yandex_no_such_user_under_a_policy_status_is_a_hard_unknown_user():
    report = parse(
        dsn(
            "This is the mail system at host forward1.mail.yandex.net.",
            [
                "Final-Recipient: rfc822; kijitora@yandex.example\nAction: failed\n"
                "Status: 5.7.1\nDiagnostic-Code: smtp; 550 5.7.1 No such user!"
            ],
        )
    )
    found = recipients(report)["kijitora@yandex.example"]
    assert found.reason is Reason.USER_UNKNOWN
    assert found.hard


def test_netease_chinese_notice_that_the_user_does_not_exist_is_a_hard_unknown_user():
    report = parse(
        plain(
            "抱歉，您的邮件无法投递到以下收件人：\n\n"
            "kijitora@example.org\n"
            "退信原因：该用户不存在 (550 User not found: kijitora@example.org)\n\n"
            "----- Original message -----\n\n" + LIST_ORIGINAL,
            From="Postmaster <Postmaster@163.example>",
            Subject="系统退信",
            **{"Content-Type": "text/plain; charset=utf-8"},
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.USER_UNKNOWN
    assert found["kijitora@example.org"].hard


def test_qq_chinese_notice_of_a_full_mailbox_is_soft():
    report = parse(
        plain(
            "很抱歉您的邮件没有发送成功。\n\n"
            "收件人：kijitora@example.org\n"
            "退信原因：收件人邮箱空间不足\n\n"
            "----- Original message -----\n\n" + LIST_ORIGINAL,
            From="PostMaster <PostMaster@qq.example>",
            Subject="退信：Our April news",
            **{"Content-Type": "text/plain; charset=utf-8"},
        )
    )
    found = recipients(report)
    assert list(found) == ["kijitora@example.org"]
    assert found["kijitora@example.org"].reason is Reason.MAILBOX_FULL
    assert not found["kijitora@example.org"].hard
