"""SMTP client throughput on loopback: smtplib, our Session and AsyncSession, into smtp-sink.

    .venv/bin/python bench/bench_smtp.py [--messages 5000] [--size 20480] [--rounds 3]

Each row sends `--messages` messages of `--size` bytes (a quoted-printable HTML body, CRLF,
as delivery builds them) over one connection per process, one recipient per message, and
prints messages per second (best of `--rounds`) and the client's CPU time per message. Rows:

- smtplib: `SMTP.sendmail()` per message (no PIPELINING; regex dot-stuffing).
- Session: our client; the sink offers PIPELINING, so MAIL+RCPT+DATA go in one write.
- Session, no PIPELINING: the same against `smtp-sink -p`, to separate the two effects.
- AsyncSession: the asyncio client (delivery/asmtp.py), one session in an event loop: what
  the event loop and streams cost per message against the blocking client.
- smtp-source: Postfix's C client (`-d`, same size), the ceiling of the sink and the machine.

Needs `smtp-sink` and `smtp-source` (Debian package postfix). Only loopback is used.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import time

from delivery.asmtp import AsyncSession
from delivery.smtp import Session, TlsPolicy

HOST = "127.0.0.1"
SENDER = "bounces+123@edm.example.org"


def build_message(size: int) -> bytes:
    """A message of about `size` bytes with a quoted-printable HTML body."""
    head = (
        b"From: News <news@edm.example.org>\r\nTo: <someone@example.com>\r\n"
        b"Subject: Weekly news\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    line = b'<p style=3D"margin:0 0 12px 0;font-family:Arial">Lorem ipsum dolor sit am=\r\n'
    return head + line * max(1, (size - len(head)) // len(line))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_sink(*options: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []  # smtp-sink refuses to run as root
    sink = subprocess.Popen(["smtp-sink", *user, *options, f"{HOST}:{port}", "256"])
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return sink, port
        except OSError:
            if time.monotonic() > deadline:
                sink.kill()
                raise
            time.sleep(0.05)


def send_smtplib(port: int, count: int, data: bytes) -> None:
    client = smtplib.SMTP(HOST, port)
    client.ehlo("bench.edm.example.org")
    for i in range(count):
        client.sendmail(SENDER, [f"user{i}@example.com"], data)
    client.quit()


def send_session(port: int, count: int, data: bytes) -> None:
    session = Session(HOST, port, helo_name="bench.edm.example.org", tls_policy=TlsPolicy.NONE)
    with session:
        for i in range(count):
            reply = session.send(SENDER, f"user{i}@example.com", data)
            if not reply.ok:
                raise RuntimeError(f"sink refused: {reply}")


def send_async_session(port: int, count: int, data: bytes) -> None:
    async def main() -> None:
        session = AsyncSession(
            HOST, port, helo_name="bench.edm.example.org", tls_policy=TlsPolicy.NONE
        )
        async with session:
            for i in range(count):
                reply = await session.send(SENDER, f"user{i}@example.com", data)
                if not reply.ok:
                    raise RuntimeError(f"sink refused: {reply}")

    asyncio.run(main())


def _worker(args) -> tuple[float, float]:
    client, port, count, data = args
    cpu = time.process_time()
    client(port, count, data)
    return time.process_time() - cpu


def run(client, port: int, count: int, data: bytes, processes: int) -> tuple[float, float]:
    """Messages per second over all processes, and client CPU µs per message."""
    per_process = count // processes
    with multiprocessing.Pool(processes) as pool:
        started = time.perf_counter()
        cpu_seconds = pool.map(_worker, [(client, port, per_process, data)] * processes)
        elapsed = time.perf_counter() - started
    sent = per_process * processes
    return sent / elapsed, sum(cpu_seconds) / sent * 1e6


def run_smtp_source(port: int, count: int, size: int, sessions: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["smtp-source", "-d", "-s", str(sessions), "-l", str(size), "-m", str(count),
         f"{HOST}:{port}"],
        check=True,
    )  # fmt: skip
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--size", type=int, default=20480)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for tool in ("smtp-sink", "smtp-source"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install postfix")

    data = build_message(args.size)
    pipelining_sink, port = start_sink()
    plain_sink, plain_port = start_sink("-p")  # -p: do not offer PIPELINING
    rows = [
        ("smtplib", send_smtplib, port),
        ("Session", send_session, port),
        ("Session, no PIPELINING", send_session, plain_port),
        ("AsyncSession", send_async_session, port),
    ]
    print(f"{args.messages} messages of {len(data)} bytes, best of {args.rounds} rounds")
    print(f"{'client':<24}{'procs':>6}{'msg/s':>10}{'CPU µs/msg':>12}")
    try:
        for processes in (1, 2):
            for name, client, sink_port in rows:
                results = [
                    run(client, sink_port, args.messages, data, processes)
                    for _ in range(args.rounds)
                ]
                rate, cpu = max(results)
                print(f"{name:<24}{processes:>6}{rate:>10.0f}{cpu:>12.0f}")
            source = max(
                run_smtp_source(port, args.messages, args.size, processes)
                for _ in range(args.rounds)
            )
            print(f"{'smtp-source (C)':<24}{processes:>6}{source:>10.0f}{'':>12}")
    finally:
        for sink in (pipelining_sink, plain_sink):
            sink.terminate()
            sink.wait()


if __name__ == "__main__":
    main()
