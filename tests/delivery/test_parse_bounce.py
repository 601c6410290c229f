"""python manage.py parse_bounce: parsed bounces as JSON lines or a readable summary."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

EMAILS = Path(__file__).resolve().parents[1] / "data" / "bounce-corpus" / "emails"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("parse_bounce", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_json_prints_one_object_per_file_in_the_scorer_format():
    files = [str(EMAILS / "lhost-exim-02.eml"), str(EMAILS / "arf-01.eml")]
    rows = [json.loads(line) for line in run("--json", *files).splitlines()]
    assert [r["file"] for r in rows] == files
    assert [r["kind"] for r in rows] == ["bounce", "complaint"]
    first = rows[0]["recipients"][0]
    assert {"address", "status", "reply_code", "reason", "hard"} <= set(first)
    assert first["reply_code"] == "550"


def test_summary_is_readable():
    text = run(str(EMAILS / "lhost-exim-02.eml"))
    assert "bounce (exim)" in text
    assert "kijitora@example.jp: userunknown [hard] 550 5.1.1" in text


def test_unreadable_file_is_reported_after_the_others(tmp_path):
    good = str(EMAILS / "arf-01.eml")
    with pytest.raises(CommandError, match="1 file"):
        call_command(
            "parse_bounce",
            "--json",
            str(tmp_path / "missing.eml"),
            good,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
