"""Bounce parsing speed: messages per second over the bounce corpus, and classify_reply calls
per second.

    .venv/bin/python bench/bench_bounces.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from delivery.bounces import classify_reply, parse  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "bounce-corpus" / "emails"
REPLIES = [
    (550, "5.1.1", "<kijitora@example.org>: Recipient address rejected: User unknown", "RCPT"),
    (552, "5.2.2", "Mailbox full", "RCPT"),
    (421, "4.7.0", "[TSS04] Messages from 192.0.2.1 temporarily deferred", "MAIL"),
    (554, "5.7.1", "Client host [192.0.2.1] blocked using zen.spamhaus.org", None),
    (550, None, "Requested action not taken: mailbox unavailable", "DATA"),
]


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--rounds", type=int, default=5)
    rounds = options.parse_args().rounds

    messages = [p.read_bytes() for p in sorted(CORPUS.rglob("*.eml"))]
    size = sum(len(m) for m in messages)
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for raw in messages:
            parse(raw)
        rates.append(len(messages) / (time.perf_counter() - start))
    print(
        f"parse: {len(messages)} corpus messages ({size / len(messages) / 1024:.1f} KiB average), "
        f"median {statistics.median(rates):,.0f} messages/s over {rounds} rounds "
        f"(best {max(rates):,.0f})"
    )

    calls = 20_000
    start = time.perf_counter()
    for i in range(calls):
        classify_reply(*REPLIES[i % len(REPLIES)])
    print(f"classify_reply: {calls / (time.perf_counter() - start):,.0f} replies/s")


if __name__ == "__main__":
    main()
