"""Uploaded files stay on disk only while an import keeps them: refused requests, extra parts
and files a crash left behind are deleted."""

from __future__ import annotations

import os
import secrets
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rq.cron import CronScheduler

from campaigns import jobs
from campaigns.models import Import
from campaigns.services import imports as import_services
from campaigns.services.uploads import uploads_sweep
from campaigns.uploads import new_upload_path
from edm import redis as edm_redis
from tests.factories import make_list, people, uploaded, write_csv


def files_in(directory) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def import_url(contact_list) -> str:
    return reverse("campaigns:list_import", args=[contact_list.pk])


@pytest.mark.django_db
def test_an_upload_refused_for_a_missing_csrf_token_leaves_no_file(empty_uploads, tmp_path, caplog):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(get_user_model().objects.create_user("ada"))
    contact_list = make_list()
    browser.get(import_url(contact_list))  # the CSRF cookie: the token is read from the form
    with write_csv(tmp_path / "c.csv", people(3)).open("rb") as handle:
        response = browser.post(import_url(contact_list), {"file": handle})
    assert response.status_code == 403
    assert "CSRF token missing" in caplog.text  # looked for in the form: the file was read
    assert files_in(empty_uploads) == []


@pytest.mark.django_db
def test_extra_file_parts_in_the_import_form_leave_only_the_imports_file(
    admin_client, empty_uploads, tmp_path
):
    contact_list = make_list()
    source = write_csv(tmp_path / "c.csv", people(3))
    with source.open("rb") as handle, source.open("rb") as junk:
        response = admin_client.post(import_url(contact_list), {"file": handle, "junk": junk})
    imp = Import.objects.get()
    assert response["Location"] == imp.get_absolute_url()
    assert files_in(empty_uploads) == [imp.file_path]


@pytest.mark.django_db
def test_two_files_in_the_import_form_are_refused_and_leave_no_file(
    admin_client, empty_uploads, tmp_path
):
    contact_list = make_list()
    source = write_csv(tmp_path / "c.csv", people(3))
    with source.open("rb") as first, source.open("rb") as second:
        response = admin_client.post(import_url(contact_list), {"file": [first, second]})
    assert response.status_code == 200
    assert "Choose one file." in response.content.decode()
    assert not Import.objects.exists()
    assert files_in(empty_uploads) == []


def multipart(fields: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it: (body, Content-Type)."""
    boundary = secrets.token_hex(12)
    body = b""
    for name, (file_name, data) in fields.items():
        body += (
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_a_real_upload_without_a_csrf_token_leaves_no_file(live_server, empty_uploads, caplog):
    contact_list = make_list()
    browser = Client()
    browser.force_login(get_user_model().objects.create_user("ada"))
    browser.get(import_url(contact_list))  # the CSRF cookie, as a browser would have it
    cookie = "; ".join(
        f"{name}={browser.cookies[name].value}"
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    )
    csv = b"email,name\r\nana@shop.example,Ana\r\n"
    body, content_type = multipart({"file": ("a.csv", csv), "junk": ("c.csv", csv)})
    request = urllib.request.Request(
        live_server.url + import_url(contact_list),
        data=body,
        headers={"Content-Type": content_type, "Cookie": cookie},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    assert "CSRF token missing" in caplog.text
    assert files_in(empty_uploads) == []


def age(path, days: float) -> None:
    stamp = (timezone.now() - timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))


@pytest.mark.django_db
def test_the_sweep_deletes_day_old_files_no_import_names_and_keeps_the_rest(
    empty_uploads, tmp_path
):
    kept = import_services.import_create(
        contact_list=make_list(),
        path=uploaded(write_csv(tmp_path / "c.csv", people(3))),
        file_name="c.csv",
    )
    age(empty_uploads / kept.file_path, days=3)
    orphan, recent = new_upload_path("old.csv"), new_upload_path("new.csv")
    orphan.write_bytes(b"email\r\n")
    recent.write_bytes(b"email\r\n")
    age(orphan, days=1.1)
    age(recent, days=0.9)  # may still become an import

    assert uploads_sweep() == 1
    assert files_in(empty_uploads) == sorted([kept.file_path, recent.name])


@pytest.mark.django_db(transaction=True)
def test_the_cron_process_runs_the_upload_sweep_in_a_worker(empty_uploads, redis_db, rq_burst):
    cron = CronScheduler(connection=edm_redis.connection())
    cron.load_config_from_file("delivery.cron")
    (sweep,) = [job for job in cron.get_jobs() if job.func is jobs.uploads_sweep]
    assert sweep.interval == 3600
    orphan = new_upload_path("old.csv")
    orphan.write_bytes(b"email\r\n")
    age(orphan, days=2)

    sweep.enqueue(edm_redis.connection())
    rq_burst("default")

    assert files_in(empty_uploads) == []
