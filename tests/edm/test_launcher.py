"""`make run`'s launcher, run for real on embedded defaults in a temporary var/."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from edm import launcher
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]


def processes_marked(marker: str) -> list[int]:
    """Pids of live processes whose environment contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


class Run:
    """One launcher process whose output lines are collected as they arrive."""

    def __init__(self, var_dir: Path, port: int):
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        env["EDM_VAR_DIR"] = str(var_dir)
        env["EDM_CAPTURE_PORT"] = str(free_port())
        env["EDM_BOUNCE_LISTEN"] = f"127.0.0.1:{free_port()}"
        self.marker = f"EDM_VAR_DIR={var_dir}"
        self.port = port
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "edm.launcher", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 90) -> str:
        """The first line containing `text`, printed already or within `timeout`."""
        for line in self.output:
            if text in line:
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            self.output.append(line)
            if text in line:
                return line
        pytest.fail(f"{text!r} not printed; output so far:\n{''.join(self.output)}")

    def rest(self) -> str:
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return "".join(self.output)

    def get(self, path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def wait_until_serving(self) -> None:
        self.wait_for("Dashboard: http://127.0.0.1:")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.get("/healthz")
                return
            except OSError:
                time.sleep(0.2)
        pytest.fail("the web server never answered")


@pytest.fixture
def launch(tmp_path):
    runs: list[Run] = []

    def start(var_dir: Path | None = None, port: int | None = None) -> Run:
        run = Run(var_dir or tmp_path / "var", port or free_port())
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.popen.poll() is None:
            run.popen.kill()
        for pid in processes_marked(run.marker):
            os.kill(pid, signal.SIGKILL)


def test_run_serves_on_embedded_defaults_and_ctrl_c_leaves_nothing(launch, tmp_path):
    run = launch()
    login = run.wait_for("admin login")
    assert "password" in login
    run.wait_until_serving()
    run.wait_for("capture.localhost: SMTP server listening")
    run.wait_for("Listening on")  # the worker
    run.wait_for("bounces.localhost: SMTP server listening")

    status, health = run.get("/healthz")
    assert status == 200
    # Anonymous callers are told ok or failing only; the sqlite file and the "redis" process
    # below show the embedded defaults were used.
    assert health == {"status": "ok", "database": {"ok": True}, "redis": {"ok": True}}
    assert (tmp_path / "var" / "edm.sqlite3").exists()
    names = {line.split("|")[0].strip() for line in run.output if "|" in line}
    assert {"launcher", "redis", "setup", "web", "worker", "capture", "bounce-in"} <= names

    second = launch(var_dir=tmp_path / "var")
    assert second.popen.wait(timeout=30) == 1
    assert "already running" in second.rest()

    run.popen.send_signal(signal.SIGINT)
    started = time.monotonic()
    assert run.popen.wait(timeout=15) == 0
    assert time.monotonic() - started < 10
    assert processes_marked(run.marker) == []

    again = launch(var_dir=tmp_path / "var")
    assert "from" in again.wait_for("Admin login: user admin")  # reused, not recreated
    again.wait_until_serving()
    again.popen.send_signal(signal.SIGTERM)
    assert again.popen.wait(timeout=15) == 0
    assert processes_marked(again.marker) == []


def test_a_child_that_dies_stops_the_whole_run(launch):
    run = launch()
    run.wait_until_serving()
    run.wait_for("Listening on")  # the worker is up
    workers = [
        pid
        for pid in processes_marked(run.marker)
        if b"rqworker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert workers
    os.kill(min(workers), signal.SIGKILL)  # the worker's main process, not its scheduler

    assert run.popen.wait(timeout=15) == 1
    assert "exited unexpectedly" in run.rest()
    assert processes_marked(run.marker) == []


def test_killing_the_launcher_itself_takes_its_children_along(launch):
    run = launch()
    run.wait_until_serving()
    run.wait_for("Listening on")
    assert len(processes_marked(run.marker)) >= 5  # launcher, redis, web, workers, cron…

    run.popen.kill()  # SIGKILL: the launcher cannot stop anything itself
    run.popen.wait(timeout=10)
    deadline = time.monotonic() + 10
    while processes_marked(run.marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_marked(run.marker) == []


def test_with_the_async_engine_deliveryworkers_take_the_delivery_queue_and_rqworkers_the_rest(
    monkeypatch,
):
    monkeypatch.setenv("EDM_DELIVERY_ENGINE", "async")
    entries = {p.name: p.argv for p in launcher.processes(8000)}

    assert [name for name, argv in entries.items() if "deliveryworker" in argv] == [
        "delivery",
        "delivery-2",
    ]
    rqworkers = [argv for argv in entries.values() if "rqworker" in argv]
    assert rqworkers and all("delivery" not in argv for argv in rqworkers)
    assert any("--with-scheduler" in argv for argv in rqworkers)


def test_with_the_blocking_engine_rqworkers_take_every_queue(monkeypatch):
    monkeypatch.delenv("EDM_DELIVERY_ENGINE", raising=False)
    entries = {p.name: p.argv for p in launcher.processes(8000)}

    assert not any("deliveryworker" in argv for argv in entries.values())
    assert all("delivery" in entries[name] for name in ("worker", "worker-2"))
