"""Tracked links and the pixel: sources rewritten once per campaign, tokens filled per recipient.

When a campaign is compiled, each static `http(s)` link of its HTML (and layout) and each URL
written in its text part is replaced by a marker word naming the link's index; the campaign's
distinct URLs become its links table, one row each. Building a message then only swaps the
markers for this delivery's signed tokens (one regex pass) and puts the pixel before
`</body>`. The marker is a plain word, so it survives CSS inlining and the HTML-to-text
reading of the HTML (which keeps link targets), and it carries a random nonce, so no
content can contain one by accident.

Left alone: `mailto:`, `tel:`, anchors and other non-HTTP links; links marked `data-notrack`;
and links whose URL contains template output (`href="{{ unsubscribe_url }}"`,
`href="https://shop.example/?u={{ contact.email }}"`). Those vary per recipient, so they are
not one row of the links table; carrying the rendered URL in a signed token would make tokens
long and let the redirect reach URLs the campaign never listed, so they are not tracked.
Unsubscribe and view-online links are always template output, hence never tracked.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, replace

from campaigns.templating import Content, RenderedContent
from delivery.engagement.tokens import Mark, click_url, open_url

_LINK_TAG = re.compile(r"<(?:a|area)\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
_NOTRACK = re.compile(r"\sdata-notrack\b", re.IGNORECASE)
_JINJA = re.compile(r"\{[{%#]")
# A URL written in plain text ends at whitespace, quotes, brackets or template syntax;
# trailing punctuation belongs to the sentence.
_TEXT_URL = re.compile(r"https?://[^\s<>\"'{}()\[\]]+", re.IGNORECASE)
_TRAILING = ".,;:!?"
_TRACKED_SCHEMES = ("http://", "https://")
PIXEL = (
    '<img src="{url}" width="1" height="1" alt="" '
    'style="display:block;width:1px;height:1px;border:0">'
)


@dataclass(frozen=True)
class Tracking:
    """A campaign's tracked links and switches; `apply` tracks one recipient's message."""

    links: tuple[str, ...]  # link index i + 1 is links[i]
    written: tuple[str, ...]  # each link's href as written in the HTML (entities kept)
    opens: bool
    public_url: str
    secret: str | bytes
    marker: re.Pattern[str]

    def apply(
        self, rendered: RenderedContent, campaign_id: int, delivery_id: int, tracked: bool
    ) -> RenderedContent:
        """The message with this delivery's tokens, or with the original links if untracked."""
        if not tracked or delivery_id <= 0:
            return rendered._replace(
                html=self.marker.sub(lambda m: self.written[int(m.group(1)) - 1], rendered.html),
                text=self.marker.sub(lambda m: self.links[int(m.group(1)) - 1], rendered.text),
            )

        urls: dict[str, str] = {}  # a link repeated in the message is signed once

        def token_url(match: re.Match[str]) -> str:
            index = match.group(1)
            url = urls.get(index)
            if url is None:
                mark = Mark(campaign_id, delivery_id, int(index))
                url = urls[index] = click_url(self.public_url, mark, self.secret)
            return url

        body = self.marker.sub(token_url, rendered.html) if self.links else rendered.html
        if self.opens:
            pixel = PIXEL.format(
                url=open_url(self.public_url, Mark(campaign_id, delivery_id), self.secret)
            )
            body = _before_body_end(body, pixel)
        text = self.marker.sub(token_url, rendered.text) if self.links else rendered.text
        return rendered._replace(html=body, text=text)


def track_content(
    content: Content, *, clicks: bool, opens: bool, public_url: str, secret: str | bytes
) -> tuple[Content, Tracking]:
    """`content` with its static links replaced by markers, and the campaign's Tracking."""
    nonce = secrets.token_hex(5)
    marker = re.compile(f"edmtrk{nonce}n([0-9]+)z")
    indexes: dict[str, int] = {}
    written: list[str] = []

    def index_of(url: str, as_written: str) -> str:
        if url not in indexes:
            indexes[url] = len(indexes) + 1
            written.append(as_written)
        return f"edmtrk{nonce}n{indexes[url]}z"

    if clicks:
        content = replace(
            content,
            html=_rewrite_html(content.html, index_of),
            layout=_rewrite_html(content.layout, index_of),
            text=_rewrite_text(content.text, index_of),
        )
    tracking = Tracking(
        links=tuple(indexes),
        written=tuple(written),
        opens=opens,
        public_url=public_url,
        secret=secret,
        marker=marker,
    )
    return content, tracking


def _rewrite_html(source: str, index_of) -> str:
    def tag(match: re.Match[str]) -> str:
        text = match.group()
        if _NOTRACK.search(text):
            return text
        return _HREF.sub(href, text, count=1)

    def href(match: re.Match[str]) -> str:
        value = next(v for v in match.groups()[1:] if v is not None)
        url = html.unescape(value).strip()
        if _JINJA.search(value) or not url.lower().startswith(_TRACKED_SCHEMES):
            return match.group()
        return f'{match.group(1)}"{index_of(url, value)}"'

    return _LINK_TAG.sub(tag, source)


def _rewrite_text(source: str, index_of) -> str:
    def url(match: re.Match[str]) -> str:
        found = match.group()
        end = match.end()
        if end < len(source) and source[end] == "{":
            return found  # continues with template output: varies per recipient
        kept = found.rstrip(_TRAILING)
        return index_of(kept, html.escape(kept)) + found[len(kept) :]

    return _TEXT_URL.sub(url, source)


def _before_body_end(body: str, pixel: str) -> str:
    """The HTML with `pixel` at the end of its body (where it loads last)."""
    at = body.rfind("</body>")
    if at < 0:
        at = body.rfind("</BODY>")
    return body + pixel if at < 0 else body[:at] + pixel + body[at:]
