"""Many SMTP sessions from one process: asyncio streams against threads, 50 ms per reply.

    .venv/bin/python bench/bench_sessions.py [--sessions 50,200,500] [--messages 20]
                                             [--delay 0.05] [--rounds 3] [--work-ms 0]

One sink process (tests/smtpsink.py) delays every reply by `--delay` seconds, as a round
trip to a distant server would. For each number of sessions N and each model, a fresh
process opens N sessions at once to it and sends `--messages` messages of 20 KB on each
(one recipient each, PIPELINING), then QUITs:

- asyncio: N `delivery.asmtp.AsyncSession`s in one event loop;
- threads: N threads, each running the blocking `delivery.smtp.Session`.

`--work-ms` spends that much Python CPU (the GIL held) before each message, standing in for
rendering and signing it (~1 ms a message in the engine today): what the two models do
when Python work competes with the waiting.

Printed per row: messages/s from the first connect to the last QUIT, and the ideal (N
sessions × one message per two round trips: MAIL+RCPT+DATA pipelined, then the message and
its final dot); the client's CPU seconds per message (user + system, every thread); its peak
RSS and the RSS it had before opening any session; and the sink's CPU share, to show the sink
was not what limited the row. Only loopback is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_smtp import build_message  # noqa: E402
from delivery.asmtp import AsyncSession  # noqa: E402
from delivery.smtp import Session, TlsPolicy  # noqa: E402
from tests.smtpsink import Behaviour, SinkProcess  # noqa: E402

SENDER = "bounces+1@edm.example.org"
HELO = "bench.edm.example.org"
MODELS = ("asyncio", "threads")


def rss_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0])


def build(data: bytes, work: float) -> bytes:
    """The message, after `work` seconds of this thread's CPU in Python (GIL held), as
    rendering and signing a message would take."""
    until = time.thread_time() + work
    while time.thread_time() < until:
        pass
    return data


def with_asyncio(port: int, sessions: int, messages: int, data: bytes, work: float) -> int:
    async def one(n: int) -> int:
        session = AsyncSession(
            "sink.test", port, address="127.0.0.1", helo_name=HELO, tls_policy=TlsPolicy.NONE
        )
        async with session:
            for i in range(messages):
                message = build(data, work)
                reply = await session.send(SENDER, f"user{n}.{i}@example.com", message)
                if not reply.ok:
                    raise RuntimeError(f"sink refused: {reply}")
        return messages

    async def main() -> int:
        return sum(await asyncio.gather(*(one(n) for n in range(sessions))))

    return asyncio.run(main())


def with_threads(port: int, sessions: int, messages: int, data: bytes, work: float) -> int:
    sent = []

    def one(n: int) -> None:
        session = Session(
            "sink.test", port, address="127.0.0.1", helo_name=HELO, tls_policy=TlsPolicy.NONE
        )
        with session:
            for i in range(messages):
                message = build(data, work)
                reply = session.send(SENDER, f"user{n}.{i}@example.com", message)
                if not reply.ok:
                    raise RuntimeError(f"sink refused: {reply}")
        sent.append(messages)  # list.append is atomic under the GIL

    threads = [threading.Thread(target=one, args=(n,)) for n in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(sent)


def child(model: str, port: int, sessions: int, messages: int, work: float) -> None:
    """One measured row, in a fresh process: prints its figures as JSON."""
    data = build_message(20 * 1024)
    before = rss_kib()
    cpu = time.process_time()
    started = time.perf_counter()
    run = with_asyncio if model == "asyncio" else with_threads
    sent = run(port, sessions, messages, data, work)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps({"sent": sent, "elapsed": elapsed, "cpu": cpu, "peak": peak, "before": before})
    )


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    model: str, sink: SinkProcess, sessions: int, messages: int, work: float
) -> tuple[dict, float]:
    """One row's figures from a fresh process, and the sink's CPU share meanwhile."""
    sink_cpu = process_cpu(sink.pid)
    run = subprocess.run(
        [sys.executable, __file__, "--child", model, "--port", str(sink.port),
         "--sessions", str(sessions), "--messages", str(messages), "--work-ms", str(work * 1000)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    row = json.loads(run.stdout)
    if row["sent"] != sessions * messages:
        raise SystemExit(f"{model}: {row['sent']} of {sessions * messages} sent\n{run.stderr}")
    return row, (process_cpu(sink.pid) - sink_cpu) / row["elapsed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="50,200,500")
    parser.add_argument("--messages", type=int, default=20, help="per session")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds before every reply")
    parser.add_argument("--rounds", type=int, default=3, help="best (by msg/s) of this many")
    parser.add_argument(
        "--work-ms", type=float, default=0.0, help="Python CPU per message before it is sent"
    )
    parser.add_argument("--child", choices=MODELS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.port, int(args.sessions), args.messages, args.work_ms / 1000)
        return

    print(
        f"{args.messages} messages of 20 KB per session, "
        f"{args.delay * 1000:g} ms before every reply, {args.work_ms:g} ms of Python CPU to "
        f"build each, best of {args.rounds}"
    )
    print(
        f"{'model':<9}{'sessions':>9}{'msg/s':>8}{'ideal':>7}{'CPU ms/msg':>11}"
        f"{'peak RSS MiB':>13}{'before':>7}{'sink CPU':>9}"
    )
    with SinkProcess(Behaviour(reply_delay=args.delay)) as sink:
        for sessions in (int(n) for n in args.sessions.split(",")):
            for model in MODELS:
                row, sink_share = max(
                    (
                        measure(model, sink, sessions, args.messages, args.work_ms / 1000)
                        for _ in range(args.rounds)
                    ),
                    key=lambda measured: measured[0]["sent"] / measured[0]["elapsed"],
                )
                ideal = sessions / (2 * args.delay)
                print(
                    f"{model:<9}{sessions:>9}{row['sent'] / row['elapsed']:>8.0f}{ideal:>7.0f}"
                    f"{1000 * row['cpu'] / row['sent']:>11.2f}{row['peak'] / 1024:>13.0f}"
                    f"{row['before'] / 1024:>7.0f}{sink_share:>8.0%} "
                )


if __name__ == "__main__":
    main()
