"""Files the product hands out: CSV in UTF-8 with a BOM (so Excel reads it), formulas
disarmed; a contact's data as a JSON download."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from urllib.parse import quote

from django.http import StreamingHttpResponse
from django.utils.text import slugify

from campaigns.selectors.data_rights import contact_data_export_chunks

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Google
# Sheets (OWASP "CSV injection"); a leading apostrophe makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """The cell's text, prefixed with ' when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(
    header: list[str], rows: Iterable[Iterable[object]], per_chunk: int = 500
) -> Iterator[str]:
    """A CSV file as text chunks: a BOM first, every cell passed through spreadsheet_safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(codecs.BOM_UTF8.decode("utf-8"))
    writer.writerow([spreadsheet_safe(cell) for cell in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        if count % per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def contact_export_response(contact) -> StreamingHttpResponse:
    """The contact's data (campaigns.selectors.data_rights) as a streamed JSON download."""
    response = StreamingHttpResponse(
        contact_data_export_chunks(contact), content_type="application/json; charset=utf-8"
    )
    # The id, not the address: file names end up in download lists and browser history.
    name = f"contact-{contact.pk}.json"
    response["Content-Disposition"] = f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    return response


def attachment_disposition(name: str, *, fallback: str, suffix: str = ".csv") -> str:
    """A Content-Disposition for downloading `name` + suffix, non-ASCII names included.

    RFC 6266: `filename*` (RFC 8187, UTF-8 percent-encoded) is what browsers use; the plain
    `filename` is for clients that know only that one, so it is ASCII (`fallback` when the
    name has no ASCII letters at all, as a list named 客户 has not). Django's
    content_disposition_header gives only one of the two.
    """
    ascii_name = (slugify(name) or fallback) + suffix
    unicode_name = (slugify(name, allow_unicode=True) or fallback) + suffix
    header = f'attachment; filename="{ascii_name}"'
    if unicode_name != ascii_name:
        header += f"; filename*=UTF-8''{quote(unicode_name, safe='')}"
    return header
