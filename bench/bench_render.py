"""Rendering and building campaign messages: messages per second on one core.

    .venv/bin/python bench/bench_render.py [--messages N]

Prints msgs/s for: render only; render + build; render + build + DKIM; and the stdlib
EmailMessage API doing the same build, for comparison. The message is a ~20 KB newsletter
with a <style> block (inlined at compile time), a dozen personalized values and the
unsubscribe and view-online links; the text part is read from the HTML.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campaigns.templating import Content
from delivery import dkim
from delivery.message import (
    CampaignMessage,
    Recipient,
    Sender,
    build,
    compile_message,
    render_recipient,
)

STYLE = """
body { margin: 0; padding: 0; background: #f4f4f4; font-family: Helvetica, Arial, sans-serif; }
.wrapper { width: 100%; background: #f4f4f4; }
.container { width: 600px; margin: 0 auto; background: #ffffff; }
h1 { font-size: 24px; color: #222222; margin: 0 0 12px; }
h2 { font-size: 18px; color: #333333; margin: 0 0 8px; }
p { font-size: 15px; line-height: 22px; color: #444444; margin: 0 0 12px; }
a.button { display: inline-block; padding: 10px 18px; background: #d23f31; color: #ffffff; }
td.article { padding: 16px 24px; border-bottom: 1px solid #eeeeee; }
.footer p { font-size: 12px; color: #888888; }
@media (max-width: 620px) { .container { width: 100% !important; } }
"""

ARTICLE = """
<tr><td class="article">
  <h2>Offer number {n}</h2>
  <p>Dear {name}, this week's selection for {city} includes hand-picked offers on
  kitchenware, outdoor gear and books. 本周精选：厨房用品、户外装备和图书，限时优惠。
  Prices shown are valid until the end of the month and while stocks last; delivery is free
  for orders above the threshold shown in your account. Members of the {plan} plan get early
  access.</p>
  <p>Read more about it on our site, or reply to this message if you have any question: our
  team answers within one working day, in English or in Chinese. 如有疑问，请直接回复本邮件。</p>
  <p><a class="button" href="https://shop.example.com/offers/{n}?utm_source=edm">See the
  offer</a></p>
</td></tr>
"""
PERSONAL = {
    "name": "{{ contact.name|default('customer') }}",
    "city": "{{ contact.attributes.city|default('your city') }}",
    "plan": "{{ contact.attributes.plan|default('basic')|title }}",
}
GENERIC = {"name": "customer", "city": "your city", "plan": "Gold"}


def newsletter(personalized_articles: int) -> str:
    """A ~20 KB newsletter of 16 articles, the first few personalized (3 values each)."""
    articles = "".join(
        ARTICLE.format(n=n, **(PERSONAL if n < personalized_articles else GENERIC))
        for n in range(16)
    )
    return (
        "<html><head><meta charset='utf-8'><title>{{ campaign.name }}</title><style>"
        + STYLE
        + "</style></head><body><table class='wrapper'><tr><td><table class='container'>"
        "<tr><td><p><a href='{{ view_online_url }}'>View this email in your browser</a></p>"
        "<h1>Hello {{ contact.name|default('there') }}, here is your weekly digest</h1>"
        "<p>Sent to {{ contact.email }} on {{ today|date('%Y-%m-%d') }}.</p></td></tr>"
        + articles
        + "<tr><td class='footer'><p>You receive this because you subscribed as "
        "{{ contact.email }}. <a href='{{ unsubscribe_url }}'>Unsubscribe</a>.</p>"
        "</td></tr></table></td></tr></table></body></html>"
    )


def campaign(personalized_articles: int) -> CampaignMessage:
    html = newsletter(personalized_articles)
    return CampaignMessage(
        campaign_id=42,
        campaign_name="Weekly digest 每周精选",
        content=Content(subject="{{ contact.name }}，本周精选 — weekly digest", html=html),
        sender=Sender("示例商店 Example Shop", "news@example.com", "support@example.com"),
        public_url="https://mail.example.com",
        bounce_domain="bounces.example.com",
        secret="bench-secret",
        list_name="Weekly digest",
        list_label="digest",
    )


def recipients(count: int) -> list[Recipient]:
    names = ["王芳", "Li Lei", "张伟", "Anna Schmidt", "李娜", "John O'Brien"]
    cities = ["杭州", "Shanghai", "Berlin", "北京", "Dublin"]
    return [
        Recipient(
            delivery_id=100_000 + i,
            contact_id=i,
            email=f"user{i}@example{i % 50}.com",
            name=names[i % len(names)],
            attributes={"city": cities[i % len(cities)], "plan": ["gold", "silver"][i % 2]},
        )
        for i in range(count)
    ]


def stdlib_build(compiled, recipient: Recipient) -> bytes:
    """The same message through the EmailMessage API, as a straightforward build would do."""
    rendered = render_recipient(compiled, recipient)
    sender = compiled.campaign.sender
    message = EmailMessage(policy=SMTP)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["From"] = formataddr((sender.name, sender.address))
    message["To"] = formataddr((recipient.name, recipient.email))
    message["Subject"] = rendered.subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message["Reply-To"] = sender.reply_to
    message["List-Unsubscribe"] = "<https://mail.example.com/u/x/>, <mailto:u@bounces.example.com>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message.as_bytes()


def rate(label: str, step, items: list) -> None:
    """Run one step over the items; print messages per CPU second of this process, and per
    wall-clock second (lower when other processes share the cores)."""
    wall, cpu = time.perf_counter(), time.process_time()
    for item in items:
        step(item)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    count = len(items)
    print(
        f"{label:<36} {count / cpu:>8,.0f} msgs/s  {cpu * 1e6 / count:>6,.0f} µs/msg"
        f"   (wall clock: {count / wall:,.0f} msgs/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    count = parser.parse_args().messages
    people = recipients(count)
    key = dkim.generate_private_key()
    signer = dkim.Signer(domain="example.com", selector="edm1", private_key_pem=key)
    print(f"Python {sys.version.split()[0]}, pid {os.getpid()}, {count:,} messages per line")

    for label, personalized in (("light: 12 values", 2), ("heavy: 54 values", 16)):
        started = time.perf_counter()
        compiled = compile_message(campaign(personalized))
        compile_ms = (time.perf_counter() - started) * 1000
        sample = build(compiled, people[0])
        html_size = len(render_recipient(compiled, people[0]).html.encode())
        print(
            f"\n{label} in HTML (as many in the text part): rendered HTML "
            f"{html_size / 1024:.1f} KiB, message {len(sample) / 1024:.1f} KiB; compiled once in "
            f"{compile_ms:.0f} ms (CSS inlined then: {compiled.content.css_inlined}, text part "
            f"read from the source then: {compiled.content.text is not None})"
        )
        print(f"{'':<36} {'per CPU second of this process':>30}")
        rate("render only", lambda r, c=compiled: render_recipient(c, r), people)
        rate("render + build", lambda r, c=compiled: build(c, r), people)
        rate("render + build + DKIM", lambda r, c=compiled: signer.sign(build(c, r)), people)
        rate("DKIM sign only (one built message)", signer.sign, [sample] * count)
        rate(
            "EmailMessage API (render + build)",
            lambda r, c=compiled: stdlib_build(c, r),
            people[: max(count // 5, 1)],
        )


if __name__ == "__main__":
    main()
