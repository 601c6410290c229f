"""A sender domain's DNS check as the dashboard keeps it: the findings in the database
(`SenderDomain.check_result`), and "a check is running" in Redis.

The running mark expires by itself, so a check whose job was lost (Redis flushed, worker
killed) stops showing as running after `PENDING_SECONDS` and the user can press the button
again.
"""

from __future__ import annotations

from dataclasses import dataclass

from delivery.dnscheck import DomainCheck, Finding, Record, Status
from edm import redis as edm_redis

# A check asks at most four questions of `lifetime` seconds each (delivery/dnscheck.py),
# and its job may wait behind others on the queue.
PENDING_SECONDS = 120


@dataclass(frozen=True)
class StoredCheck:
    """The last DNS check of a sender domain, for the key with `selector`."""

    selector: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(finding.ok for finding in self.findings)

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if not finding.ok)


def check_as_json(check: DomainCheck, *, selector: str) -> dict:
    """What `SenderDomain.check_result` stores of a finished check."""
    return {
        "selector": selector,
        "findings": [
            {
                "record": finding.record.value,
                "status": finding.status.value,
                "name": finding.name,
                "found": list(finding.found),
                "problem": finding.problem,
                "publish": finding.publish,
            }
            for finding in check.findings
        ],
    }


def check_from_json(data: dict) -> StoredCheck | None:
    """The stored check, or None when the domain was never checked (with its current key)."""
    if not data or "findings" not in data:
        return None
    findings = tuple(
        Finding(
            record=Record(item["record"]),
            status=Status(item["status"]),
            name=item["name"],
            found=tuple(item["found"]),
            problem=item["problem"],
            publish=item["publish"],
        )
        for item in data["findings"]
    )
    return StoredCheck(data.get("selector", ""), findings)


def _pending_key(sender_domain_id: int) -> str:
    return f"edm:dns-check:{sender_domain_id}"


def pending_mark(sender_domain_id: int) -> None:
    """Note that a check of the sender domain is queued or running."""
    edm_redis.connection().set(_pending_key(sender_domain_id), 1, ex=PENDING_SECONDS)


def pending_clear(sender_domain_id: int) -> None:
    edm_redis.connection().delete(_pending_key(sender_domain_id))


def pending_ids(sender_domain_ids: list[int]) -> set[int]:
    """Which of these sender domains have a check queued or running (one Redis round trip)."""
    if not sender_domain_ids:
        return set()
    marks = edm_redis.connection().mget([_pending_key(i) for i in sender_domain_ids])
    return {i for i, mark in zip(sender_domain_ids, marks, strict=True) if mark is not None}
