"""EDM_HTTPS and the proxy's headers, with production-like settings.

Settings are read from the environment once, when Django starts, so each case starts a fresh
`manage.py` with its environment and asks it through Django's test client.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "edm.example.com"

# Prints, as JSON, how the web process answers a few requests to HOST. Pages are rendered
# with plain static storage: production's manifest needs a collectstatic that is not the
# point here.
PROBE = f"""
import json
from django.conf import settings
from django.test import Client, override_settings

override_settings(STORAGES={{
    **settings.STORAGES,
    "staticfiles": {{"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
}}).enable()
client = Client(HTTP_HOST={HOST!r})
answers = {{}}
for name, path, extra in [
    ("plain", "/login/", {{}}),
    ("tls", "/login/", {{"secure": True}}),
    ("healthz", "/healthz", {{}}),
    ("forwarded", "/login/", {{"HTTP_X_FORWARDED_PROTO": "https"}}),
]:
    response = client.get(path, **extra)
    answers[name] = {{
        "status": response.status_code,
        "location": response.get("Location"),
        "hsts": response.get("Strict-Transport-Security"),
        "csrf_cookie_secure": bool(response.cookies["csrftoken"]["secure"])
        if "csrftoken" in response.cookies
        else None,
    }}
answers["session_cookie_secure"] = settings.SESSION_COOKIE_SECURE
print(json.dumps(answers))
"""


def production(tmp_path: Path, **variables: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "EDM_VAR_DIR": str(tmp_path),
        "REDIS_URL": os.environ["REDIS_URL"],  # the suite's own (tests/services.py)
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        **variables,
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def probe(env: dict[str, str]) -> dict:
    result = manage(env, "shell", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def behind_tls(tmp_path_factory):
    return probe(production(tmp_path_factory.mktemp("https"), EDM_HTTPS="true"))


def test_with_edm_https_plain_http_is_redirected_to_https(behind_tls):
    assert behind_tls["plain"]["status"] == 301
    assert behind_tls["plain"]["location"] == f"https://{HOST}/login/"


def test_with_edm_https_browsers_are_told_to_use_https_only(behind_tls):
    assert behind_tls["tls"]["status"] == 200
    assert behind_tls["tls"]["hsts"] == "max-age=31536000"
    assert behind_tls["tls"]["csrf_cookie_secure"] is True
    assert behind_tls["session_cookie_secure"] is True


def test_with_edm_https_healthz_still_answers_over_plain_http(behind_tls):
    assert behind_tls["healthz"]["status"] == 200


def test_a_forwarded_proto_header_is_not_believed_unless_configured(behind_tls):
    assert behind_tls["forwarded"]["status"] == 301


def test_the_configured_proxy_header_marks_requests_as_https(tmp_path):
    answers = probe(
        production(
            tmp_path,
            EDM_HTTPS="true",
            EDM_PROXY_SSL_HEADER="X-Forwarded-Proto",
            EDM_HSTS_INCLUDE_SUBDOMAINS="true",
        )
    )
    assert answers["forwarded"]["status"] == 200
    assert answers["forwarded"]["hsts"] == "max-age=31536000; includeSubDomains"


def test_without_edm_https_nothing_is_redirected(tmp_path):
    answers = probe(production(tmp_path))
    assert answers["plain"]["status"] == 200
    assert answers["tls"]["hsts"] is None


def test_check_deploy_with_production_settings_says_only_what_deploy_docs_explain(tmp_path):
    result = manage(production(tmp_path, EDM_HTTPS="true"), "check", "--deploy")
    assert result.returncode == 0, result.stderr
    reported = set(re.findall(r"\(([a-z_]+\.[WE]\d+)\)", result.stdout + result.stderr))
    explained = (ROOT / "deploy" / "README.md").read_text()
    assert {check for check in reported if f"`{check}`" not in explained} == set()
