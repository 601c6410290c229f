"""`make run`: every process of the product in one foreground command.

Runs the processes listed by `processes()` as children, prefixes each line they print with
the child's name, and stops them all on Ctrl-C/SIGTERM (or when any one of them dies, which
ends the run with a non-zero status rather than limping on). A lock file in var/ makes a
second `make run` say so instead of sharing the SQLite file and the Redis socket.

To add a process (the bounce receiver, the capture SMTP server…) add one `Process` entry to
`processes()`. This module does not import Django: it only starts programs.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edm import config, embedded_redis, queues

APP_GRACE_SECONDS = 5.0  # web and workers: SIGTERM, then SIGKILL of the whole group
INFRA_GRACE_SECONDS = 3.0  # then Redis; both phases end well within 10 s
READY_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    # Infrastructure starts first, must be ready before the next entry starts, stops last.
    infrastructure: bool = False
    ready: Callable[[], bool] | None = None
    env: dict[str, str] = field(default_factory=dict)
    # A loopback TCP port it listens on, checked free before anything starts.
    port: int | None = None
    port_setting: str = ""


def workers(python: str, manage: str) -> list[Process]:
    """Two of each worker, one per core: the blocking engine's rqworkers take every queue;
    with EDM_DELIVERY_ENGINE=async, deliveryworkers take the delivery queue and the
    rqworkers the others (RQ's scheduler runs in the first rqworker either way)."""
    if config.delivery_engine() != "async":
        return [
            Process("worker", [python, manage, "rqworker", "--with-scheduler", *queues.ALL]),
            Process("worker-2", [python, manage, "rqworker", *queues.ALL]),
        ]
    others = [name for name in queues.ALL if name != queues.DELIVERY]
    return [
        Process("worker", [python, manage, "rqworker", "--with-scheduler", *others]),
        Process("delivery", [python, manage, "deliveryworker"]),
        Process("delivery-2", [python, manage, "deliveryworker"]),
    ]


def processes(port: int) -> list[Process]:
    """What `make run` runs, in start order."""
    python = sys.executable
    manage = str(config.BASE_DIR / "manage.py")
    entries: list[Process] = []
    if config.uses_embedded_redis():
        entries.append(embedded_redis_process())
    entries += [
        Process(
            "web",
            [python, manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
            port=port,
            port_setting="make run PORT=…",
        ),
        *workers(python, manage),
        Process("cron", [python, manage, "rqcron", "delivery.cron"]),
    ]
    entries.append(
        Process(
            "bounce-in",
            [python, manage, "bounce_server"],
            port=config.bounce_listen()[1],
            port_setting="EDM_BOUNCE_LISTEN",
        )
    )
    if config.delivery_mode() == "capture":
        entries.append(
            Process(
                "capture",
                [python, manage, "capture_server"],
                port=config.capture_port(),
                port_setting="EDM_CAPTURE_PORT",
            )
        )
    return entries


def embedded_redis_process() -> Process:
    """A private Redis server on a unix socket in var/."""
    sock = config.embedded_redis_socket()
    return Process(
        name="redis",
        argv=embedded_redis.server_argv(sock, config.var_dir()),
        infrastructure=True,
        ready=lambda: embedded_redis.answers(sock),
    )


class Output:
    """Prints children's lines with a name prefix, one whole line at a time."""

    COLOURS = ("36", "33", "35", "32", "34", "31")

    def __init__(self, names: list[str]):
        self.width = max(len(n) for n in [*names, "launcher"])
        self.colour = sys.stdout.isatty()
        self.lock = threading.Lock()
        self.codes = {name: self.COLOURS[i % len(self.COLOURS)] for i, name in enumerate(names)}

    def line(self, name: str, text: str) -> None:
        prefix = f"{name:<{self.width}} |"
        if self.colour:
            prefix = f"\033[{self.codes.get(name, '1')}m{prefix}\033[0m"
        with self.lock:
            sys.stdout.write(f"{prefix} {text.rstrip()}\n")
            sys.stdout.flush()

    def say(self, text: str) -> None:
        self.line("launcher", text)


class Child:
    def __init__(self, process: Process, output: Output):
        self.process = process
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **process.env}
        # Own session: Ctrl-C reaches only the launcher, which stops children in order, and
        # killpg() reaches grandchildren too (RQ's forked work horses).
        self.popen = subprocess.Popen(
            process.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.pump = threading.Thread(target=self._pump, args=(output,), daemon=True)
        self.pump.start()

    def _pump(self, output: Output) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            output.line(self.process.name, raw.decode("utf-8", "replace"))

    @property
    def name(self) -> str:
        return self.process.name

    def running(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)


def _die_with_parent() -> None:
    """In the child, before exec: be killed if the launcher itself is killed (SIGKILL gives it
    no chance to stop its children), so nothing is ever left behind. Linux's PR_SET_PDEATHSIG."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


class Launcher:
    def __init__(self, entries: list[Process], output: Output):
        self.entries = entries
        self.output = output
        self.children: list[Child] = []
        self.stop_requested: str | None = None

    def request_stop(self, signum: int, _frame) -> None:
        self.stop_requested = signal.Signals(signum).name

    def run(self, before_apps: Callable[[], bool]) -> int:
        """Start everything, wait for a stop or a death, stop everything; the exit status."""
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        status = 0
        try:
            status = self._start_all(before_apps)
            if status == 0:
                status = self._watch()
        finally:
            self._stop_all()
        return status

    def _start_all(self, before_apps: Callable[[], bool]) -> int:
        infra = [p for p in self.entries if p.infrastructure]
        apps = [p for p in self.entries if not p.infrastructure]
        for process in infra:
            if not self._start(process):
                return 1
        if not before_apps():
            return 1
        for process in apps:
            if not self._start(process):
                return 1
        return 0

    def _start(self, process: Process) -> bool:
        if self.stop_requested:
            return False
        child = Child(process, self.output)
        self.children.append(child)
        if process.ready is None:
            return True
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not self.stop_requested:
            if not child.running():
                self.output.say(f"{process.name} exited with status {child.popen.returncode}")
                return False
            if process.ready():
                return True
            time.sleep(0.1)
        self.output.say(f"{process.name} did not become ready in {READY_TIMEOUT_SECONDS:.0f} s")
        return False

    def _watch(self) -> int:
        while not self.stop_requested:
            for child in self.children:
                if not child.running():
                    self.output.say(
                        f"{child.name} exited unexpectedly with status {child.popen.returncode}; "
                        "stopping everything."
                    )
                    return 1
            time.sleep(0.2)
        self.output.say(f"{self.stop_requested} received; stopping.")
        return 0

    def _stop_all(self) -> None:
        apps = [c for c in self.children if not c.process.infrastructure]
        infra = [c for c in self.children if c.process.infrastructure]
        self._stop(apps, APP_GRACE_SECONDS)
        self._stop(infra, INFRA_GRACE_SECONDS)
        for child in self.children:
            child.pump.join(timeout=1)

    def _stop(self, children: list[Child], grace: float) -> None:
        for child in children:
            if child.running():
                # The leader only: an RQ worker finishes its current job on a warm shutdown.
                child.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in children:
            try:
                child.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.output.say(f"{child.name} did not stop in {grace:.0f} s; killing it.")
            # Whatever is left in the group (a work horse, a stuck leader) goes now.
            child.signal_group(signal.SIGKILL)
            child.popen.wait()


def take_lock(path: Path):
    """Hold var/run.lock for the life of this process, or return None if another run has it."""
    handle = open(path, "a+")  # noqa: SIM115 - kept open on purpose: closing releases the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def prepare(output: Output) -> bool:
    """Migrate the database and make sure an admin login exists (printed for the user)."""
    manage = [sys.executable, str(config.BASE_DIR / "manage.py")]
    for step in (["migrate", "--noinput"], ["ensure_admin"]):
        result = subprocess.run([*manage, *step], capture_output=True, text=True, check=False)
        for text in (result.stdout + result.stderr).splitlines():
            output.line("setup", text)
        if result.returncode != 0:
            output.say(f"`manage.py {step[0]}` failed with status {result.returncode}.")
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole EDM product in one terminal.")
    parser.add_argument("--port", type=int, default=8000, help="web port (default 8000)")
    args = parser.parse_args(argv)

    try:
        config.delivery_mode()  # fail before starting anything on a bad configuration
        lock_path = config.var_dir() / "run.lock"
    except config.ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    lock = take_lock(lock_path)
    if lock is None:
        pid = lock_path.read_text().strip() or "unknown"
        print(
            f"EDM is already running (launcher pid {pid}) with this var/ directory. "
            f"Use that one, or stop it with Ctrl-C first.",
            file=sys.stderr,
        )
        return 1
    entries = processes(args.port)
    for process in entries:
        if process.port is not None and not port_is_free(process.port):
            print(
                f"Port {process.port} on 127.0.0.1, needed by {process.name}, is taken by "
                f"another program. Stop it or choose another port ({process.port_setting}).",
                file=sys.stderr,
            )
            return 1
    output = Output([*(p.name for p in entries), "setup"])
    output.say(f"var/ is {config.var_dir()}; delivery mode {config.delivery_mode()}.")

    def before_apps() -> bool:
        if not prepare(output):
            return False
        output.say(f"Dashboard: http://127.0.0.1:{args.port}/  (Ctrl-C stops everything)")
        return True

    status = Launcher(entries, output).run(before_apps)
    output.say("stopped." if status == 0 else f"stopped with status {status}.")
    return status


if __name__ == "__main__":
    sys.exit(main())
