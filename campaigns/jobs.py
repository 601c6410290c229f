"""RQ jobs of the campaigns app: thin glue that takes ids and calls one service."""

from __future__ import annotations

from campaigns.services import import_runner, signups, uploads


def import_contacts(import_id: int) -> None:
    """Run import `import_id` (queued by `import_start`); safe to run again after a crash."""
    import_runner.import_run(import_id)


def uploads_sweep() -> int:
    """Delete uploaded files older than a day that no import names (run by the cron process)."""
    return uploads.uploads_sweep()


def signup_process(values: dict) -> None:
    """Act on one sign-up form submission (queued for every well-formed one)."""
    signups.signup_process(values)
