"""Real RQ workers for tests: `manage.py rqworker` processes on the test database and Redis.

Jobs run exactly as in production: a separate process started with `manage.py rqworker`,
forking a work horse per job, reading the *test* database (DATABASE_URL is rebuilt from the
test connection: `$EDM_VAR_DIR/test.sqlite3`, or `test_<name>` on PostgreSQL) and the
suite's Redis (REDIS_URL and EDM_VAR_DIR are inherited from tests/services.py).

The worker sees only committed rows, so tests that use it need `transactional_db` (both
fixtures request it) and, with Django's on-commit enqueueing, jobs are queued only when the
enqueueing code's transaction commits.

- `rq_burst(*queues)`: run a worker in burst mode until the queues are empty; returns the
  finished process (its output is in `.stdout`) and fails the test if the worker failed.
- `rq_worker`: a worker running in the background for the whole test (for browser tests
  that watch a job progress); stopped at teardown. Its log is printed when the test fails.

Both take the queues of `edm.queues.ALL` by default. With EDM_DELIVERY_ENGINE=async in the
environment, as in production, `rqworker` leaves the `delivery` queue to a `manage.py
deliveryworker` process (delivery/engine/worker.py): `rq_burst` alternates burst runs of
both until the queues are empty, and `WorkerProcess` starts both in one process group (a
SIGKILL of the group kills both).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

from edm import queues as edm_queues

MANAGE = Path(__file__).resolve().parents[1] / "manage.py"


def test_database_url() -> str:
    """DATABASE_URL of the database the tests run on (not the one configured for `make run`)."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    if connection.vendor == "postgresql":
        user = quote(settings.get("USER") or "", safe="")
        password = quote(settings.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings.get("HOST") or "127.0.0.1"
        port = f":{settings['PORT']}" if settings.get("PORT") else ""
        return f"postgres://{credentials}{host}{port}/{quote(settings['NAME'], safe='')}"
    raise NotImplementedError(f"No worker database URL for {connection.vendor}")


test_database_url.__test__ = False  # a helper, not a test, despite its name


def worker_env() -> dict[str, str]:
    """The environment of a worker process: ours, pointed at the test database."""
    return {**os.environ, "DATABASE_URL": test_database_url(), "PYTHONUNBUFFERED": "1"}


def worker_argv(queues: tuple[str, ...], *, burst: bool) -> list[str]:
    # Background workers run RQ's scheduler as production's do: delayed jobs (a batch that
    # found its site busy comes back a little later) need it.
    return [
        sys.executable,
        str(MANAGE),
        "rqworker",
        "--burst" if burst else "--with-scheduler",
        *(queues or edm_queues.ALL),
    ]


def async_engine() -> bool:
    return os.environ.get("EDM_DELIVERY_ENGINE", "blocking") == "async"


def split_queues(queues: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The queues for rqworker, and whether a deliveryworker is needed."""
    queues = queues or edm_queues.ALL
    if not async_engine() or edm_queues.DELIVERY not in queues:
        return queues, False
    return tuple(q for q in queues if q != edm_queues.DELIVERY), True


def delivery_worker_argv(*, burst: bool) -> list[str]:
    return [sys.executable, str(MANAGE), "deliveryworker", *(["--burst"] if burst else [])]


def queued_jobs(queues: tuple[str, ...]) -> int:
    import django_rq

    return sum(django_rq.get_queue(name).count for name in queues or edm_queues.ALL)


def run_burst(*queues: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a burst worker on the queues until they are empty; fails the test if it fails."""
    rq_queues, delivery = split_queues(queues)
    if not delivery:
        return _run_burst(worker_argv(rq_queues, burst=True), timeout)
    for _ in range(20):  # each run may queue jobs for the other (a plan, then its batches…)
        if rq_queues:
            result = _run_burst(worker_argv(rq_queues, burst=True), timeout)
        result = _run_burst(delivery_worker_argv(burst=True), timeout)
        if not queued_jobs(queues):
            return result
    pytest.fail("the queues did not empty in 20 rounds of burst workers")


def _run_burst(argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run(
        argv,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(argv[2:])} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    failures = failed_jobs()
    if failures:
        pytest.fail("jobs failed in the worker:\n" + "\n\n".join(failures))
    return result


def failed_jobs() -> list[str]:
    """What every job in the failed-job registries raised (a job failing is a test failure)."""
    import django_rq
    from rq.registry import FailedJobRegistry

    found = []
    for name in edm_queues.ALL:
        queue = django_rq.get_queue(name)
        registry = FailedJobRegistry(queue=queue)
        for job in queue.job_class.fetch_many(registry.get_job_ids(), connection=queue.connection):
            if job is not None:
                found.append(f"{job.func_name}{job.args}: {job.latest_result().exc_string}")
    return found


class WorkerProcess:
    """A background `manage.py rqworker` process (and `deliveryworker`, see above) and its log.

    Each runs in a process group of its own; `kill()` SIGKILLs every one of them.
    """

    def __init__(self, queues: tuple[str, ...]):
        rq_queues, delivery = split_queues(queues)
        self.log = tempfile.NamedTemporaryFile(prefix="rqworker-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            worker_argv(rq_queues, burst=False),
            env=worker_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes = [self.process]
        if delivery:
            self.processes.append(
                subprocess.Popen(
                    delivery_worker_argv(burst=False),
                    env=worker_env(),
                    stdout=self.log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL every process of the worker (and a work horse of rqworker's, if any)."""
        for process in self.processes:
            os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM lets a running job finish), then SIGKILL after 20 s."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


@pytest.fixture
def rq_burst(transactional_db, redis_db):
    """Call it to run the queued jobs in a real worker process: `rq_burst("imports")`."""
    return run_burst


@pytest.fixture
def rq_worker(transactional_db, redis_db, request):
    """A real worker process serving every queue for the whole test."""
    worker = WorkerProcess(tuple(getattr(request, "param", ()) or ()))
    yield worker
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print(f"--- rqworker log ---\n{worker.output()}")
    worker.stop()
