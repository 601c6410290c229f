"""Browser journeys of an import: upload, map columns, watch the bar, read the summary."""

import csv
import io
import random

import pytest
from playwright.sync_api import expect

from campaigns.models import Contact, ContactList
from tests.factories import write_xlsx

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都"]


def gbk_contacts(path, *, rows=2000, invalid=40, duplicates=60):
    """A GBK CSV of `rows` data rows: the last `invalid` + `duplicates` rows are bad ones."""
    rng = random.Random(3)
    good = rows - invalid - duplicates
    lines = [["邮箱", "姓名", "城市", "会员等级"]]
    for i in range(good):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        lines.append([f"kehu{i}@Example.CN", name, rng.choice(CITIES), rng.choice("金银铜")])
    for i in range(duplicates):
        lines.append([f"kehu{i * 7}@example.cn", "重复", "北京", "金"])
    for i in range(invalid):
        lines.append([f"坏地址{i}", "无效", "上海", "银"])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return path


def open_import_page(page):
    contact_list = ContactList.objects.create(name="客户 Customers")
    page.goto(f"/lists/{contact_list.pk}/")
    page.get_by_role("link", name="Import contacts").click()
    return contact_list


def summary(page, field):
    return page.locator(f".summary [data-field={field}]").inner_text()


def test_gbk_csv_with_bad_rows_imports_with_live_progress_and_rejected_rows(
    logged_in_page, rq_worker, tmp_path
):
    page = logged_in_page
    source = gbk_contacts(tmp_path / "客户名单.csv")
    contact_list = open_import_page(page)
    expect(page.get_by_text("up to 200 MB")).to_be_visible()
    page.set_input_files("input[type=file]", str(source))
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_text("(detected: gb18030)")).to_be_visible()
    expect(page.locator(".preview th").first).to_have_text("邮箱")
    expect(page.locator(".preview tbody tr").first).to_contain_text("kehu0@Example.CN")
    expect(page.get_by_label("Email address column")).to_have_value("0")
    page.get_by_label("Name column").select_option(label="姓名")
    page.get_by_role("button", name="Start import").click()

    bar = page.get_by_role("progressbar", name="Import progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(page.locator("[data-field=status_label]")).to_have_text("done")
    assert summary(page, "rows_read") == "2,000"
    assert summary(page, "created") == "1,900"
    assert summary(page, "added") == "1,900"
    assert summary(page, "duplicates") == "60"
    assert summary(page, "invalid") == "40"
    expect(page.get_by_role("button", name="Cancel import")).to_be_hidden()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download rejected rows (CSV)").click()
    text = download_info.value.path().read_text(encoding="utf-8-sig")
    rejected = list(csv.DictReader(io.StringIO(text)))
    assert len(rejected) == 100
    assert rejected[0] == {
        "row": "1902",
        "reason": "duplicate of row 2",
        "email": "kehu0@example.cn",
    }
    assert rejected[-1]["row"] == "2001"
    assert rejected[-1]["reason"].startswith("invalid email address")

    contact = Contact.objects.get(email="kehu5@example.cn")
    assert len(contact.name) >= 2 and contact.attributes["城市"] in CITIES
    assert contact_list.memberships.count() == 1900


def test_xlsx_upload_imports(logged_in_page, rq_worker, tmp_path):
    page = logged_in_page
    rows = [["Email", "Full name", "Company"]]
    rows += [[f"buyer{i}@example.com", f"Buyer {i}", "ACME <GmbH>"] for i in range(30)]
    rows += [["not-an-email", "X", "Y"]]
    source = write_xlsx(tmp_path / "buyers.xlsx", rows)
    open_import_page(page)
    page.set_input_files("input[type=file]", str(source))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Excel (XLSX)")).to_be_visible()
    expect(page.get_by_label("Email address column")).to_have_value("0")
    page.get_by_label("Name column").select_option(label="Full name")
    page.get_by_role("button", name="Start import").click()

    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute(
        "aria-valuenow", "100", timeout=60_000
    )
    assert summary(page, "created") == "30"
    assert summary(page, "invalid") == "1"
    page.get_by_role("link", name="See the contacts").click()
    expect(page.get_by_role("cell", name="buyer7@example.com")).to_be_visible()
    expect(page.get_by_text("ACME <GmbH>").first).to_be_visible()  # shown as text, escaped
