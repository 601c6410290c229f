"""Tables read from contact files: a header and numbered rows of text cells, streamed.

Every reader works in bounded memory whatever the file: CSV lines longer than
MAX_LINE_CHARS stop the read with a message instead of being held whole, and XLSX is read
with openpyxl's read-only streaming parser (python-calamine reads ~20x faster but loads the
whole sheet: ~100 MB for 200,000 rows, measured with bench/bench_xlsx.py).
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from campaigns.importing.errors import BadFileError
from campaigns.importing.sniff import SAMPLE_BYTES, detect_delimiter, detect_encoding

MAX_LINE_CHARS = 1024 * 1024
# Uncompressed worksheet + shared-strings XML up to which a workbook is loaded whole.
CALAMINE_MAX_XML_BYTES = 24 * 1024 * 1024
CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".tab")


class RowProblem(Exception):
    """A row that cannot be read; the message has a {row} placeholder for its number."""


class Table:
    """A header and an iterator of rows; `position()` is how many bytes of the file are read."""

    header: list[str]
    encoding: str = ""
    delimiter: str = ""

    def __init__(self, cells: Iterator[list[str]], position: Callable[[], int]):
        self._cells = cells
        self.position = position
        self._number = 1
        try:
            first = next(self._cells, None)
        except RowProblem as exc:
            raise BadFileError(str(exc).format(row=1)) from None
        if first is None or not any(cell.strip() for cell in first):
            raise BadFileError(
                "The first row is empty. It should name the columns (e.g. email, name)."
            )
        self.header = [cell.strip() for cell in first]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of rows after the header that have a non-blank cell.

        Rows are numbered as a spreadsheet numbers them: the header is row 1.
        """
        number = self._number
        try:
            for number, cells in enumerate(self._cells, start=self._number + 1):
                if any(cells):
                    yield number, cells
        except RowProblem as exc:
            raise BadFileError(str(exc).format(row=number + 1)) from None
        finally:
            self._number = number

    @property
    def last_number(self) -> int:
        """The number of the last row read so far."""
        return self._number


@dataclass(frozen=True)
class Source:
    """Where the table is in the uploaded file, and how to read it."""

    path: Path
    file_format: str  # "csv", "zip" or "xlsx"
    encoding: str = ""  # empty: detect
    delimiter: str = ""  # empty: detect
    max_bytes: int | None = None  # limit on a CSV inside a ZIP


@contextlib.contextmanager
def open_table(source: Source) -> Iterator[Table]:
    """The table in `source`; raises BadFileError with a message for the user."""
    with source.path.open("rb") as raw:
        if source.file_format == "xlsx":
            yield _xlsx_table(raw)
        elif source.file_format == "zip":
            with zipfile.ZipFile(raw) as archive:
                member = _csv_member(archive, source.max_bytes)
                with archive.open(member) as inner:
                    yield _csv_table(inner, raw.tell, source)
        else:
            yield _csv_table(raw, raw.tell, source)


def _csv_member(archive: zipfile.ZipFile, max_bytes: int | None) -> zipfile.ZipInfo:
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and info.filename.lower().endswith(CSV_SUFFIXES)
    ]
    if not members:
        raise BadFileError("The ZIP archive holds no CSV file.")
    if len(members) > 1:
        names = ", ".join(info.filename for info in members[:5])
        raise BadFileError(
            f"The ZIP archive holds {len(members)} CSV files ({names}); "
            "put one CSV file in each ZIP."
        )
    member = members[0]
    if member.flag_bits & 0x1:
        raise BadFileError("The ZIP archive is password-protected; upload the CSV file itself.")
    if max_bytes is not None and member.file_size > max_bytes:
        raise BadFileError(
            f"The CSV file in the ZIP archive is {megabytes(member.file_size)} uncompressed; "
            f"the limit is {megabytes(max_bytes)}."
        )
    return member


