"""Parse bounce, complaint and auto-reply messages from files and print what they say.

    python manage.py parse_bounce --json FILE...   one JSON object per file (the scorer's format)
    python manage.py parse_bounce FILE...          a readable summary

Nothing is written to the database.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from delivery.bounces import Report, parse
from delivery.bounces.reasons import NOT_BOUNCES


def report_json(path: str, report: Report) -> str:
    """One line of --json output: the file name and the report."""
    return json.dumps({"file": path, **report.as_dict()}, ensure_ascii=False)


def report_summary(path: str, report: Report) -> str:
    """A few readable lines about one report."""
    kind = report.kind.value + (f" ({report.format})" if report.format else "")
    if report.feedback_type:
        kind += f", feedback type {report.feedback_type}"
    lines = [f"{path}: {kind}"]
    for r in report.recipients:
        alias = f" (also {r.alias})" if r.alias else ""
        codes = " ".join(str(c) for c in (r.reply_code, r.status) if c)
        detail = f" {codes}" if codes else ""
        if r.reason not in NOT_BOUNCES:
            detail = f" [{'hard' if r.hard else 'temporary' if r.temporary else 'soft'}]{detail}"
        lines.append(f"  {r.address}{alias}: {r.reason}{detail}")
        if r.diagnostic:
            lines.append(f"    {r.diagnostic[:200]}")
    if report.envelope_recipients:
        lines.append(f"  sent to: {', '.join(report.envelope_recipients)}")
    if report.original_message_id:
        lines.append(f"  original Message-ID: {report.original_message_id}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Parse raw bounce/complaint/auto-reply messages and print the result (no database)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="raw messages (.eml)")
        parser.add_argument("--json", action="store_true", help="one JSON object per file")

    def handle(self, *args, **options):
        unreadable = []
        for name in options["files"]:
            try:
                raw = Path(name).read_bytes()
            except OSError as exc:
                self.stderr.write(f"{name}: {exc.strerror}")
                unreadable.append(name)
                continue
            report = parse(raw)
            show = report_json if options["json"] else report_summary
            self.stdout.write(show(name, report))
        if unreadable:
            raise CommandError(f"{len(unreadable)} file(s) could not be read")
