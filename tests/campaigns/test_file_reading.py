"""Reading contact files: encodings, delimiters, ZIP and XLSX, detected and shown."""

import pytest

from campaigns.importing.sniff import SAMPLE_BYTES, detect_encoding
from campaigns.models import Contact
from tests.factories import (
    csv_text,
    make_list,
    people,
    run_import,
    write_csv,
    write_xlsx,
    write_zip,
)

pytestmark = pytest.mark.django_db

CHINESE_SIMPLIFIED = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"]
CHINESE_TRADITIONAL = [
    "陳大文",
    "林小明",
    "黃志強",
    "張美玲",
    "李嘉欣",
    "王建國",
    "劉德華",
    "吳淑芬",
]
WESTERN = ["Müller", "José Ñúñez", "Françoise Œuvre", "Søren Ærø", "Zoë “Quote”", "Ångström"]


def rows_with(names: list[str], count: int = 60) -> list[list[str]]:
    rows = [["邮箱" if names is CHINESE_SIMPLIFIED else "email", "name", "city"]]
    for i in range(count):
        rows.append([f"user{i}@example.com", names[i % len(names)], names[(i + 3) % len(names)]])
    return rows


@pytest.mark.parametrize(
    ("encoding", "names", "detected"),
    [
        ("gbk", CHINESE_SIMPLIFIED, "gb18030"),
        ("gb18030", CHINESE_SIMPLIFIED, "gb18030"),
        ("big5", CHINESE_TRADITIONAL, "big5"),
        ("utf-16", CHINESE_TRADITIONAL, "utf-16"),
        ("utf-8-sig", WESTERN, "utf-8-sig"),
        ("utf-8", CHINESE_SIMPLIFIED, "utf-8"),
        ("cp1252", WESTERN, "cp1252"),
    ],
)
def test_encoding_is_detected_and_text_arrives_intact(tmp_path, encoding, names, detected):
    source = write_csv(tmp_path / "contacts.csv", rows_with(names), encoding=encoding)
    imp = run_import(make_list(), source)
    assert imp.detected_encoding == detected
    assert imp.status == "done", imp.error
    assert imp.created == 60
    contact = Contact.objects.get(email="user4@example.com")
    assert contact.name == names[4 % len(names)]
    assert list(contact.attributes.values()) == [names[7 % len(names)]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected(tmp_path, delimiter):
    rows = [
        ["email", "name", "note"],
        *([f"d{i}@example.com", f"N {i}", "a, b; c"] for i in range(9)),
    ]
    imp = run_import(make_list(), write_csv(tmp_path / "c.csv", rows, delimiter=delimiter))
    assert imp.delimiter == delimiter
    assert imp.created == 9
    assert Contact.objects.get(email="d3@example.com").attributes == {"note": "a, b; c"}


def test_csv_inside_a_zip_is_read(tmp_path):
    data = b"email,name\r\nzip1@example.com,Zed\r\nzip2@example.com,Zoe\r\n"
    source = write_zip(tmp_path / "contacts.zip", {"__MACOSX/._c.csv": b"junk", "c.csv": data})
    imp = run_import(make_list(), source)
    assert (imp.file_format, imp.status, imp.created) == ("zip", "done", 2)


def test_xlsx_cells_become_text(tmp_path):
    import datetime

    rows = [
        ["Email", "Name", "Age", "Joined", "VIP"],
        ["x1@example.com", "Xu", 42, datetime.date(2024, 3, 1), True],
        ["x2@example.com", None, 3.5, None, False],
    ]
    imp = run_import(make_list(), write_xlsx(tmp_path / "c.xlsx", rows))
    assert (imp.file_format, imp.status, imp.created) == ("xlsx", "done", 2)
    assert Contact.objects.get(email="x1@example.com").attributes == {
        "Age": "42",
        "Joined": "2024-03-01",
        "VIP": "TRUE",
    }
    assert Contact.objects.get(email="x2@example.com").attributes == {"Age": "3.5", "VIP": "FALSE"}


def test_bytes_invalid_in_the_chosen_encoding_reject_the_row_not_the_file(tmp_path):
    # Detection reads the first 256 KB, which are UTF-8; the broken row comes after them.
    good = csv_text(people(9000, domain="example.org")).encode()
    bad = b"bad@example.com,Ren\r\n".replace(b"Ren", b"R\xe9n")  # Latin-1 é
    source = tmp_path / "c.csv"
    source.write_bytes(good + bad)
    imp = run_import(make_list(), source)
    assert imp.detected_encoding == "utf-8"
    assert (imp.created, imp.invalid) == (9000, 1)
    rejection = imp.rejections.get()
    assert rejection.row == 9002
    assert rejection.reason == "holds bytes that are not valid utf-8: is that the file's encoding?"


def test_big_xlsx_is_streamed_by_openpyxl_with_the_same_result(tmp_path, monkeypatch):
    from campaigns.importing import readers

    monkeypatch.setattr(readers, "CALAMINE_MAX_XML_BYTES", 0)  # as if the sheet were huge
    rows = [["Email", "Name", "Age"], ["x1@example.com", "Xu", 42], ["bad", "B", 1]]
    imp = run_import(make_list(), write_xlsx(tmp_path / "c.xlsx", rows))
    assert (imp.status, imp.created, imp.invalid) == ("done", 1, 1)
    assert Contact.objects.get().attributes == {"Age": "42"}


def test_damaged_xlsx_is_refused_with_a_message(tmp_path):
    from campaigns.importing.errors import BadFileError
    from campaigns.services import imports as import_services
    from tests.factories import uploaded

    source = write_zip(tmp_path / "c.xlsx", {"xl/workbook.xml": b"<not really>"})
    with pytest.raises(BadFileError, match="The Excel file cannot be read"):
        import_services.import_create(
            contact_list=make_list(), path=uploaded(source), file_name="c.xlsx"
        )


def test_a_mostly_ascii_gbk_file_with_short_chinese_names_is_read_as_gbk():
    # What a new user uploaded: charset-normalizer alone calls this Central European.
    rows = [["邮箱", "姓名"], *([f"user{i:06}@sina.com", f"用户{i}"] for i in range(5000))]
    sample = csv_text(rows).encode("gbk")[:SAMPLE_BYTES]
    assert detect_encoding(sample) == "gb18030"


@pytest.mark.parametrize(
    ("encoding", "names"),
    [
        ("cp1252", WESTERN),
        ("cp1250", ["Łódź", "Zażółć gęślą jaźń", "Příliš žluťoučký kůň", "Ščasná"]),
    ],
)
def test_latin_files_are_not_taken_for_gbk(encoding, names):
    sample = csv_text(rows_with(names, count=200)).encode(encoding)[:SAMPLE_BYTES]
    assert detect_encoding(sample) != "gb18030"
