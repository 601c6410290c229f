"""Campaign links are rewritten once per campaign; each message gets its own tokens."""

import dataclasses
import re

from campaigns.templating import Content
from delivery.engagement.tokens import read_click, read_open
from delivery.message import CampaignMessage, Recipient, Sender, compile_message, render_recipient

SECRET = "test-secret"
PUBLIC = "https://mail.example.com"
HTML = (
    "<html><head><style>a { color: #d23f31; }</style></head><body>"
    '<p><a href="https://shop.example/sale?a=1&amp;b=2">Sale</a></p>'
    "<p><a href='https://shop.example/sale?a=1&amp;b=2'>Sale again</a></p>"
    '<p><a class="x" href="https://shop.example/blog">Blog</a></p>'
    '<p><a href="https://shop.example/secret" data-notrack>Not tracked</a></p>'
    '<p><a href="mailto:help@shop.example">Mail</a> <a href="tel:+8612345">Call</a></p>'
    '<p><a href="#top">Top</a></p>'
    '<p><a href="https://shop.example/u?e={{ contact.email }}">Mine</a></p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> <a href="{{ view_online_url }}">Web</a></p>'
    "</body></html>"
)
TEXT = (
    "Sale: https://shop.example/sale?a=1&b=2.\n"
    "News: https://shop.example/news\n"
    "{{ unsubscribe_url }}"
)
TRACKED = Recipient(delivery_id=5001, contact_id=77, email="li@example.cn", tracked=True)


def compiled(**changes):
    values = dict(
        campaign_id=42,
        campaign_name="Sale",
        content=Content(subject="Hi", html=HTML, text=TEXT),
        sender=Sender("Shop", "news@shop.example"),
        public_url=PUBLIC,
        bounce_domain="bounces.example.com",
        secret=SECRET,
        track_opens=True,
        track_clicks=True,
    )
    values.update(changes)
    return compile_message(CampaignMessage(**values))


def hrefs(html: str) -> list[str]:
    return re.findall(r"""href=["']([^"']*)["']""", html)


def test_static_links_become_tracked_links_to_the_campaigns_link_rows():
    message = compiled()
    assert message.tracking.links == (
        "https://shop.example/sale?a=1&b=2",
        "https://shop.example/blog",
        "https://shop.example/news",
    )
    found = hrefs(render_recipient(message, TRACKED).html)
    tracked = [h for h in found if h.startswith(f"{PUBLIC}/l/")]
    marks = [read_click(h.removeprefix(f"{PUBLIC}/l/"), SECRET) for h in tracked]
    assert [(m.campaign_id, m.delivery_id, m.link_index) for m in marks] == [
        (42, 5001, 1),
        (42, 5001, 1),
        (42, 5001, 2),
    ]


def test_unsubscribe_view_online_mailto_tel_anchors_notrack_and_personal_links_are_left_alone():
    found = hrefs(render_recipient(compiled(), TRACKED).html)
    assert "https://shop.example/secret" in found
    assert "mailto:help@shop.example" in found
    assert "tel:+8612345" in found
    assert "#top" in found
    assert "https://shop.example/u?e=li@example.cn" in found
    assert any(h.startswith(f"{PUBLIC}/u/") for h in found)
    assert any(h.startswith(f"{PUBLIC}/v/") for h in found)


def test_urls_of_the_text_part_are_tracked_too_and_keep_their_punctuation():
    text = render_recipient(compiled(), TRACKED).text
    lines = text.splitlines()
    assert lines[0].startswith(f"Sale: {PUBLIC}/l/42-5001-1-") and lines[0].endswith(".")
    assert lines[1].startswith(f"News: {PUBLIC}/l/42-5001-3-")
    assert f"{PUBLIC}/u/" in lines[2]


def test_a_text_part_read_from_the_html_carries_the_tracked_links():
    message = compiled(content=Content(subject="Hi", html=HTML))
    assert f"({PUBLIC}/l/42-5001-2-" in render_recipient(message, TRACKED).text


def test_the_pixel_is_the_last_thing_in_the_body():
    html = render_recipient(compiled(), TRACKED).html
    pixel = re.search(r'<img src="([^"]+)" width="1" height="1" alt=""[^>]*></body>', html)
    assert pixel is not None
    token = pixel.group(1).removeprefix(f"{PUBLIC}/o/").removesuffix(".gif")
    assert read_open(token, SECRET) == (42, 5001, 0)


def test_an_untracked_recipient_gets_the_original_links_and_no_pixel():
    html = render_recipient(compiled(), dataclasses.replace(TRACKED, tracked=False)).html
    assert "/l/" not in html and "/o/" not in html and "edmtrk" not in html
    assert 'href="https://shop.example/sale?a=1&amp;b=2"' in html
    assert "https://shop.example/blog" in hrefs(html)
    text = render_recipient(compiled(), dataclasses.replace(TRACKED, tracked=False)).text
    assert text.startswith("Sale: https://shop.example/sale?a=1&b=2.\n")


def test_previews_and_test_sends_are_not_tracked():
    html = render_recipient(compiled(), Recipient(0, 0, "alex@example.com", tracked=True)).html
    assert "/l/" not in html and "/o/" not in html


def test_switching_clicks_off_keeps_links_and_switching_opens_off_drops_the_pixel():
    html = render_recipient(compiled(track_clicks=False), TRACKED).html
    assert "/l/" not in html and f"{PUBLIC}/o/" in html
    html = render_recipient(compiled(track_opens=False), TRACKED).html
    assert f"{PUBLIC}/l/" in html and "/o/" not in html


def test_a_campaigns_link_indexes_do_not_depend_on_which_process_compiled_it():
    assert compiled().tracking.links == compiled().tracking.links