def _csv_table(stream: BinaryIO, position: Callable[[], int], source: Source) -> Table:
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)  # a ZipExtFile rewinds by decompressing again: cheap for the sample
    if not sample:
        raise BadFileError("The file is empty.")
    encoding = source.encoding or detect_encoding(sample)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    delimiter = source.delimiter or detect_delimiter(
        sample.decode(encoding, errors="replace")[:65536]
    )
    table = Table(_csv_cells(text, delimiter), position)
    table.encoding, table.delimiter = encoding, delimiter
    # A TextIOWrapper closes the file under it when collected: keep it while the table lives.
    table.stream = text
    return table


def _csv_cells(text: io.TextIOWrapper, delimiter: str) -> Iterator[list[str]]:
    try:
        yield from csv.reader(_bounded_lines(text), delimiter=delimiter, strict=True)
    except csv.Error as exc:
        raise RowProblem(_csv_problem(str(exc))) from None


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    readline = text.readline
    while line := readline(MAX_LINE_CHARS):
        if len(line) >= MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise RowProblem(
                "Row {row} is longer than 1 MB without a line break: this is not a contact "
                "file, or its line breaks were lost."
            )
        yield line


def _csv_problem(error: str) -> str:
    if "unexpected end of data" in error or "field larger than field limit" in error:
        return (
            'Row {row} opens a quote (") that is never closed, so the rest of the file '
            "would be read as one cell (unbalanced quotes). Close the quote, or remove it, "
            "and upload the file again."
        )
    if "expected after" in error:
        return (
            'Row {row} has text right after a closing quote (like "Smith" Jr). Put the '
            "whole cell in quotes, doubling the quotes inside it, and upload again."
        )
    return "Row {row} cannot be read as CSV: " + error.replace("{", "(").replace("}", ")") + "."


def _xlsx_table(raw: BinaryIO) -> Table:
    try:
        with zipfile.ZipFile(raw) as archive:
            xml_bytes = sum(
                info.file_size
                for info in archive.infolist()
                if info.filename.startswith("xl/worksheets/")
                or info.filename == "xl/sharedStrings.xml"
            )
        raw.seek(0)
        if xml_bytes <= CALAMINE_MAX_XML_BYTES:
            return _calamine_table(raw)
        return _openpyxl_table(raw)
    except (CalamineError, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BadFileError(
            f"The Excel file cannot be read ({exc}); save it again as .xlsx or CSV."
        ) from None


def _calamine_table(raw: BinaryIO) -> Table:
    workbook = CalamineWorkbook.from_filelike(raw)
    visible = [
        m.name
        for m in workbook.sheets_metadata
        if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet
    ]
    if not visible:
        raise BadFileError("The Excel file has no visible sheet.")
    sheet = workbook.get_sheet_by_name(visible[0])
    size, total, done = os.fstat(raw.fileno()).st_size, sheet.total_height + 1, [0]

    def cells() -> Iterator[list[str]]:
        for values in sheet.iter_rows():
            done[0] += 1
            yield _xlsx_cells(values)

    # The sheet is read whole up front; progress is told by rows instead of bytes.
    return Table(cells(), lambda: min(size, size * done[0] // total))


def _openpyxl_table(raw: BinaryIO) -> Table:
    import openpyxl  # imported here: only big XLSX imports pay for it

    workbook = openpyxl.load_workbook(raw, read_only=True, data_only=True)
    sheets = [sheet for sheet in workbook.worksheets if sheet.sheet_state == "visible"]
    if not sheets:
        raise BadFileError("The Excel file has no visible sheet.")
    rows = sheets[0].iter_rows(values_only=True)
    return Table((_xlsx_cells(values) for values in rows), raw.tell)


def _xlsx_cells(values: tuple | list) -> list[str]:
    cells = [_xlsx_text(value) for value in values]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        midnight = value.time() == datetime.time(0)
        return value.date().isoformat() if midnight else value.isoformat(sep=" ")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def megabytes(size: int) -> str:
    """A byte count for people: "200 MB", "1.5 MB", "12 KB", "900 bytes"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 10 or value.is_integer() else f"{value:.1f} MB"
