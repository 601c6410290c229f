"""The accuracy bar: the parser against Sisimai's answers for 586 real bounces, complaints and
auto-replies (tests/data/bounce-corpus, scored by the corpus's own score.py)."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

CORPUS = Path(__file__).resolve().parents[2] / "data" / "bounce-corpus"
BARS = ["--min-recall", "0.95", "--min-precision", "0.98", "--min-reason", "0.85"]
BARS += ["--min-hard", "0.95"]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """`parse_bounce --json` over every corpus message, as the scorer reads it."""
    files = sorted(str(p) for p in (CORPUS / "emails").rglob("*.eml"))
    out = io.StringIO()
    call_command("parse_bounce", "--json", *files, stdout=out)
    path = tmp_path_factory.mktemp("corpus") / "results.jsonl"
    path.write_text(out.getvalue())
    return path


@pytest.fixture(scope="module")
def kinds(results) -> dict[str, str]:
    """kind per corpus file name (relative to emails/)."""
    return {row["file"].split("emails/", 1)[1]: row["kind"] for row in load(results)}


def test_corpus_meets_the_accuracy_bars(results, capsys):
    scored = subprocess.run(
        [sys.executable, str(CORPUS / "score.py"), str(results), *BARS],
        capture_output=True,
        text=True,
        check=False,
    )
    with capsys.disabled():
        print("\nbounce corpus:\n" + scored.stdout)
    assert scored.returncode == 0, scored.stdout + scored.stderr


def test_every_complaint_is_recognised(kinds):
    complaints = {e["file"] for e in load(CORPUS / "expected.jsonl") if e["reason"] == "feedback"}
    assert complaints
    assert {f: kinds[f] for f in complaints if kinds[f] != "complaint"} == {}


def test_no_autoreply_success_notice_or_ordinary_message_is_taken_for_a_bounce(kinds):
    expected = load(CORPUS / "expected.jsonl")
    bounces = {e["file"] for e in expected if e["is_bounce"]}
    quiet = {e["file"] for e in expected if e["reason"] in ("vacation", "delivered")} - bounces
    quiet |= {n["file"] for n in load(CORPUS / "negatives.jsonl")}
    assert len(quiet) >= 10
    assert {f: kinds[f] for f in quiet if kinds[f] in ("bounce", "complaint")} == {}
