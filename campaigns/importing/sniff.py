"""What a contact file is: its format, its text encoding, and its CSV delimiter."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import charset_normalizer

from campaigns.importing.errors import BadFileError

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")

# Offered in the encoding menu; the detected one is added when it is not among them.
COMMON_ENCODINGS = (
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16 (with BOM)"),
    ("utf-16-le", "UTF-16 LE"),
    ("utf-16-be", "UTF-16 BE"),
    ("gb18030", "Chinese, simplified (GB18030 / GBK / GB2312)"),
    ("big5", "Chinese, traditional (Big5)"),
    ("shift_jis", "Japanese (Shift JIS)"),
    ("euc-kr", "Korean (EUC-KR)"),
    ("cp1252", "Western European (Windows-1252)"),
    ("cp1250", "Central European (Windows-1250)"),
    ("cp1251", "Cyrillic (Windows-1251)"),
    ("latin-1", "ISO-8859-1"),
)

# First bytes of files people rename to .csv by mistake, and what to call them.
SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file; save it as .xlsx or CSV"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"RIFF", "a media file"),
    (b"{\\rtf", "a Rich Text document"),
)

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# What our users' files come in besides UTF-8. Asking charset-normalizer to choose among
# these first matters: on a few hundred bytes of GBK it otherwise ranks Thai (cp874) first.
LIKELY_ENCODINGS = [
    "gb18030",
    "big5",
    "utf_16_le",
    "utf_16_be",
    "shift_jis",
    "euc_kr",
    "cp1252",
    "cp1250",
    "cp1251",
    "latin_1",
]

# charset-normalizer names a family by its smallest member; read with the superset.
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "hz": "gb18030", "ascii": "utf-8"}


def detect_format(path: Path) -> str:
    """ "csv", "zip" or "xlsx", from the file's first bytes (never from its name)."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head:
        raise BadFileError("The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            raise BadFileError(f"This is not a contact file: it looks like {what}.")
    return "csv"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise BadFileError("The file starts like a ZIP archive but is damaged.") from None
    return "xlsx" if "xl/workbook.xml" in names else "zip"


def detect_encoding(sample: bytes) -> str:
    """The text encoding of `sample`, the first bytes of a file (a Python codec name)."""
    for bom, encoding in BOMS:
        if sample.startswith(bom):
            return encoding
    if not sample.strip():
        raise BadFileError("The file is empty.")
    text_part = _whole_lines(sample)
    if b"\x00" not in text_part:
        try:
            text_part.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8"
    matches = charset_normalizer.from_bytes(text_part, cp_isolation=LIKELY_ENCODINGS)
    if not matches:
        matches = charset_normalizer.from_bytes(text_part)
    best = matches.best()
    if best is None:
        raise BadFileError(
            "This is not a text file in any encoding we know: is it an image, or a "
            "spreadsheet in a format other than CSV or XLSX?"
        )
    encoding = SUPERSETS.get(best.encoding, best.encoding).replace("_", "-")
    if encoding in SINGLE_BYTE_LATIN and _reads_as_gb2312(text_part):
        return "gb18030"
    if encoding in ("cp1250", "latin-1", "iso8859-15") and any(
        match.encoding == "cp1252" and match.chaos <= best.chaos for match in matches
    ):
        encoding = "cp1252"  # as likely, and what Western European Windows writes
    return encoding


SINGLE_BYTE_LATIN = ("cp1250", "cp1252", "latin-1", "iso8859-15")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
# A character of GB2312 (rows 1-87: punctuation, kana, hanzi) in GBK/GB18030's two bytes.
_GB2312_CHARACTER = re.compile(rb"[\xa1-\xf7][\xa1-\xfe]")


def _reads_as_gb2312(sample: bytes) -> bool:
    """Whether every non-ASCII byte of the sample pairs into a GB2312 character.

    charset-normalizer calls a mostly-ASCII GBK file (addresses, short names like 用户12)
    Central European: a Latin code page decodes any bytes. Latin text almost never has
    every accented letter followed by another high byte in this range, so a sample where
    all of them pair up (and there are a few) is Chinese.
    """
    high = len(_HIGH_BYTE.findall(sample))
    return high >= 8 and len(_GB2312_CHARACTER.findall(sample)) * 2 == high


def _whole_lines(sample: bytes) -> bytes:
    """The sample cut after its last newline, so no multi-byte character is split."""
    if len(sample) < SAMPLE_BYTES:
        return sample
    cut = sample.rfind(b"\n")
    return sample[: cut + 1] if cut > 0 else sample


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, or BadFileError for a name Python does not know."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise BadFileError(f"{encoding!r} is not a text encoding we know.") from None


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the sample's lines into the most, equally many, columns."""
    lines = text.splitlines()[:50]
    best, best_score = ",", (0, 1)
    for delimiter in DELIMITERS:
        try:
            widths = [
                len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
            ]
        except csv.Error:
            continue
        if not widths:
            continue
        width, rows = Counter(widths).most_common(1)[0]
        score = (rows, width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best
